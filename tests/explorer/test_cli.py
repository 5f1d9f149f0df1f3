"""`kerasviz explore` on the command line: light import, options, --model FILE.keras."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kerasviz.explorer.state import STATE_KEY


def test_cli_module_imports_no_tensorflow():
    code = "import sys, kerasviz.cli.explore; print(any(m.startswith('tensorflow') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr[-2000:]


def _run(argv, monkeypatch):
    import kerasviz.explorer as explorer
    from kerasviz.cli import build_parser

    served = []
    monkeypatch.setattr(explorer, "serve", lambda app, host, port: served.append((app, host, port)))
    args = build_parser().parse_args(["explore", *argv])
    assert args.handler(args) == 0
    return served[0]


def test_explore_options_and_model_file(zoo_sequential, tmp_path, monkeypatch):
    path = tmp_path / "tiny.keras"
    zoo_sequential.save(path)
    app, host, port = _run(["--model", str(path), "--port", "9123", "--cache-dir", str(tmp_path / "c")], monkeypatch)
    assert (host, port) == ("127.0.0.1", 9123)
    state = app[STATE_KEY]
    backbone = state.load_model()
    assert backbone.input_size == (32, 32) and backbone.num_classes == 10
    assert state.cache_dir == str(tmp_path / "c")


def test_explore_refuses_bad_arguments(tmp_path, monkeypatch):
    from kerasviz.errors import ImageError, ParameterError

    with pytest.raises(ParameterError, match="--backbone or --model"):
        _run(["--model", "x.keras", "--backbone", "vgg16"], monkeypatch)
    with pytest.raises(ImageError):
        _run(["--images", str(tmp_path / "missing")], monkeypatch)
    with pytest.raises(ParameterError, match="max-upload-mb"):
        _run(["--max-upload-mb", "0"], monkeypatch)
