"""`merged_batch_norm_model`: the same function with BatchNorms merged into the layers before them."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import kerasviz as kv
from kerasviz.canonizers import MergedLinear, merged_batch_norm_model


def _set_statistics(model: keras.Model, seed: int = 0) -> None:
    """Give every BatchNorm non-trivial statistics (fresh ones are the identity)."""
    rng = np.random.default_rng(seed)
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, keras.layers.BatchNormalization):
            channels = layer.moving_mean.shape[0]
            layer.moving_mean.assign(rng.normal(0, 0.5, channels))
            layer.moving_variance.assign(rng.uniform(0.3, 3.0, channels))
            layer.gamma.assign(rng.uniform(0.5, 1.5, channels))
            layer.beta.assign(rng.normal(0, 0.3, channels))


def _block(x, filters, *, depthwise=False, activation=None, bias=True):
    if depthwise:
        x = keras.layers.DepthwiseConv2D(3, padding="same", use_bias=bias, activation=activation)(x)
    else:
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=bias, activation=activation)(x)
    return keras.layers.Activation("swish")(keras.layers.BatchNormalization()(x))


@pytest.fixture(scope="module")
def bn_model() -> keras.Model:
    """Conv / depthwise / dense layers each followed by a BatchNorm, a residual sum, and a
    conv whose output also feeds the sum (two consumers), smooth activations (no kinks)."""
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = _block(x, 8, bias=False)
    y = keras.layers.Conv2D(8, 1)(x)
    x = keras.layers.Add()([y, keras.layers.BatchNormalization()(y)])
    x = _block(x, 8, depthwise=True)
    x = _block(x, 8, activation="relu")  # an activation between: not merged
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.BatchNormalization()(keras.layers.Dense(6)(x))
    model = keras.Model(inputs, keras.layers.Dense(4)(x))
    _set_statistics(model)
    return model


def _images(count: int = 3) -> np.ndarray:
    return np.random.default_rng(1).uniform(0, 255, (count, 16, 16, 3)).astype(np.float32)


def _merged_names(model: keras.Model) -> list:
    return [layer.name for layer in model.layers if isinstance(layer, MergedLinear)]


def test_same_outputs_fewer_norms(bn_model):
    twin = merged_batch_norm_model(bn_model)
    images = _images()
    np.testing.assert_allclose(twin(images), bn_model(images), rtol=1e-5, atol=1e-5)
    # conv, the two-consumer conv, depthwise and dense merge; the one after a ReLU does not
    assert len(_merged_names(twin)) == 4
    norms = [layer for layer in twin.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) == 1
    assert merged_batch_norm_model(bn_model) is twin  # cached


def test_pixel_gradients_equal_the_original_model(bn_model):
    images, targets = _images(), np.array([0, 2, 3])
    with tf.GradientTape() as tape:
        x = tf.constant(images)
        tape.watch(x)
        scores = tf.gather(bn_model(x, training=False), targets, batch_dims=1)
    expected = tape.gradient(scores, x).numpy()
    maps = kv.gradient_x_input(bn_model, images, targets)
    np.testing.assert_allclose(maps, expected * images, rtol=1e-4,
                               atol=1e-5 * np.abs(maps).max())
    assert merged_batch_norm_model(bn_model) is not bn_model  # the twin is what ran


def test_later_training_is_seen(bn_model):
    model = keras.models.clone_model(bn_model)
    model.set_weights(bn_model.get_weights())
    twin = merged_batch_norm_model(model)
    _set_statistics(model, seed=5)
    images = _images()
    np.testing.assert_allclose(twin(images), model(images), rtol=1e-5, atol=1e-5)


def test_nested_and_sequential_models_merge():
    inner = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3),
                              keras.layers.BatchNormalization(), keras.layers.Activation("tanh")])
    inputs = keras.Input((8, 8, 3))
    outer = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Flatten()(inner(inputs))))
    _set_statistics(outer)
    twin = merged_batch_norm_model(outer)
    assert len(_merged_names(twin)) == 1
    images = _images()[:, :8, :8]
    np.testing.assert_allclose(twin(images), outer(images), rtol=1e-5, atol=1e-5)


class _Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = keras.layers.Conv2D(2, 3)
        self.norm = keras.layers.BatchNormalization()

    def call(self, x):
        return self.norm(self.conv(x))


def test_models_without_a_merge_are_returned_as_they_are():
    subclassed = _Subclassed()
    subclassed(np.zeros((1, 8, 8, 3), np.float32))
    assert merged_batch_norm_model(subclassed) is subclassed
    inputs = keras.Input((8, 8, 3))
    activated = keras.layers.Conv2D(2, 3, activation="relu")(inputs)
    plain = keras.Model(inputs, keras.layers.BatchNormalization()(activated))
    assert merged_batch_norm_model(plain) is plain
