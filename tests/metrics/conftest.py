"""Fixtures of the metrics tests: Quantus 0.6.0's reference scores and the same small CNN in Keras."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def quantus_ref():
    """Everything `scripts/quantus_reference.py` wrote (inputs, weights, Quantus scores)."""
    with np.load(FIXTURES / "quantus_reference.npz") as data:
        return {key: data[key] for key in data.files}


@pytest.fixture(scope="session")
def reference_cnn(quantus_ref):
    """The reference torch CNN rebuilt in Keras from the same weights (channels last)."""
    import keras

    size = quantus_ref["images"].shape[1]
    model = keras.Sequential([
        keras.Input((size, size, 3)),
        keras.layers.Conv2D(4, 3, padding="valid", name="conv"),
        keras.layers.ReLU(),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(quantus_ref["dense_w"].shape[0], name="logits"),
    ])
    model.get_layer("conv").set_weights([quantus_ref["conv_w"].transpose(2, 3, 1, 0),
                                         quantus_ref["conv_b"]])
    model.get_layer("logits").set_weights([quantus_ref["dense_w"].T, quantus_ref["dense_b"]])
    return model


def input_gradient(model, images, targets, times_input=False):
    """The explanation both sides use: d logit / d pixels summed over colours (x input)."""
    import tensorflow as tf

    from kerasviz.backbones import as_backbone

    keras_model = as_backbone(model).model
    x = tf.constant(np.asarray(images, np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = keras_model(x)
        score = tf.reduce_sum(tf.gather(out, np.asarray(targets), axis=1, batch_dims=1))
    grads = tape.gradient(score, x).numpy()
    if times_input:
        grads = grads * np.asarray(images)
    return grads.sum(axis=-1)


@pytest.fixture(scope="session")
def gradient_method():
    """`input_gradient` as a method `fn(model, images, targets) -> maps`."""
    return input_gradient


@pytest.fixture(scope="session")
def gradient_x_input_method():
    """Gradient x input as a method."""
    return lambda model, images, targets: input_gradient(model, images, targets, True)
