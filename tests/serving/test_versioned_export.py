"""The shared versioned export (`kerasviz.serving.versioned_export`) and `export_explainer` through it:
concurrent exports each get a version, a full disk is an `ExportError`, no version past int64."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import keras
import pytest
import tensorflow as tf

from kerasviz.errors import ExportError, ParameterError
from kerasviz.serving import export_explainer
from kerasviz.serving.versioned_export import export_version, highest_version, next_version
from kerasviz.serving.versions import MAX_VERSION


@pytest.fixture(scope="module")
def classifier():
    pixels = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, name="conv")(pixels)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(pixels, keras.layers.Dense(3, name="logits")(x))


def _fake_write(folder):  # numbering and renaming without the slow SavedModel writer
    folder.mkdir()
    (folder / "saved_model.pb").write_bytes(b"")


def _concurrently(export, n=3):
    """Run `export()` n times at once, every write waiting until all have picked their number."""
    barrier = threading.Barrier(n, timeout=30)

    def write(folder):
        _fake_write(folder)
        barrier.wait()

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: export(write), range(n)))


def test_concurrent_automatic_versions_each_get_their_own_folder(tmp_path):
    folders = _concurrently(lambda write: export_version(tmp_path / "m", None, write))
    assert sorted(int(f.name) for f in folders) == [1, 2, 3]
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["1", "2", "3"]


def test_explicit_versions_and_bad_arguments(tmp_path):
    assert export_version(tmp_path, 5, _fake_write).name == "5"
    assert export_version(tmp_path, None, _fake_write).name == "6"
    with pytest.raises(ParameterError, match="already exists"):
        export_version(tmp_path, 5, _fake_write)
    for bad in (0, -1, MAX_VERSION + 1, "3", 2.0):
        with pytest.raises(ParameterError, match="version"):
            export_version(tmp_path, bad, _fake_write)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ParameterError, match="must be a folder"):
        export_version(tmp_path / "file", None, _fake_write)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["5", "6", "file"]


def test_no_version_after_the_largest_int64(tmp_path):
    (tmp_path / str(MAX_VERSION)).mkdir()
    assert highest_version(tmp_path) == MAX_VERSION
    with pytest.raises(ExportError, match="9223372036854775807"):
        next_version(tmp_path)
    with pytest.raises(ExportError, match="No version number is left"):
        export_version(tmp_path, None, _fake_write)
    assert export_version(tmp_path, 4, _fake_write).name == "4"  # an explicit free one still works
    assert sorted(p.name for p in tmp_path.iterdir()) == ["4", str(MAX_VERSION)]


def _fake_saved_model_save(write):
    """A stand-in for `tf.saved_model.save` that only runs `write(folder)` (fast, no tracing)."""
    return lambda module, folder, signatures=None: write(Path(folder))


def test_concurrent_explainer_exports_each_get_their_own_version(classifier, tmp_path, monkeypatch):
    """Before: raw `OSError: Directory not empty` and a lost export."""
    barrier = threading.Barrier(3, timeout=30)

    def write(folder):
        _fake_write(folder)
        barrier.wait()  # every export has picked its number before any renames

    monkeypatch.setattr(tf.saved_model, "save", _fake_saved_model_save(write))
    with ThreadPoolExecutor(3) as pool:
        folders = list(pool.map(lambda _: export_explainer(classifier, tmp_path / "m", "saliency"), range(3)))
    assert sorted(int(f.name) for f in folders) == [1, 2, 3]
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["1", "2", "3"]


@pytest.mark.parametrize(
    "error", [tf.errors.ResourceExhaustedError(None, None, "out of disk"), OSError(28, "No space left on device")]
)
def test_explainer_disk_full_is_an_export_error(classifier, tmp_path, monkeypatch, error):
    def full(folder):
        _fake_write(folder)
        raise error

    monkeypatch.setattr(tf.saved_model, "save", _fake_saved_model_save(full))
    with pytest.raises(ExportError, match="disk space"):
        export_explainer(classifier, tmp_path / "m", "saliency")
    assert list((tmp_path / "m").iterdir()) == []


def test_explainer_refuses_a_version_past_int64(classifier, tmp_path, monkeypatch):
    monkeypatch.setattr(tf.saved_model, "save", _fake_saved_model_save(_fake_write))
    _fake_write(tmp_path / str(MAX_VERSION))
    with pytest.raises(ExportError, match="No version number is left"):
        export_explainer(classifier, tmp_path, "saliency")
    assert [p.name for p in tmp_path.iterdir()] == [str(MAX_VERSION)]
