"""Concept benchmarks: activation collection vs a bare batched predict loop; Beam 2 workers vs 1.

Rows (ratio = baseline seconds / kerasviz seconds, same process, warm-up excluded):
- collect (mean / sample:8): `collect_activations` of Lite0's last feature map over N in-memory
  images (forward, reduction, Arrow rows, Parquet shards) vs a bare loop of the model's compiled
  forward over the same batches (`model(batch)` in a `tf.function`, results fetched): the
  collection's overhead is `1 / ratio - 1`;
- beam: `collect_activations(runner="DirectRunner", direct_running_mode="multi_processing")` over
  a folder of N PNG files, each worker given a TensorFlow thread budget (`worker_threads`, set in
  the worker's `setup` before its TensorFlow runs). TensorFlow alone uses every core, so on C
  cores two workers only add contention unless each gets C // 2 threads. Rows:
  * speed-up: 1 worker x 1 thread vs 2 workers x 1 thread (is the pipeline really parallel?);
  * the honest comparison on the machine's cores: 1 worker x C threads vs 2 workers x C//2;
  * 2 workers without a budget (each TensorFlow takes every core) vs 1 worker x C threads;
  * shards only: first shard start to last shard end (worker start-up excluded), 1 vs 2 workers
    x 1 thread, with the share of that span during which both workers computed shards at once
    (each shard reports its process id and times: `steady_state`), which shows the two worker
    processes really run side by side;
  * overhead: a fresh process's TensorFlow import + model load (what each worker pays once,
    timed inside the process) vs the pipeline over one small shard, and the 1-worker pipeline
    vs the in-process collection of the whole folder.
  The pipelines run interleaved in rotating order, several rounds, so all see the same
  background load; rows report the median round.

Run: `python -m benchmarks.bench_concepts [--quick] [--beam-only]` (Beam rows need
`pip install kerasviz[beam]`).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from typing import Dict, List

import numpy as np

os.environ.setdefault("KERASVIZ_PROGRESS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks.common import best_time, format_table, ratio_row  # noqa: E402


def _images(count: int) -> np.ndarray:
    from kerasviz.images import SAMPLE_IMAGES, sample_image

    photos = [sample_image(name, size=256) for name in SAMPLE_IMAGES]
    rng = np.random.default_rng(0)
    return np.stack(
        [photos[i % len(photos)][y : y + 224, x : x + 224] for i, (y, x) in enumerate(rng.integers(0, 32, (count, 2)))]
    ).astype(np.float32)


def run(quick: bool = False, beam_only: bool = False) -> List[Dict]:
    """Time collection and the Beam pipeline; return ratio rows (see the module docstring).

    Args:
        quick: Fewer images and one round.
        beam_only: Only the Beam rows.
    """
    import shutil

    import tensorflow as tf

    from kerasviz.backbones import load_backbone
    from kerasviz.concepts import collect_activations

    backbone = load_backbone("efficientnet_lite0")
    layer = backbone.gradcam_layer
    count, batch = (64, 32) if quick else (256, 64)
    images = _images(count)
    model = backbone.model
    bare = tf.function(lambda x: model(x, training=False))

    def bare_loop():
        for start in range(0, count, batch):
            bare(images[start : start + batch]).numpy()

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for spatial in () if beam_only else ("mean", "sample:8"):
            out = os.path.join(folder, "out")

            def collect(out=out, spatial=spatial):
                shutil.rmtree(out, ignore_errors=True)
                collect_activations(backbone, images, [layer], out=out, batch_size=batch, spatial=spatial)

            # Interleaved repeats: both see the same background load.
            base, mine = [], []
            collect(), bare_loop()
            for _ in range(2 if quick else 4):
                base.append(best_time(bare_loop, repeats=1, warmup=0))
                mine.append(best_time(collect, repeats=1, warmup=0))
            rows.append(ratio_row(f"collect {spatial}, Lite0 {layer}, {count} images", "bare compiled loop",
                                  "collect_activations", min(base), min(mine)))
        try:
            import apache_beam  # noqa: F401
        except ImportError:
            print("apache-beam is not installed: Beam rows skipped", file=sys.stderr)
            return rows
        rows.extend(_beam_rows(images, folder, layer, batch, quick))
    return rows


_SETUP_PROBE = """
import time
start = time.perf_counter()
import tensorflow as tf
from kerasviz.concepts.beam_pipeline import load_model_spec
imported = time.perf_counter()
model = load_model_spec("efficientnet_lite0")
model.model(tf.zeros((1, 224, 224, 3)))
print(imported - start, time.perf_counter() - imported)
"""


def _worker_setup_seconds() -> float:
    """A fresh process's TensorFlow import + Lite0 load + first call, timed inside it."""
    import subprocess

    output = subprocess.run([sys.executable, "-c", _SETUP_PROBE], capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}).stdout.split()
    return float(output[-2]) + float(output[-1])


def timed_collect_shard(plan, model, shard: int):
    """`collect_shard`, and a line `pid start end` (wall clock) per shard in `$KERASVIZ_BENCH_TIMING`."""
    from kerasviz.concepts.plan import collect_shard

    start = time.time()
    result = collect_shard(plan, model, shard)
    with open(os.path.join(os.environ["KERASVIZ_BENCH_TIMING"], f"shard-{shard}.txt"), "w") as file:
        file.write(f"{os.getpid()} {start} {time.time()}\n")
    return result


def steady_state(files: str, layer: str, shard: int, workers: int, threads: int, folder: str) -> Dict[str, float]:
    """A Beam run whose shards report when they ran: setup-free throughput and worker overlap.

    Returns:
        `wall` (whole pipeline), `compute` (first shard start to last shard end), `workers` (distinct
        worker processes that computed shards) and `overlap` (share of the compute span during
        which two or more workers computed at once).
    """
    import shutil

    from kerasviz.concepts.beam_pipeline import load_model_spec, run_with_beam
    from kerasviz.concepts.plan import plan_collection
    from kerasviz.concepts.shards import check_settings

    out, timing = os.path.join(folder, "steady_out"), os.path.join(folder, "steady_timing")
    for path in (out, timing):
        shutil.rmtree(path, ignore_errors=True)
    os.makedirs(timing)
    os.environ["KERASVIZ_BENCH_TIMING"] = timing
    plan = plan_collection(load_model_spec("efficientnet_lite0"), files, [layer], out=out, batch_size=shard,
                           shard_size=shard)
    check_settings(plan.out, plan.settings)  # creates the folder, as collect_activations does
    start = time.perf_counter()
    run_with_beam(plan, "efficientnet_lite0", "DirectRunner",
                  {"direct_num_workers": workers, "direct_running_mode": "multi_processing", "worker_threads": threads},
                  work=timed_collect_shard)
    wall = time.perf_counter() - start
    spans = [open(os.path.join(timing, name)).read().split() for name in os.listdir(timing)]
    spans = [(int(pid), float(a), float(b)) for pid, a, b in spans]
    first, last = min(a for _, a, _ in spans), max(b for _, _, b in spans)
    grid = np.linspace(first, last, 2000)
    busy = np.zeros_like(grid)
    for pid in {p for p, _, _ in spans}:
        busy += np.any([(grid >= a) & (grid <= b) for p, a, b in spans if p == pid], axis=0)
    return {"wall": wall, "compute": last - first, "workers": len({p for p, _, _ in spans}),
            "overlap": float(np.mean(busy >= 2))}


def _beam_rows(images: np.ndarray, folder: str, layer: str, batch: int, quick: bool) -> List[Dict]:
    """Beam DirectRunner (multi-processing) rows: workers x threads, overhead (module docstring)."""
    import shutil
    import statistics

    from kerasviz.concepts import collect_activations
    from kerasviz.concepts.beam_pipeline import threads_per_worker
    from kerasviz.images import save_image

    files = os.path.join(folder, "images")
    for i, image in enumerate(images):
        save_image(os.path.join(files, f"{i:04d}.png"), image.astype(np.uint8))
    count, shard = len(images), batch // 2
    cores = threads_per_worker(1)

    def collect(source, name: str, workers: int = 0, threads: int = 0) -> float:
        out = os.path.join(folder, "beam_out")
        shutil.rmtree(out, ignore_errors=True)
        options = {} if not workers else {"runner": "DirectRunner", "direct_num_workers": workers,
                                          "direct_running_mode": "multi_processing"}
        if workers and threads:
            options["worker_threads"] = threads
        start = time.perf_counter()
        collect_activations("efficientnet_lite0", source, [layer], out=out, batch_size=shard, shard_size=shard,
                            **options)
        return time.perf_counter() - start

    configs = {
        "1 worker x 1 thread": (1, 1),
        "2 workers x 1 thread": (2, 1),
        f"1 worker x {cores} threads": (1, cores),
        f"2 workers x {threads_per_worker(2, cores)} threads": (2, threads_per_worker(2, cores)),
        "2 workers, no budget": (2, 0),
        "in-process": (0, 0),
    }
    one_shard = sorted(os.path.join(files, name) for name in os.listdir(files))[:shard]
    timings: Dict[str, List[float]] = {name: [] for name in [*configs, "1 shard, 1 worker", "1 shard, in-process",
                                                             "worker setup"]}
    names = list(configs)
    for round_ in range(1 if quick else 3):
        for name in names[round_ % len(names):] + names[: round_ % len(names)]:  # rotate the order
            timings[name].append(collect(files, name, *configs[name]))
        timings["1 shard, 1 worker"].append(collect(one_shard, "one shard", 1, cores))
        timings["1 shard, in-process"].append(collect(one_shard, "one shard"))
        timings["worker setup"].append(_worker_setup_seconds())
    steady: Dict[int, List[Dict[str, float]]] = {1: [], 2: []}
    for round_ in range(1 if quick else 2):
        for workers in ((1, 2) if round_ % 2 == 0 else (2, 1)):
            steady[workers].append(steady_state(files, layer, shard, workers, 1, folder))
            print(f"steady state, {workers} worker(s) x 1 thread: {steady[workers][-1]}", file=sys.stderr)
    median = {name: statistics.median(values) for name, values in timings.items()}
    compute = {w: statistics.median(r["compute"] for r in runs) for w, runs in steady.items()}
    overlap = statistics.median(r["overlap"] for r in steady[2])
    two = f"2 workers x {threads_per_worker(2, cores)} threads"
    where = f"Beam DirectRunner multi-processing, {count} PNGs, {cores} cores"
    return [
        ratio_row(f"{where}: parallel speed-up", "1 worker x 1 thread", "2 workers x 1 thread",
                  median["1 worker x 1 thread"], median["2 workers x 1 thread"]),
        ratio_row(f"{where}: same cores", f"1 worker x {cores} threads", two, median[f"1 worker x {cores} threads"],
                  median[two]),
        ratio_row(f"{where}: 2 workers without a thread budget (contending)", f"1 worker x {cores} threads",
                  "2 workers, no budget", median[f"1 worker x {cores} threads"], median["2 workers, no budget"]),
        ratio_row(f"{where}: TF threads in one worker", "1 worker x 1 thread", f"1 worker x {cores} threads",
                  median["1 worker x 1 thread"], median[f"1 worker x {cores} threads"]),
        ratio_row(f"{where}: Beam overhead", "in-process", f"1 worker x {cores} threads", median["in-process"],
                  median[f"1 worker x {cores} threads"]),
        ratio_row(f"{where}: shards only (first shard start to last end; 2 workers overlap {overlap:.0%})",
                  "1 worker x 1 thread", "2 workers x 1 thread", compute[1], compute[2]),
        ratio_row(f"Beam fixed cost: one {shard}-image shard", "in-process", "1 worker pipeline",
                  median["1 shard, in-process"], median["1 shard, 1 worker"]),
        ratio_row("Beam fixed cost: per-worker setup (fresh process: TF import + Lite0 load)", "worker setup",
                  "1-shard pipeline", median["worker setup"], median["1 shard, 1 worker"]),
    ]


def main() -> int:
    """Print the table."""
    rows = run(quick="--quick" in sys.argv, beam_only="--beam-only" in sys.argv)
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
