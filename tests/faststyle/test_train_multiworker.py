"""MultiWorkerMirroredStrategy over two worker processes on 127.0.0.1 (TF_CONFIG), against one process.

Each worker's tf.data pipeline reads only its half of every global batch of 4; the gradients are
all-reduced, so the two workers must train exactly like one process on the whole batch. Killing a
worker mid-run and restarting both resumes from the chief's last checkpoint, with the step counter
continuing and the same losses an uninterrupted run has.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("multiworker_run.py")
# measured: two workers vs one process agree to ~1e-7 relative (all-reduce summation order)
TOLERANCE = 1e-4


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _env(tf_config=None):
    env = {**os.environ, "KERASVIZ_PROGRESS": "0", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    env.pop("TF_CONFIG", None)
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    return env


def _start_workers(folder, steps, ports):
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    return [
        subprocess.Popen([sys.executable, str(SCRIPT), "multi_worker", str(folder), str(steps)],
                         env=_env({"cluster": cluster, "task": {"type": "worker", "index": i}}),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(len(ports))
    ]


def _results(processes, timeout=300):
    results = []
    for process in processes:
        out, err = process.communicate(timeout=timeout)
        assert process.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def _single(folder, steps):
    done = subprocess.run([sys.executable, str(SCRIPT), "default", str(folder), str(steps)], env=_env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _recorded_step(folder):
    """The newest checkpoint recorded complete in the chief's state file (0 if none)."""
    state = folder / "checkpoint"
    if not state.exists():
        return 0
    for line in state.read_text().splitlines():
        if line.startswith("model_checkpoint_path:"):
            return int(line.split('"')[1].split("-")[-1])
    return 0


@pytest.mark.slow
def test_two_workers_train_like_one_process(tmp_path):  # ~30 s on 2 cores: three processes load TF
    workers = _start_workers(tmp_path / "multi", 4, _free_ports(2))
    single = _single(tmp_path / "single", 4)
    chief, other = _results(workers)
    assert chief["replicas"] == other["replicas"] == 2 and single["replicas"] == 1
    assert chief["steps"] == other["steps"] == single["steps"] == [1, 2, 3, 4]
    assert chief["loss"] == pytest.approx(single["loss"], rel=TOLERANCE)
    assert other["loss"] == chief["loss"]  # losses are all-reduced: every worker reports the same
    assert chief["loss"][-1] < 0.6 * chief["loss"][0]
    # only the chief wrote checkpoints; worker 1's temporary folder is gone
    assert chief["checkpoint"] == str(tmp_path / "multi" / "ckpt-4")
    assert sorted(p.name for p in (tmp_path / "multi").iterdir() if p.is_dir()) == []
    assert (tmp_path / "multi" / "ckpt-4.index").is_file()


@pytest.mark.slow
def test_killed_worker_job_resumes_from_checkpoint(tmp_path):  # ~50 s: five processes load TF
    folder = tmp_path / "multi"
    ports = _free_ports(2)
    workers = _start_workers(folder, 1000, ports)
    deadline = time.monotonic() + 240
    try:
        while _recorded_step(folder) < 4:
            for worker in workers:
                assert worker.poll() is None, worker.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "no checkpoint written in time"
            time.sleep(0.2)
        workers[1].send_signal(signal.SIGKILL)  # a worker dies mid-run ...
        workers[1].wait()
        time.sleep(1.0)
    finally:
        for worker in workers:  # ... and the job is restarted as a whole, as TensorFlow documents
            if worker.poll() is None:
                worker.send_signal(signal.SIGKILL)
            worker.communicate()
    saved = _recorded_step(folder)
    assert 4 <= saved < 1000 and saved % 2 == 0
    chief, other = _results(_start_workers(folder, saved + 3, ports))
    assert chief["start"] == other["start"] == saved
    assert chief["steps"] == [saved + 1, saved + 2, saved + 3]  # the step counter continues
    reference = _single(tmp_path / "single", saved + 3)  # uninterrupted, one process
    assert chief["loss"] == pytest.approx(reference["loss"][saved:], rel=TOLERANCE)
