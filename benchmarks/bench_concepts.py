"""Concept benchmarks: activation collection vs a bare batched predict loop; Beam 2 workers vs 1.

Rows (ratio = baseline seconds / kerasviz seconds, same process, warm-up excluded):
- collect (mean / sample:8): `collect_activations` of Lite0's last feature map over N in-memory
  images (forward, reduction, Arrow rows, Parquet shards) vs a bare loop of the model's compiled
  forward over the same batches (`model(batch)` in a `tf.function`, results fetched): the
  collection's overhead is `1 / ratio - 1`;
- beam: `collect_activations(runner="DirectRunner", direct_running_mode="multi_processing")` with
  2 workers vs 1 on a folder of N PNG files (each worker starts, imports TensorFlow and loads the
  model once), and the 1-worker pipeline vs the in-process collection (Beam's overhead).

Run: `python -m benchmarks.bench_concepts [--quick]` (Beam rows need `pip install kerasviz[beam]`).
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


def run(quick: bool = False) -> List[Dict]:
    """Time collection and the Beam pipeline; return ratio rows (see the module docstring)."""
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
        for spatial in ("mean", "sample:8"):
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
        from kerasviz.images import save_image

        files = os.path.join(folder, "images")
        for i, image in enumerate(images):
            save_image(os.path.join(files, f"{i:04d}.png"), image.astype(np.uint8))
        timings = {}
        for name, options in (
            ("in-process", {}),
            ("beam 1 worker", {"runner": "DirectRunner", "direct_num_workers": 1, "direct_running_mode": "multi_processing"}),
            ("beam 2 workers", {"runner": "DirectRunner", "direct_num_workers": 2, "direct_running_mode": "multi_processing"}),
        ):
            out = os.path.join(folder, name.replace(" ", "_"))
            start = time.perf_counter()
            collect_activations("efficientnet_lite0", files, [layer], out=out, batch_size=batch // 2,
                                shard_size=batch // 2, **options)
            timings[name] = time.perf_counter() - start
        rows.append(ratio_row(f"Beam DirectRunner, folder of {count} PNGs", "1 worker", "2 workers",
                              timings["beam 1 worker"], timings["beam 2 workers"]))
        rows.append(ratio_row(f"Beam overhead, folder of {count} PNGs", "in-process", "beam 1 worker",
                              timings["in-process"], timings["beam 1 worker"]))
    return rows


def main() -> int:
    """Print the table."""
    rows = run(quick="--quick" in sys.argv)
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
