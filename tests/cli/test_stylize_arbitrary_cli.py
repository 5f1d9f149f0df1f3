"""`kerasviz stylize IMAGE --style PAINTING`: the arbitrary-style (AdaIN) network from the command line."""

import numpy as np

from kerasviz.cli import main
from kerasviz.faststyle.arbitrary import stylize_arbitrary
from kerasviz.images import load_image


def test_style_alpha_and_preserve_color_write_the_library_result(tmp_path, capsys):
    out = tmp_path / "out.png"
    assert main(["stylize", "skimage:chelsea", "--size", "64", "--style", "painting:udnie", "--alpha", "0.8",
                 "--preserve-color", "--style-size", "48", "--out", str(out)]) == 0
    assert "arbitrary style: painting:udnie, alpha 0.8, colours preserved" in capsys.readouterr().out
    photo = load_image(load_image("skimage:chelsea"), (43, 64))
    expected = stylize_arbitrary(photo, load_image("painting:udnie"), alpha=0.8, preserve_color=True, style_size=48)
    picture = load_image(out)
    assert picture.shape == (43, 64, 3) and np.abs(picture - expected).max() <= 1


def test_several_styles_are_interpolated(tmp_path):
    out = tmp_path / "mix.png"
    assert main(["stylize", "skimage:chelsea", "--size", "48", "--style", "painting:udnie", "painting:great_wave",
                 "--style-weights", "0.25", "0.75", "--style-size", "48", "--out", str(out)]) == 0
    photo = load_image(load_image("skimage:chelsea"), (32, 48))
    styles = [load_image("painting:udnie"), load_image("painting:great_wave")]
    expected = stylize_arbitrary(photo, styles, style_weights=[0.25, 0.75], style_size=48)
    assert np.abs(load_image(out) - expected).max() <= 1


def test_style_errors_are_one_line(tmp_path, capsys):
    out = str(tmp_path / "x.png")
    assert main(["stylize", "skimage:chelsea", "--style", "painting:udnie", "--alpha", "2", "--out", out]) == 2
    assert main(["stylize", "skimage:chelsea", "--style", "painting:udnie", "painting:great_wave",
                 "--style-weights", "1", "--out", out]) == 2
    assert main(["stylize", "skimage:chelsea", "--style", "painting:udnie", "--model", "net.keras", "--out", out]) == 2
    assert main(["stylize", "skimage:chelsea", "--style", str(tmp_path / "none.jpg"), "--out", out]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 4 and all(line.startswith("kerasviz stylize: error:") for line in errors)
    assert "alpha" in errors[0] and "style_weights" in errors[1] and "--model" in errors[2]
