"""The synthesis subcommands end to end (tiny sizes and step counts)."""

import pytest

from kerasviz.cli import main
from kerasviz.images import load_image, sample_image, save_image


@pytest.fixture(autouse=True)
def shared_backbone(monkeypatch, lite0):
    """Reuse the session's Lite0 (and its compiled loops); loading is tested by the core CLI tests."""
    monkeypatch.setattr("kerasviz.cli.synthesis.backbone_from_args", lambda args: lite0)


@pytest.fixture(scope="module")
def cat(tmp_path_factory):
    return save_image(tmp_path_factory.mktemp("cli") / "cat.png", sample_image("chelsea", size=224))


def test_visualize_class_and_feature(tmp_path, capsys):
    out = tmp_path / "classes.png"
    assert main(["--no-progress", "visualize-class", "285", "1", "--size", "32", "--steps", "2", "-o", str(out)]) == 0
    assert load_image(out).shape[1] > 64  # a grid of two
    out = tmp_path / "feature.png"
    assert main(["visualize-feature", "block3b_add", "3", "--size", "32", "--steps", "2", "-o", str(out)]) == 0
    assert load_image(out).shape == (32, 32, 3)
    assert "wrote" in capsys.readouterr().out


def test_fool_and_pgd(tmp_path, cat, capsys):
    out = tmp_path / "fool.png"
    assert main(["fool", str(cat), "--target", "1", "-o", str(out)]) == 0
    assert "fooled: Egyptian cat -> goldfish" in capsys.readouterr().out
    assert main(["fool", str(cat), "--eps", "2", "--steps", "3", "-o", str(out)]) == 0
    assert "pgd eps=2" in capsys.readouterr().out


def test_dream_and_invert(tmp_path, cat):
    out = tmp_path / "dream.png"
    assert main(["dream", str(cat), "--size", "64", "--octaves", "1", "--steps", "2", "-o", str(out)]) == 0
    assert load_image(out).shape == (64, 64, 3)
    out = tmp_path / "inv.png"
    assert main(["invert", str(cat), "block2b_add", "--size", "48", "--steps", "2", "-o", str(out)]) == 0
    assert load_image(out).shape == (48, 48, 3)


def test_errors_are_one_line(cat, capsys):
    assert main(["fool", str(cat)]) == 2  # no target and no eps
    assert main(["visualize-class", "1000", "--size", "32", "--steps", "1"]) == 2
    assert main(["invert", str(cat), "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 3 and "Traceback" not in err


def test_layer_is_positional_or_a_flag_like_elsewhere():
    from kerasviz.cli import build_parser
    from kerasviz.cli.synthesis import layer_and_rest
    from kerasviz.errors import ParameterError

    parser = build_parser()
    for argv in (["visualize-feature", "conv", "3", "4"], ["visualize-feature", "--layer", "conv", "3", "4"]):
        assert layer_and_rest(parser.parse_args(argv), "channels") == ("conv", ["3", "4"])
    for argv in (["invert", "x.png", "conv"], ["invert", "x.png", "--layer", "conv"]):
        assert layer_and_rest(parser.parse_args(argv), "layer") == ("conv", [])
    with pytest.raises(ParameterError, match="--layer"):
        layer_and_rest(parser.parse_args(["invert", "x.png"]), "layer")
