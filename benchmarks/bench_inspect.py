"""Inspect benchmarks: Lite0 feature extraction, batched and streamed vs one image at a time.

Rows (ratio = baseline seconds / kerasviz seconds, same process, warm-up excluded):
- arrays: `extract_features(batch_size=32)` vs the same compiled function fed one image per call;
- folder: `extract_features(folder)` (tf.data: parallel decode + resize, batches, prefetch) vs a
  plain loop of `load_image` + one eager Keras forward pass per file.
Images per second are `N / seconds` of each column.
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Dict, List

import numpy as np

os.environ.setdefault("KERASVIZ_PROGRESS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks.common import best_time, format_table, ratio_row  # noqa: E402


def run(quick: bool = False) -> List[Dict]:
    """Time Lite0 feature extraction; return ratio rows (see the module docstring)."""
    from kerasviz import FeatureModel, load_backbone
    from kerasviz.images import SAMPLE_IMAGES, load_image, sample_image, save_image
    from kerasviz.inspect import extract_features

    backbone = load_backbone("efficientnet_lite0")
    count = 16 if quick else 96
    photos = [sample_image(name, size=256) for name in SAMPLE_IMAGES]
    rng = np.random.default_rng(0)
    images = np.stack(
        [
            photos[i % len(photos)][y : y + 224, x : x + 224]
            for i, (y, x) in enumerate(rng.integers(0, 32, (count, 2)))
        ]
    )
    repeats = 2 if quick else 3

    def one_at_a_time():
        return extract_features(backbone, images, batch_size=1)

    def batched():
        return extract_features(backbone, images, batch_size=32)

    rows = []
    base, cand = best_time(one_at_a_time, repeats), best_time(batched, repeats)
    rows.append(
        ratio_row(
            f"Lite0 features, {count} arrays ({count / base:.0f} vs {count / cand:.0f} img/s)",
            "batch 1",
            "batch 32",
            base,
            cand,
        )
    )

    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for i, image in enumerate(images):
            paths.append(os.path.join(folder, f"{i:04d}.jpg"))
            save_image(paths[-1], np.asarray(load_image(image, size=320)))  # files need resizing

        plain = FeatureModel(backbone, ["top_dropout"], logits=False)  # Lite0's pooled features

        def naive_loop():
            return np.concatenate(
                [plain(load_image(p, size=224)[None])["top_dropout"].numpy() for p in paths]
            )

        def streamed():
            return extract_features(backbone, folder, batch_size=32)

        plain(images[:1])  # warm-up: build the eager model once, then time one pass of the loop
        base, cand = best_time(naive_loop, 1, warmup=0), best_time(streamed, repeats)
        rows.append(
            ratio_row(
                f"Lite0 features, folder of {count} JPEGs ({count / base:.0f} vs {count / cand:.0f} img/s)",
                "load_image + model per file",
                "tf.data stream, batch 32",
                base,
                cand,
            )
        )
    return rows


if __name__ == "__main__":
    print(format_table(run(quick="--quick" in sys.argv)))
