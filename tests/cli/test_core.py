from kerasviz.cli import main
from kerasviz.images import sample_image, save_image


def test_predict_end_to_end(tmp_path, capsys):
    path = save_image(tmp_path / "cat.png", sample_image("chelsea"))
    assert main(["--no-progress", "predict", str(path), "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "1. Egyptian cat" in out and "(class 285)" in out


def test_errors_are_one_line_not_tracebacks(tmp_path, capsys):
    missing = tmp_path / "missing.png"
    assert main(["predict", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "kerasviz predict: error:" in err and "Traceback" not in err


def test_layers_lists_names(capsys):
    assert main(["layers", "--backbone", "vgg16", "--weights", "none"]) == 0
    assert "block5_conv3" in capsys.readouterr().out


# ---------------------------------------------------------------- CLI polish (issues 13 and 14)

import argparse  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from kerasviz.cli import build_parser, command_order  # noqa: E402
from kerasviz.cli.common import add_out_argument, cli_error_message, load_image_argument  # noqa: E402
from kerasviz.errors import LayerNotFoundError, WeightsUnavailableError  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _subcommands(parser: argparse.ArgumentParser) -> dict:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return action


def _readme_commands() -> list:
    """Command names of the README's command table, in order."""
    table = re.search(r"\| family \| commands \|\n\|[-| ]+\|\n((?:\|.*\|\n)+)", (ROOT / "README.md").read_text())
    assert table, "README.md lost its `| family | commands |` table"
    names = []
    for row in table.group(1).splitlines():
        cell = row.split("|")[2]
        names += [code.split()[0] for code in re.findall(r"`([^`]+)`", cell)]
    return [n for n in names if re.fullmatch(r"[a-z][a-z-]*", n)]


def test_help_lists_commands_in_readme_order():
    listed = [a.dest for a in _subcommands(build_parser())._choices_actions]
    readme = _readme_commands()
    assert command_order(build_parser()) == readme, "the README's command table must follow `kerasviz --help`"
    missing = [name for name in listed if name not in readme]
    assert not missing, f"commands missing from the README's command table: {missing}"
    assert listed == [name for name in readme if name in listed]
    help_text = build_parser().format_help()
    positions = [re.search(rf"^ +{re.escape(n)}(\s|$)", help_text, re.M).start() for n in listed]
    assert positions == sorted(positions)


def test_every_flag_of_every_subcommand_has_help():
    offenders = []
    for name, sub in _subcommands(build_parser()).choices.items():
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if not (action.help and action.help.strip()) or action.help == argparse.SUPPRESS:
                offenders.append(f"kerasviz {name} {'/'.join(action.option_strings) or action.dest}")
    assert not offenders, "flags without help text:\n  " + "\n  ".join(sorted(set(offenders)))


def test_every_image_argument_takes_skimage_names(capsys):
    assert main(["--no-progress", "predict", "skimage:chelsea", "--top", "1"]) == 0
    assert "1. Egyptian cat" in capsys.readouterr().out
    image = load_image_argument("skimage:coffee", 32)
    assert image.shape == (32, 32, 3)
    assert main(["predict", "skimage:dog"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "chelsea" in err and "Received: name='dog'" in err


def test_errors_point_to_cli_commands_not_python(capsys):
    args = argparse.Namespace(backbone="vgg16", weights="none")
    error = LayerNotFoundError(
        "No layer named 'x' in model 'vgg16'. `kerasviz.layer_names(model)` lists all 26 layers. "
        "Received: layer='x'"
    )
    line = cli_error_message("gradcam", error, args)
    assert line.startswith("kerasviz gradcam: error: No layer named 'x'")
    assert "`kerasviz layers --backbone vgg16 --weights none` lists all 26 layers" in line
    assert "layer_names(" not in line
    weights = WeightsUnavailableError("Download it, or use weights=None or a local weights file.\nok")
    line = cli_error_message("predict", weights, argparse.Namespace(backbone="vgg19", weights="imagenet"))
    assert "\n" not in line and "--weights none" in line and "--weights FILE" in line
    assert "weights=None" not in line and "--backbone efficientnet_lite0" in line
    assert main(["gradcam", "skimage:chelsea", "--layer", "nope", "--backbone", "vgg16", "--weights", "none"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "kerasviz layers --backbone vgg16 --weights none" in err


def test_shared_out_option_keeps_aliases(tmp_path):
    parser = argparse.ArgumentParser()
    add_out_argument(parser, "class.png", aliases=("-o", "--output"))
    assert parser.parse_args([]).out == "class.png"
    for flag in ("-o", "--output", "--out"):
        assert parser.parse_args([flag, "x.png"]).out == "x.png"
    assert "default: class.png" in parser.format_help()


_STARTUP = ROOT / "kerasviz" / "cli" / "startup.py"
_NOISE = ("oneDNN", "cuda", "cuInit", "absl::InitializeLog", "cpu_feature_guard")


def _run(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)


def test_quiet_startup_hides_tensorflow_noise_unless_the_user_set_the_level():
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    load = (
        "import importlib.util, os, sys\n"  # load the module alone: the package would import TF first
        f"spec = importlib.util.spec_from_file_location('startup', {str(_STARTUP)!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
    )
    quiet = _run(
        load
        + "assert m.is_cli_process(['/usr/bin/kerasviz'], [])\n"
        "assert m.is_cli_process(['-m'], ['python', '-m', 'kerasviz', 'demo'])\n"
        "assert not m.is_cli_process(['x.py'], ['python', 'x.py'])\n"
        "quiet = m.quiet_tensorflow_startup(force=True)\n"
        "import tensorflow as tf; tf.constant(1.0) + 1.0\n"
        "print(quiet, os.environ.get('TF_CPP_MIN_LOG_LEVEL'))\n",
        env,
    )
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout.split() == ["True", "3"]
    assert not [n for n in _NOISE if n in quiet.stderr], quiet.stderr
    loud = _run(  # the user's choice wins: nothing is changed, TensorFlow is not imported early
        load + "print(m.quiet_tensorflow_startup(force=True), 'tensorflow' in sys.modules)\n",
        {**env, "TF_CPP_MIN_LOG_LEVEL": "0"},
    )
    assert loud.returncode == 0 and loud.stdout.split() == ["False", "False"], loud.stderr


@pytest.mark.slow
def test_kerasviz_command_starts_quietly():
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [sys.executable, "-m", "kerasviz", "layers", "--backbone", "vgg16", "--weights", "none"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 0 and "block5_conv3" in result.stdout
    assert not [n for n in _NOISE if n in result.stderr], result.stderr
