"""Style-transfer step: kerasviz's compiled step vs the keras-io recipe, VGG19 (`weights=None`).

The keras-io "Neural style transfer" example concatenates [content, style, result] and runs all
three through VGG19 every step (its loss-and-gradient function is a `tf.function`). kerasviz
computes the content and style targets once and runs the backbone on the one optimized image.
Same image size and layers; speed does not depend on weights. Besides the best wall time, the
benchmark reports the CPU-time ratio (process time, all threads), which other processes sharing
the machine disturb much less than wall time.
"""

from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from benchmarks.common import best_time, format_table, ratio_row
from kerasviz.backbones import load_backbone
from kerasviz.features import FeatureModel
from kerasviz.synthesis.engine import bind, value_and_gradient_function
from kerasviz.synthesis.style_transfer import style_losses_for, weighted_loss


def _keras_io_step(backbone, content_layer, style_layers):
    """A loss-and-gradient step written the keras-io way: three images through VGG19 per step."""
    features = FeatureModel(backbone, [content_layer, *style_layers], logits=False, input_shape=(None, None, 3))

    def gram(x):
        flat = tf.reshape(x, (-1, tf.shape(x)[-1]))
        return tf.matmul(flat, flat, transpose_a=True)

    @tf.function
    def step(result, content, style):
        with tf.GradientTape() as tape:
            tape.watch(result)
            outputs = features(tf.concat([content, style, result], axis=0))
            loss = 2.5e-8 * tf.reduce_sum(tf.square(outputs[content_layer][2] - outputs[content_layer][0]))
            for name in style_layers:
                size = tf.cast(tf.reduce_prod(tf.shape(outputs[name])[1:]), tf.float32)
                difference = gram(outputs[name][1]) - gram(outputs[name][2])
                loss += 1e-6 / len(style_layers) * tf.reduce_sum(tf.square(difference)) / (4.0 * size**2)
        return loss, tape.gradient(loss, result)

    return step


def _best_cpu_time(fn, repeats: int = 5) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def run(quick: bool = False) -> list[dict]:
    """Time one style-transfer step both ways.

    Args:
        quick: 128 px instead of 256 px.

    Returns:
        One ratio row.
    """
    side = 128 if quick else 256
    backbone = load_backbone("vgg19", weights=None)
    content_layer, style_layers = backbone.content_layers[0], backbone.style_layers
    rng = np.random.default_rng(0)
    content = rng.uniform(0, 255, (1, side, side, 3)).astype(np.float32)
    style = rng.uniform(0, 255, (1, side, side, 3)).astype(np.float32)
    result = tf.constant(content)

    baseline = _keras_io_step(backbone, content_layer, style_layers)
    baseline_s = best_time(lambda: baseline(result, tf.constant(content), tf.constant(style))[1].numpy())

    parts = style_losses_for(backbone, content[0], [style[0]], np.ones(1), [content_layer], style_layers, None, 1.0)
    loss = weighted_loss(parts, (1.0, 1000.0, 0.0), None, 1.0)  # what style_transfer minimizes
    step = value_and_gradient_function(bind(backbone, loss), loss)
    values = tuple(tf.constant(v) for v in loss.values)
    candidate_s = best_time(lambda: step(result, values)[1].numpy())
    baseline_fn = lambda: baseline(result, tf.constant(content), tf.constant(style))[1].numpy()
    candidate_fn = lambda: step(result, values)[1].numpy()
    name = f"style-transfer step, VGG19 {side}px, 1 content + 5 style layers"
    return [
        ratio_row(name, "keras-io recipe (3 images/step, tf.function)",
                  "engine.value_and_gradient (targets once, 1 image/step)", baseline_s, candidate_s),
        ratio_row(name + " (CPU time)", "keras-io recipe (3 images/step, tf.function)",
                  "engine.value_and_gradient (targets once, 1 image/step)",
                  _best_cpu_time(baseline_fn), _best_cpu_time(candidate_fn)),
    ]

if __name__ == "__main__":
    print(format_table(run(quick=True)))
