"""The Beam pipeline (DirectRunner) writes the same shards as the in-process collection."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from kerasviz.concepts import collect_activations, load_activations
from kerasviz.errors import ParameterError
from kerasviz.images import save_image

beam = pytest.importorskip("apache_beam")


def _assert_same(folder, reference):
    got, expected = load_activations(folder), load_activations(reference)
    assert got.drop(["activation"]).equals(expected.drop(["activation"]))  # same rows, same order
    values = [t.column("activation").combine_chunks().flatten().to_numpy() for t in (got, expected)]
    delta = np.abs(values[0] - values[1]).max()
    assert delta <= 1e-5, delta


@pytest.fixture(scope="module")
def image_folder(digit_images, tmp_path_factory):
    folder = tmp_path_factory.mktemp("images")
    for i, image in enumerate(digit_images[:96]):
        save_image(folder / f"{i:03d}.png", image.astype(np.uint8))
    (folder / "zz_broken.png").write_bytes(b"not an image")
    return folder


def test_direct_runner_equals_in_process(cnn, image_folder, tmp_path):
    settings = dict(batch_size=8, shard_size=16, spatial="sample:4")
    with pytest.warns(UserWarning, match="zz_broken"):
        reference = collect_activations(cnn, image_folder, ["conv1", "conv3"], out=tmp_path / "a", **settings)
    result = collect_activations(
        cnn, image_folder, ["conv1", "conv3"], out=tmp_path / "b", runner="DirectRunner", **settings
    )
    assert result.written == list(range(7)) and result.rows == reference.rows == 96 * 2 * 4
    assert result.skipped == reference.skipped == ["zz_broken.png"]
    _assert_same(tmp_path / "b", tmp_path / "a")
    again = collect_activations(
        cnn, image_folder, ["conv1", "conv3"], out=tmp_path / "b", runner="DirectRunner", **settings
    )
    assert again.written == []


def test_dataset_sources_cannot_travel_to_workers(cnn, digit_images, tmp_path):
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(digit_images[:4])
    with pytest.raises(ParameterError, match="cannot be sent to Beam workers"):
        collect_activations(cnn, dataset, ["conv1"], out=tmp_path, runner="DirectRunner")


def test_worker_thread_budget(cnn, image_folder, tmp_path):
    from kerasviz.concepts.beam_pipeline import threads_per_worker

    assert threads_per_worker(2, cores=2) == 1 and threads_per_worker(2, cores=8) == 4
    assert threads_per_worker(4, cores=2) == 1
    with pytest.raises(ParameterError, match="workers"):
        threads_per_worker(0)
    settings = dict(batch_size=16, shard_size=32, spatial="mean")
    with pytest.raises(ParameterError, match="worker_threads"):
        collect_activations(cnn, image_folder, ["conv3"], out=tmp_path / "a", runner="DirectRunner",
                            worker_threads=0, **settings)
    with pytest.raises(ParameterError, match="only apply to a Beam run"):
        collect_activations(cnn, image_folder, ["conv3"], out=tmp_path / "a", worker_threads=1, **settings)
    # the in-memory DirectRunner runs its worker in this process, whose TensorFlow already started
    with pytest.warns(UserWarning, match="worker_threads=1. applies to Beam workers in their own processes"):
        result = collect_activations(cnn, image_folder, ["conv3"], out=tmp_path / "b", runner="DirectRunner",
                                     worker_threads=1, **settings)
    assert result.rows == 96


_THREADS_PROBE = """
from kerasviz.concepts.beam_pipeline import limit_threads
import tensorflow as tf
held = limit_threads(1)
tf.reduce_sum(tf.ones((4, 4))).numpy()
threading = tf.config.threading
print(held, threading.get_intra_op_parallelism_threads(), threading.get_inter_op_parallelism_threads())
"""


@pytest.mark.slow
def test_two_worker_processes_with_a_thread_budget_equal_in_process(cnn, image_folder, tmp_path):
    probe = subprocess.run([sys.executable, "-c", _THREADS_PROBE], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert probe.stdout.split()[-3:] == ["True", "1", "1"]  # a fresh worker process gets its budget
    settings = dict(batch_size=8, shard_size=16, spatial="all")
    collect_activations(cnn, image_folder, ["conv2"], out=tmp_path / "a", **settings)
    result = collect_activations(
        cnn, image_folder, ["conv2"], out=tmp_path / "b", runner="DirectRunner",
        direct_num_workers=2, direct_running_mode="multi_processing", worker_threads=1, **settings,
    )
    assert len(result.written) == 7
    _assert_same(tmp_path / "b", tmp_path / "a")


@pytest.mark.slow
def test_killed_run_restarts_without_duplicates(cnn, image_folder, tmp_path):
    model_path = tmp_path / "model.keras"
    cnn.save(model_path)
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        from kerasviz.concepts import collect_activations
        collect_activations({str(model_path)!r}, {str(image_folder)!r}, ["conv3"],
                            out={str(tmp_path / "out")!r}, batch_size=2, shard_size=2,
                            spatial="all", runner="DirectRunner", direct_num_workers=2,
                            direct_running_mode="multi_processing")
    """))
    process = subprocess.Popen([sys.executable, str(script)], start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        out = tmp_path / "out"
        if out.exists() and any(name.endswith(".parquet") for name in os.listdir(out)):
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = [n for n in os.listdir(tmp_path / "out") if n.endswith(".parquet")]
    assert 0 < len(finished) < 49, finished  # killed part-way (97 files, 2 per shard)
    result = collect_activations(
        str(model_path), image_folder, ["conv3"], out=tmp_path / "out", batch_size=2, shard_size=2,
        spatial="all", runner="DirectRunner",
    )
    assert len(result.written) == 49 - len(finished)
    assert not [n for n in os.listdir(tmp_path / "out") if n.endswith(".tmp")]
    table = load_activations(tmp_path / "out")
    keys = list(zip(*(table.column(c).to_pylist() for c in ("image_index", "position"))))
    assert len(keys) == len(set(keys)) == 96 * 64  # complete, no duplicates
    collect_activations(cnn, image_folder, ["conv3"], out=tmp_path / "ref", batch_size=2, shard_size=2, spatial="all")
    _assert_same(tmp_path / "out", tmp_path / "ref")


def test_explain_dataset_on_beam_equals_in_process(cnn, image_folder, tmp_path):
    import pyarrow.parquet as pq

    from kerasviz.concepts import explain_dataset

    first = explain_dataset(cnn, image_folder, "saliency", tmp_path / "a", batch_size=16, shard_size=48)
    second = explain_dataset(cnn, image_folder, "saliency", tmp_path / "b", batch_size=16, shard_size=48, runner="DirectRunner")
    assert second.written == [0, 1, 2] and first.rows == second.rows == 96
    for a, b in zip(first.shards, second.shards):
        ta, tb = pq.read_table(a), pq.read_table(b)
        assert ta.drop(["map"]).equals(tb.drop(["map"]))
        delta = np.abs(ta.column("map").combine_chunks().flatten().to_numpy() - tb.column("map").combine_chunks().flatten().to_numpy())
        assert delta.size == 0 or delta.max() <= 1e-5  # the last shard holds only the broken file
