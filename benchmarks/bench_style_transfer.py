"""Style-transfer step: kerasviz's compiled step vs the keras-io recipe, VGG19 (`weights=None`).

The keras-io "Neural style transfer" example concatenates [content, style, result] and runs all
three through VGG19 every step (its loss-and-gradient function is a `tf.function`). kerasviz
computes the content and style targets once and runs the backbone on the one optimized image.
Same image size and layers; speed does not depend on weights.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from benchmarks.common import best_time, format_table, ratio_row
from kerasviz.backbones import load_backbone
from kerasviz.features import FeatureModel
from kerasviz.synthesis.style_transfer import StyleProblem


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

    problem = StyleProblem.get(backbone, [content_layer], style_layers, None)
    values = problem.values_of(problem.targets(content[0], [style[0]], np.ones(1), 1.0))
    weights, temperature = tf.constant([1.0, 1000.0, 0.0]), tf.constant(1.0)
    candidate_s = best_time(
        lambda: problem.value_and_gradient(result, values, weights, temperature)[1].numpy()
    )
    return [
        ratio_row(
            f"style-transfer step, VGG19 {side}px, 1 content + 5 style layers",
            "keras-io recipe (3 images/step, tf.function)",
            "StyleProblem (targets once, 1 image/step)",
            baseline_s,
            candidate_s,
        )
    ]


if __name__ == "__main__":
    print(format_table(run(quick=True)))
