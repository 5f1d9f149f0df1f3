"""`kerasviz serve` (a real process, stopped with SIGTERM) and `kerasviz stylize --server` end to end."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kerasviz.cli import main
from kerasviz.images import to_uint8

IMAGE = np.random.default_rng(6).integers(0, 256, (24, 32, 3)).astype(np.uint8)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _lines(stream, sink: "queue.Queue[str]") -> None:
    for line in stream:
        sink.put(line)


@pytest.mark.slow  # ~10-20 s: a fresh Python process imports TensorFlow and loads the model
def test_serve_and_stylize_with_server(single_base, tmp_path, direct, capsys):
    """`serve` starts on the given ports; `stylize --server` over gRPC and REST writes the served
    result; SIGTERM stops the server cleanly (exit 0) within seconds."""
    rest_port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "kerasviz", "serve", "--model_name=style", f"--model_base_path={single_base}",
         "--port=0", f"--rest_api_port={rest_port}", "--file_system_poll_wait_seconds=0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        cwd=Path(__file__).resolve().parents[2],
    )
    lines: "queue.Queue[str]" = queue.Queue()
    threading.Thread(target=_lines, args=(process.stdout, lines), daemon=True).start()
    try:
        banner = lines.get(timeout=90)
        assert "version 1 AVAILABLE" in banner and f"REST on 127.0.0.1:{rest_port}" in banner, banner
        grpc_port = int(banner.split("gRPC on 127.0.0.1:")[1].split(",")[0])
        source = tmp_path / "in.png"
        Image.fromarray(IMAGE).save(source)
        expected = to_uint8(direct(single_base, "serving_default", {"images": IMAGE[None].astype(np.float32)})["stylized"][0])
        for server in (f"127.0.0.1:{grpc_port}", f"http://127.0.0.1:{rest_port}"):
            out = tmp_path / "out.png"
            assert main(["stylize", str(source), "--server", server, "--out", str(out), "--timeout", "20"]) == 0
            written = np.asarray(Image.open(out).convert("RGB"))
            assert np.abs(written.astype(int) - expected.astype(int)).max() <= 1
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert "stopped" in lines.get(timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_stylize_server_errors(tmp_path, capsys):
    """An unreachable server is one error line (exit 2) naming UNAVAILABLE; a bad base path too."""
    source = tmp_path / "in.png"
    Image.fromarray(IMAGE).save(source)
    code = main(["stylize", str(source), "--server", f"127.0.0.1:{_free_port()}", "--timeout", "5", "--out", str(tmp_path / "o.png")])
    error = capsys.readouterr().err.strip()
    assert code == 2 and "UNAVAILABLE" in error and "\n" not in error
    assert main(["serve", "--model_base_path", str(tmp_path / "missing")]) == 2
    assert "model_base_path" in capsys.readouterr().err


def test_stylize_local_model_still_works(single_base, tmp_path):
    """Without --server, `stylize` keeps running the local SavedModel (the fast-style handler)."""
    source = tmp_path / "in.png"
    Image.fromarray(IMAGE).save(source)
    assert main(["stylize", str(source), "--model", str(single_base), "--out", str(tmp_path / "local.png")]) == 0
    assert (tmp_path / "local.png").is_file()


def test_serve_tf_serving_flags_are_wired(tmp_path, single_base, capsys):
    """--model_config_file, --enable_batching/--batching_parameters_file and --monitoring_config_file
    reach the server: each bad file is one error line naming it (exit 2)."""
    assert main(["serve", "--model_config_file", str(tmp_path / "missing.config")]) == 2
    assert "model_config_file" in capsys.readouterr().err
    config = tmp_path / "models.config"
    config.write_text(f'model_config_list {{ config {{ name: "style" base_path: "{single_base}" }} }}')
    batching = tmp_path / "batching.txt"
    batching.write_text("max_batch_size { value: 4 }\nallowed_batch_sizes: 2\n")
    assert main(["serve", "--model_config_file", str(config), "--enable_batching=true",
                 "--batching_parameters_file", str(batching)]) == 2
    assert "allowed_batch_sizes" in capsys.readouterr().err
    monitoring = tmp_path / "monitoring.config"
    monitoring.write_text("prometheus_config { enable: yes please }")
    assert main(["serve", "--model_config_file", str(config), "--monitoring_config_file", str(monitoring)]) == 2
    assert "monitoring_config_file" in capsys.readouterr().err


def test_serve_flags_keep_tf_serving_spelling_and_accept_hyphens():
    """`--model_name` (tensorflow_model_server's spelling) and `--model-name` both work."""
    import argparse

    from kerasviz.cli.serving import register

    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers()
    register(subparsers)
    underscored = parser.parse_args(["serve", "--model_name", "m", "--model_base_path", "/p", "--rest_api_port", "0",
                                     "--rest_header_timeout_seconds", "2"])
    hyphenated = parser.parse_args(["serve", "--model-name", "m", "--model-base-path", "/p", "--rest-api-port", "0",
                                    "--rest-header-timeout-seconds", "2"])
    assert vars(underscored) == vars(hyphenated)
    assert (underscored.model_name, underscored.model_base_path, underscored.rest_api_port) == ("m", "/p", 0)
    assert underscored.rest_header_timeout_seconds == 2.0
    assert "--model_name" in subparsers.choices["serve"].format_help()
