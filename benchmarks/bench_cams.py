"""CAM-family benchmarks on Lite0 (224 x 224, layer top_activation, 1280 channels):

* Score-CAM: the batched scorer (one compiled call per image, masks in chunks of 16 (the default) through a
  `tf.map_fn`) against a per-channel Python loop (one compiled forward per masked image) on the
  same channels;
* Score-CAM on all 1280 masks of one image (the issue's reference: pytorch-grad-cam takes about
  48 s on this 2-core CPU), against the per-channel loop's time per mask times 1280;
* Ablation-CAM on all channels against one Grad-CAM (the head-only ablations cost about as much).
"""

from __future__ import annotations

import os
import sys
from typing import Any, Dict, List

os.environ.setdefault("KERASVIZ_PROGRESS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from benchmarks.common import best_time, format_table, ratio_row  # noqa: E402

CAT = 285


def per_channel_loop(backbone: Any, image: np.ndarray, activations: np.ndarray, channels: np.ndarray):
    """Score-CAM scores the plain way: one masked image, one compiled forward, per channel."""
    import tensorflow as tf

    from kerasviz.compiled import forward_logits

    chosen = activations[..., channels]
    low, high = chosen.min(axis=(0, 1)), chosen.max(axis=(0, 1))
    unit = np.where(high > low, (chosen - low) / np.where(high > low, high - low, 1.0), 0.0)
    scores = []
    for k in range(len(channels)):
        mask = tf.image.resize(unit[None, ..., k : k + 1], image.shape[:2]).numpy()[0]
        scores.append(forward_logits(backbone.model, (image * mask)[None], 1)[0, CAT])
    return np.array(scores)


def run(quick: bool = False) -> List[Dict[str, Any]]:
    """Time the CAM family on Lite0 and chelsea.

    Args:
        quick: 32 channels for the loop comparison, one repeat (the full 1280-mask Score-CAM is
            always timed once).

    Returns:
        Rows with `ratio` = baseline seconds / kerasviz seconds.
    """
    from kerasviz import load_backbone
    from kerasviz.attribution import ablation_cam, gradcam, score_cam
    from kerasviz.attribution.score_cam import score_cam_function
    from kerasviz.images import sample_image
    from kerasviz.targets import resolve_target

    backbone = load_backbone("efficientnet_lite0")
    image = sample_image("chelsea", 224)
    repeats = 1 if quick else 2
    count = 32 if quick else 128
    scorer = score_cam_function(backbone, "top_activation", 16, resolve_target(CAT, 1, 1000))
    _, channels, activations = scorer(image, CAT, count)
    loop = best_time(lambda: per_channel_loop(backbone, image, activations, channels), repeats)
    batched = best_time(lambda: scorer(image, CAT, count), repeats)
    rows = [ratio_row(f"Score-CAM, {count} masks", "per-channel loop", "one compiled call", loop, batched)]

    full = best_time(lambda: score_cam(backbone, image, CAT), repeats=1)
    distinct = scorer.last_distinct if scorer(image, CAT, 1280) is not None else 0
    rows.append(ratio_row(
        f"Score-CAM, all 1280 masks ({distinct} distinct)", "per-channel loop (per-mask x 1280)",
        "score_cam", loop / count * 1280, full,
    ))
    cam = best_time(lambda: gradcam(backbone, image, CAT), repeats)
    ablation = best_time(lambda: ablation_cam(backbone, image, CAT), repeats)
    rows.append(ratio_row("Ablation-CAM, all 1280 channels", "one Grad-CAM", "ablation_cam", cam, ablation))
    return rows


if __name__ == "__main__":
    print(format_table(run(quick="--quick" in sys.argv)))
