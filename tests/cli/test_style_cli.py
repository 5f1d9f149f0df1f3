"""`kerasviz texture` and `kerasviz style-transfer` end to end."""

from kerasviz.cli import main
from kerasviz.images import load_image, sample_image, save_image


def test_texture_patch_and_gram(tmp_path):
    example = save_image(tmp_path / "brick.png", sample_image("brick", size=64))
    out = tmp_path / "quilt.png"
    assert main(["--no-progress", "texture", str(example), "--method", "patch", "--size", "80", "--out", str(out)]) == 0
    assert load_image(out).shape == (80, 80, 3)
    out = tmp_path / "gram.png"
    args = ["--no-progress", "texture", str(example), "--size", "48", "--steps", "2", "--out", str(out)]
    assert main(args + ["--backbone", "efficientnet_lite0"]) == 0
    assert load_image(out).shape == (48, 48, 3)


def test_style_transfer_end_to_end(tmp_path, capsys):
    content = save_image(tmp_path / "cat.png", sample_image("chelsea", size=64))
    style = save_image(tmp_path / "coffee.png", sample_image("coffee", size=64))
    out = tmp_path / "stylized.png"
    args = ["--no-progress", "style-transfer", str(content), str(style), str(style), "--steps", "2",
            "--style-weights", "0.5", "0.5", "--backbone", "efficientnet_lite0", "--out", str(out)]
    assert main(args) == 0
    assert load_image(out).shape == (64, 64, 3)
    bad = args[:-2] + ["--style-weights", "0.9", "0.9"]
    assert main(bad) == 2
    assert "style_weights" in capsys.readouterr().err


def test_auto_backbone_falls_back_to_lite0_without_vgg_weights(tmp_path, monkeypatch, capsys):
    import kerasviz.cli.style as style_cli

    monkeypatch.setattr(style_cli, "keras_models_dir", lambda: tmp_path / "no_weights_here")
    example = save_image(tmp_path / "gravel.png", sample_image("gravel", size=48))
    out = tmp_path / "auto.png"
    assert main(["--no-progress", "texture", str(example), "--size", "40", "--steps", "1", "--out", str(out)]) == 0
    assert "using efficientnet_lite0" in capsys.readouterr().out
