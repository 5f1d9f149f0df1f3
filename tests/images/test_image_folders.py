"""kerasviz.images.folders: the one rule for reading image folders (inspect and fast style)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from kerasviz.errors import ImageError
from kerasviz.images import SkippedImageWarning, list_image_files, readable_image_files, save_image


@pytest.fixture()
def folder(tmp_path):
    pixels = np.zeros((8, 8, 3), np.uint8)
    (tmp_path / "sub").mkdir()
    (tmp_path / ".cache").mkdir()
    save_image(tmp_path / "b.png", pixels)
    save_image(tmp_path / "sub" / "a.jpg", pixels)
    save_image(tmp_path / "c.tif", pixels)
    save_image(tmp_path / ".hidden.png", pixels)
    save_image(tmp_path / ".cache" / "d.png", pixels)
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    return tmp_path


def test_candidates_are_recursive_sorted_and_skip_hidden(folder):
    names = [p[len(str(folder)) + 1 :] for p in list_image_files(folder)]
    assert names == ["b.png", "broken.png", "c.tif", "notes.txt", "sub/a.jpg"]


def test_unreadable_files_are_skipped_with_a_warning(folder):
    with pytest.warns(SkippedImageWarning) as caught:
        files = readable_image_files(folder)
    assert [p.rsplit("/", 1)[-1] for p in files] == ["b.png", "c.tif", "a.jpg"]
    skipped = " ".join(str(w.message) for w in caught)
    assert "notes.txt" in skipped and "broken.png" in skipped and "hidden" not in skipped
    with pytest.warns(SkippedImageWarning, match="c.tif.*TIFF images are not supported"):
        files = readable_image_files(folder, formats=("PNG", "JPEG"))
    assert [p.rsplit("/", 1)[-1] for p in files] == ["b.png", "a.jpg"]
    listed = [str(folder / "b.png"), str(folder / "notes.txt")]
    with pytest.warns(SkippedImageWarning, match="notes.txt"):
        assert readable_image_files(listed) == listed[:1]


def test_folder_errors(tmp_path):
    with pytest.raises(ImageError, match="No such folder"):
        list_image_files(tmp_path / "missing")
    with pytest.raises(ImageError, match="no files"):
        list_image_files(tmp_path)
    (tmp_path / "a.txt").write_text("x")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedImageWarning)
        with pytest.raises(ImageError, match="None of the 1 file.*a.txt"):
            readable_image_files(tmp_path)
    with pytest.raises(ImageError, match="Expected a folder"):
        list_image_files(tmp_path / "a.txt")
