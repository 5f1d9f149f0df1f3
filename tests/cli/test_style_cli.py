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
    """A 96 x 144 photo with --size 64 keeps its aspect (64 x 96; it was squashed to 64 x 64)."""
    content = save_image(tmp_path / "cat.png", sample_image("chelsea", size=(96, 144)))
    style = save_image(tmp_path / "coffee.png", sample_image("coffee", size=64))
    out = tmp_path / "stylized.png"
    args = ["--no-progress", "style-transfer", str(content), str(style), str(style), "--steps", "2", "--size", "64",
            "--style-blend", "0.5", "0.5", "--backbone", "efficientnet_lite0", "--out", str(out)]
    assert main(args) == 0
    assert load_image(out).shape == (43, 64, 3)
    bad = args[:-2] + ["--style-weights", "0.9", "0.9"]  # the old flag name still works
    assert main(bad) == 2
    assert "style_blend" in capsys.readouterr().err
    assert main(args[:-4] + ["--size", "9000"]) == 2
    assert "--size must be 0 or between 32 and 2048" in capsys.readouterr().err


def test_auto_backbone_falls_back_to_vgg16_hed_without_vgg_weights(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("kerasviz.backbones.keras_models_dir", lambda: tmp_path / "no_weights_here")
    example = save_image(tmp_path / "gravel.png", sample_image("gravel", size=48))
    out = tmp_path / "auto.png"
    assert main(["--no-progress", "texture", str(example), "--size", "40", "--steps", "1", "--out", str(out)]) == 0
    assert "using vgg16_hed" in capsys.readouterr().out


def test_out_has_the_o_alias_and_every_flag_has_help(tmp_path):
    import argparse

    from kerasviz.cli import style as style_cli
    from kerasviz.cli import synthesis as synthesis_cli

    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers()
    style_cli.register(subparsers)
    synthesis_cli.register(subparsers)
    for name, sub in subparsers.choices.items():
        out = [a for a in sub._actions if a.dest == "out"]
        assert out and "-o" in out[0].option_strings and "--out" in out[0].option_strings, name
        missing = [a.option_strings or a.dest for a in sub._actions if not a.help and a.dest != "help"]
        assert not missing, (name, missing)
    example = save_image(tmp_path / "brick.png", sample_image("brick", size=64))
    out = tmp_path / "alias.png"
    assert main(["--no-progress", "texture", str(example), "--method", "patch", "--size", "70", "-o", str(out)]) == 0
    assert load_image(out).shape == (70, 70, 3)


def test_stylize_has_one_owner():
    import argparse

    from kerasviz.cli import style as style_cli

    subparsers = argparse.ArgumentParser().add_subparsers()
    style_cli.register(subparsers)
    assert set(subparsers.choices) == {"texture", "style-transfer"}  # stylize: cli/faststyle.py
