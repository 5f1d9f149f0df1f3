"""Synthesis engine speed: compiled multi-step loop vs eager / per-step loops; batched channels.

Baselines do the same work per step as kerasviz's engine on a pixel image (forward pass, gradient
of a channel's mean activation, per-image gradient normalization, update, clip to [0, 255]):
- an eager `tf.GradientTape` loop (how tf-keras-vis runs activation maximization),
- a loop calling a per-step `tf.function` from Python (the keras-io examples' recipe).
Batched channels: 16 channels of one layer optimized as one batch vs 16 single-channel runs.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List

os.environ.setdefault("KERASVIZ_PROGRESS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks.common import best_time, ratio_row  # noqa: E402

LAYER = "block4c_add"


def _step(features, image: tf.Tensor, channel: int, step_size: float) -> tf.Tensor:
    with tf.GradientTape() as tape:
        tape.watch(image)
        score = tf.reduce_sum(tf.reduce_mean(features(image)[LAYER][..., channel], axis=(1, 2)))
    gradient = tape.gradient(score, image)
    gradient /= tf.reduce_mean(tf.abs(gradient), axis=(1, 2, 3), keepdims=True) + 1e-12
    return tf.clip_by_value(image + step_size * gradient, 0.0, 255.0)


def run(quick: bool = False) -> List[Dict[str, Any]]:
    """Time the engine against the baselines.

    Args:
        quick: Smaller images and fewer steps (under a minute).

    Returns:
        Rows for the benchmark table (ratio = baseline seconds / kerasviz seconds).
    """
    from kerasviz import load_backbone
    from kerasviz.features import FeatureModel
    from kerasviz.synthesis import PLAIN, Execution, channel, optimize

    backbone = load_backbone("efficientnet_lite0")
    size, steps = (64, 16) if quick else (128, 32)
    features = FeatureModel(backbone, [LAYER], logits=False, input_shape=(None, None, 3))
    start = np.random.default_rng(0).uniform(100, 156, (1, size, size, 3)).astype(np.float32)

    def eager():
        image = tf.constant(start)
        for _ in range(steps):
            image = _step(features, image, 5, 1.0)
        return image.numpy()

    per_step = tf.function(lambda image: _step(features, image, 5, 1.0))

    def keras_io():
        image = tf.constant(start)
        for _ in range(steps):
            image = per_step(image)
        return image.numpy()

    def engine():
        return optimize(
            backbone, channel(LAYER, 5), images=start, steps=steps, steps_per_call=steps, regularization=PLAIN
        ).images

    rows = []
    engine_s = best_time(engine, repeats=5, warmup=2)
    label = f"{steps} ascent steps, Lite0 {LAYER}, {size}² image"
    compiled = "compiled multi-step optimize"
    rows.append(ratio_row(label, "eager GradientTape loop", compiled, best_time(eager, repeats=3, warmup=1), engine_s))
    rows.append(ratio_row(label, "per-step tf.function loop", compiled, best_time(keras_io, repeats=5, warmup=2), engine_s))

    n_channels, small, few = 16, (48 if quick else 64), (4 if quick else 8)

    def one_at_a_time():
        return [
            optimize(backbone, channel(LAYER, c), size=small, steps=few, steps_per_call=few,
                     execution=Execution(seed=c)).images
            for c in range(n_channels)
        ]

    def batched():
        return optimize(
            backbone, channel(LAYER, list(range(n_channels))), size=small, steps=few, steps_per_call=few
        ).images

    rows.append(
        ratio_row(
            f"{n_channels} channels of {LAYER}, {few} steps at {small}²",
            "one channel at a time",
            "one batch of 16",
            best_time(one_at_a_time, repeats=2),
            best_time(batched, repeats=2),
        )
    )
    return rows


if __name__ == "__main__":
    from benchmarks.common import format_table

    print(format_table(run(quick="--quick" in __import__("sys").argv)))
