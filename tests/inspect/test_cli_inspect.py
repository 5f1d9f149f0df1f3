"""`kerasviz filters | activations | neighbors | embed | patches`, end to end on Lite0."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from kerasviz.cli import main
from kerasviz.images import sample_image, save_image


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    for name in ("chelsea", "coffee", "astronaut", "rocket", "brick", "grass"):
        save_image(folder / f"{name}.jpg", sample_image(name, size=96))
    return folder


def _png(path):
    return np.asarray(Image.open(path))


def test_filters_and_activations(tmp_path, capsys):
    assert main(["--no-progress", "filters", "--out", str(tmp_path / "f.png")]) == 0
    assert _png(tmp_path / "f.png").ndim == 3
    out = tmp_path / "lf.png"
    assert (
        main(["filters", "--layer", "block1a_dwconv", "--max-filters", "2", "--out", str(out)]) == 0
    )
    image = tmp_path / "cat.png"
    save_image(image, sample_image("chelsea", size=96))
    out = tmp_path / "a.png"
    code = main(
        [
            "activations",
            str(image),
            "--layer",
            "stem_activation",
            "--channels",
            "0",
            "3",
            "--out",
            str(out),
        ]
    )
    assert code == 0 and out.exists()
    assert "stem_activation: 2 maps of 112x112" in capsys.readouterr().out  # resized to 224


def test_folder_subcommands(photo_folder, tmp_path, capsys):
    out = tmp_path / "n.png"
    code = main(
        [
            "neighbors",
            str(photo_folder),
            "--queries",
            "0",
            str(photo_folder / "coffee.jpg"),
            "--k",
            "2",
            "--out",
            str(out),
        ]
    )
    assert code == 0 and _png(out).shape[1] > 2 * 3 * 64
    out = tmp_path / "e.png"
    assert (
        main(
            [
                "embed",
                str(photo_folder),
                "--method",
                "pca",
                "--grid",
                "--size",
                "120",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert _png(out).shape == (80, 120, 3)  # 6 images: 3 columns x 2 rows of 40 px cells
    out = tmp_path / "p.png"
    assert (
        main(
            [
                "patches",
                str(photo_folder),
                "--layer",
                "block2b_add",
                "--channel",
                "3",
                "--k",
                "4",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "receptive field 19x19, stride 4" in printed and out.exists()


def test_errors_are_one_line(photo_folder, tmp_path, capsys):
    code = main(
        [
            "patches",
            str(photo_folder),
            "--layer",
            "block2b_add",
            "--channel",
            "999",
            "--out",
            str(tmp_path / "x.png"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "kerasviz patches: error:" in err and "Traceback" not in err
    assert main(["embed", str(tmp_path / "nowhere")]) == 2
    assert main(["neighbors", str(photo_folder), "--queries", "nope.jpg"]) == 2
