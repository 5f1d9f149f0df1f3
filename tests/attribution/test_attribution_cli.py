"""The attribution subcommands end to end through `kerasviz.cli.main`."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from kerasviz.cli import main
from kerasviz.images import load_image as kv_load


@pytest.fixture(scope="module")
def cat_png(tmp_path_factory, chelsea):
    path = tmp_path_factory.mktemp("cli") / "cat.png"
    Image.fromarray(chelsea.astype(np.uint8)).save(path)
    return path


@pytest.fixture
def session_backbone(monkeypatch, lite0):
    """Serve the session's Lite0 instead of loading a fresh copy per command (tracing is the
    slow part); `test_gradcam_defaults_to_the_predicted_class` loads it for real."""
    import kerasviz.cli.attribution as cli

    monkeypatch.setattr(cli, "backbone_from_args", lambda args: lite0)


@pytest.mark.parametrize(
    "command",
    [
        ["saliency"],
        ["smoothgrad", "--samples", "2", "--seed", "0"],
        ["integrated-gradients", "--steps", "2"],
        ["gradient-x-input"],
        ["gradcam"],
        ["gradcam-plus-plus"],
        ["hires-cam", "--layer", "top_activation"],
        ["occlusion", "--patch", "112", "--stride", "112"],
        ["guided-backprop"],
        ["grabcut"],
    ],
    ids=lambda c: c[0],
)
def test_subcommand_writes_a_png(session_backbone, cat_png, tmp_path, capsys, command):
    out = tmp_path / "out.png"
    assert main([command[0], str(cat_png), "--class", "285", "--out", str(out), *command[1:]]) == 0
    picture = np.asarray(Image.open(out))
    assert picture.shape == (224, 224, 3) and picture.std() > 5
    assert "wrote" in capsys.readouterr().out


def test_gradcam_defaults_to_the_predicted_class(lite0, cat_png, tmp_path):
    assert main(["gradcam", str(cat_png), "--out", str(tmp_path / "heat.png")]) == 0


def test_errors_are_one_line(session_backbone, cat_png, tmp_path, capsys):
    assert main(["gradcam", str(cat_png), "--class", "1000", "--out", str(tmp_path / "x.png")]) == 2
    assert main(["gradcam", str(cat_png), "--layer", "predictions", "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "out of range" in err[0] and "4-D" in err[1]


def test_every_registered_technique_has_a_command_with_help_for_every_flag():
    import argparse

    from kerasviz.cli.attribution import HEATMAP_FAMILIES, register
    from kerasviz.registry import TECHNIQUES

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    commands = parser._subparsers._group_actions[0].choices
    techniques = [t for t in TECHNIQUES if t.family in HEATMAP_FAMILIES]
    assert techniques and all(t.command in commands for t in techniques)
    for technique in techniques:
        args = parser.parse_args([technique.command, "x.png"])
        assert args.out == f"{technique.command}.png" and callable(args.handler)
        assert hasattr(args, "class_index") == technique.targeted  # no --class on Eigen-CAM
        for option in technique.options:
            assert option.flag in commands[technique.command].format_help()
        for action in commands[technique.command]._actions:
            if not isinstance(action, argparse._HelpAction):
                assert action.help, f"{technique.command} {action.option_strings or action.dest}"


def test_registry_options_reach_the_technique(session_backbone, cat_png, tmp_path, monkeypatch):
    import sys

    module = sys.modules["kerasviz.attribution.occlusion"]  # the package's `occlusion` is the function
    seen = {}
    real = module.occlusion

    def spy(model, images, target=None, **options):
        seen.update(target=target, **options)
        return real(model, images, target, **options)

    monkeypatch.setattr(module, "occlusion", spy)
    out = tmp_path / "o.png"
    assert main(["occlusion", str(cat_png), "--class", "3", "--patch", "56", "--stride", "56", "-o", str(out)]) == 0
    assert seen == {"target": 3, "patch": 56, "stride": 56} and out.exists()


def test_heatmaps_are_drawn_at_the_input_resolution_and_aspect(session_backbone, tmp_path):
    wide = tmp_path / "wide.png"
    picture = kv_load("skimage:chelsea")  # 300 x 451: not the backbone's 224 x 224
    Image.fromarray(picture.astype(np.uint8)).save(wide)
    out = tmp_path / "heat.png"
    assert main(["gradcam", str(wide), "--class", "285", "--out", str(out)]) == 0
    heat = np.asarray(Image.open(out))
    assert heat.shape == picture.shape
    # the map was resized, not cropped: the cat's face (left two thirds) is the warm part
    red_minus_blue = heat[..., 0].astype(float) - heat[..., 2]
    assert red_minus_blue[:, : 300].mean() > red_minus_blue[:, 300:].mean()


@pytest.mark.parametrize(
    "command",
    [["lrp", "--composite", "epsilon_gamma_box"], ["rise", "--masks", "64"], ["lime", "--samples", "40"],
     ["kernel-shap", "--samples", "40"], ["sobol", "--grid", "4", "--design", "4"]],
    ids=lambda c: c[0],
)
def test_new_families_have_commands_from_the_registry(session_backbone, cat_png, tmp_path, command):
    out = tmp_path / "out.png"
    assert main([command[0], str(cat_png), "--class", "285", "-o", str(out), *command[1:]]) == 0
    picture = np.asarray(Image.open(out))
    assert picture.shape == (224, 224, 3) and picture.std() > 5


def test_blackbox_commands_take_a_server(cat_png):
    from kerasviz.cli import build_parser

    args = build_parser().parse_args(["rise", str(cat_png), "--server", "localhost:1", "--model_name", "m", "--size", "96"])
    assert (args.server, args.model_name, args.size, args.rest) == ("localhost:1", "m", 96, None)
