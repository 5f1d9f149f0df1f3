"""Attribution benchmarks: batched occlusion / SmoothGrad / integrated gradients against a
per-sample loop of the same compiled computation (`batch_size=1`), Grad-CAM's per-image
cost against one plain forward + backward pass (gradient of a logit w.r.t. the pixels), and
that pixel gradient on the model as given against its BatchNorm-merged twin (what every
gradient technique runs on)."""

from __future__ import annotations

import os
import sys
from typing import Any, Dict, List

os.environ.setdefault("KERASVIZ_PROGRESS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from benchmarks.common import best_time, format_table, ratio_row  # noqa: E402

CAT = 285


def run(quick: bool = False) -> List[Dict[str, Any]]:
    """Time each technique batched and per sample on Lite0 and chelsea (224 x 224).

    Args:
        quick: Fewer positions, samples and steps, one timed repeat (about a minute).

    Returns:
        Rows with `ratio` = per-sample seconds / batched seconds (Grad-CAM: forward + backward
        seconds / Grad-CAM seconds, so about 1 means "one backward pass per image").
    """
    from kerasviz import load_backbone
    from kerasviz.attribution import (
        gradcam,
        integrated_gradients,
        occlusion,
        smoothgrad,
    )
    from kerasviz.attribution.core import ScoreGradient, score_gradient
    from kerasviz.images import sample_image
    from kerasviz.targets import resolve_target

    backbone = load_backbone("efficientnet_lite0")
    image = sample_image("chelsea", 224)
    repeats = 1 if quick else 3
    patch, stride = (56, 28) if quick else (32, 16)
    samples, steps = (16, 16) if quick else (50, 64)
    rows = []

    cases = [
        (f"occlusion {patch}px/{stride} ({((224 - patch) // stride + 1) ** 2} copies)",
         lambda b: occlusion(backbone, image, CAT, patch=patch, stride=stride, batch_size=b), 64),
        (f"SmoothGrad {samples} samples",
         lambda b: smoothgrad(backbone, image, CAT, samples=samples, seed=0, batch_size=b), 32),
        (f"integrated gradients {steps} steps",
         lambda b: integrated_gradients(backbone, image, CAT, steps=steps, batch_size=b), 32),
    ]
    for name, technique, batch in cases:
        per_sample = best_time(lambda t=technique: t(1), repeats=repeats)
        batched = best_time(lambda t=technique, b=batch: t(b), repeats=repeats)
        rows.append(ratio_row(name, "per-sample loop (batch 1)", f"batched ({batch})", per_sample, batched))

    grad = score_gradient(backbone, resolve_target(CAT, 1, backbone.num_classes))
    pixels, index = image[None].astype(np.float32), np.array([CAT], np.int32)
    backward = best_time(lambda: grad(pixels, index), repeats=repeats * 3)
    cam = best_time(lambda: gradcam(backbone, image, CAT), repeats=repeats * 3)
    rows.append(ratio_row("Grad-CAM, one image", "forward + backward pass", "gradcam", backward, cam))

    batch, indices = np.repeat(pixels, 32, axis=0), np.full(32, CAT, np.int32)
    as_given = ScoreGradient(backbone.model, None, merge_batch_norm=False)
    merged = ScoreGradient(backbone.model, None)
    seconds = [best_time(lambda g=g: g(batch, indices), repeats=repeats * 2) for g in (as_given, merged)]
    rows.append(ratio_row("pixel gradients, 32 images", "model as given", "BatchNorms merged",
                          *seconds))
    return rows


if __name__ == "__main__":
    print(format_table(run(quick="--quick" in sys.argv)))
