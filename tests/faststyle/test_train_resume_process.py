"""Kill a training process mid-run and start it again: it continues from the last checkpoint."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "train_fast_style.py"


def _command(checkpoint_dir):
    return [sys.executable, str(SCRIPT), "--content", "skimage:chelsea", "--style", "skimage:brick",
            "--image-size", "32", "--batch-size", "1", "--width", "4", "--steps", "400",
            "--checkpoint-dir", str(checkpoint_dir), "--checkpoint-every", "5"]


def _recorded_step(folder):
    """The step of the newest checkpoint the manager has recorded as complete, or 0.

    TensorFlow writes `ckpt-N.index` before it updates the `checkpoint` state file, so a process
    killed in between leaves ckpt-N on disk that resume rightly ignores; the state file is the truth.
    """
    state = folder / "checkpoint"
    if not state.exists():
        return 0
    for line in state.read_text().splitlines():
        if line.startswith("model_checkpoint_path:"):
            return int(line.split('"')[1].split("-")[-1])
    return 0


@pytest.mark.slow
def test_killed_training_resumes_from_last_checkpoint(tmp_path):  # ~40-60 s: two processes load TF
    env = {**os.environ, "KERASVIZ_PROGRESS": "0", "TF_CPP_MIN_LOG_LEVEL": "2"}
    process = subprocess.Popen(_command(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 240
    try:
        while _recorded_step(tmp_path) < 10:
            assert process.poll() is None, process.stdout.read().decode()[-2000:]
            assert time.monotonic() < deadline, "no checkpoint written in time"
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    saved = _recorded_step(tmp_path)  # read after the kill: the last checkpoint that completed
    assert 10 <= saved < 400
    command = _command(tmp_path)
    command[command.index("400")] = str(saved + 5)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"trained {saved + 5} steps (from {saved})" in done.stdout  # lost < checkpoint_every steps


@pytest.mark.slow
def test_ctrl_c_stops_training_cleanly(tmp_path):  # ~30-60 s: a process loads TF and Lite0
    env = {**os.environ, "KERASVIZ_PROGRESS": "0", "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(_command(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    try:
        while _recorded_step(tmp_path) < 5:  # training is running
            assert process.poll() is None, process.communicate()[1][-2000:]
            assert time.monotonic() < deadline, "no checkpoint written in time"
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, err[-2000:]
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert "kerasviz train-style: interrupted; the last checkpoint in" in err
