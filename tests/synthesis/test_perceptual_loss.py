"""The fast-style perceptual loss: raw errors scale with the features, normalized ones do not."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasviz.images import sample_image
from kerasviz.synthesis.perceptual_loss import PerceptualLoss


def _two_conv_model(scale: float) -> keras.Model:
    """conv1 (ReLU) -> conv2 (no bias): scaling conv1's kernel and bias by k scales both maps by k."""
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", use_bias=False, name="conv2")(x)
    model = keras.Model(inputs, x)
    rng = np.random.default_rng(0)
    kernel1 = rng.normal(0, 0.05, (3, 3, 3, 6)).astype(np.float32)
    bias1 = rng.normal(0, 0.1, 6).astype(np.float32)
    model.get_layer("conv1").set_weights([scale * kernel1, scale * bias1])
    model.get_layer("conv2").set_weights([rng.normal(0, 0.1, (3, 3, 6, 8)).astype(np.float32)])
    return model


def _losses(model, normalized, stylized, crops):
    loss = PerceptualLoss(model, ["conv1"], ["conv1", "conv2"], [sample_image("brick", 40)], content_weight=1.0,
                          style_weights=[1.0], tv_weight=0.0, normalized=normalized)
    return loss(tf.constant(stylized), tf.constant(crops), tf.zeros((len(stylized),), tf.int32)).numpy()


@pytest.fixture(scope="module")
def batch():
    crops = np.stack([sample_image("chelsea", 32), sample_image("coffee", 32)]).astype(np.float32)
    stylized = np.clip(crops[::-1] * 0.7 + 30, 0, 255).astype(np.float32)
    return stylized, crops


def test_normalized_losses_do_not_depend_on_the_feature_scale(batch):
    small, large = _two_conv_model(1.0), _two_conv_model(10.0)
    raw_small, raw_large = _losses(small, False, *batch), _losses(large, False, *batch)
    np.testing.assert_allclose(raw_large[:, 1], 100 * raw_small[:, 1], rtol=1e-3)  # content: k²
    np.testing.assert_allclose(raw_large[:, 2], 1e4 * raw_small[:, 2], rtol=1e-3)  # Gram error: k⁴
    norm_small, norm_large = _losses(small, True, *batch), _losses(large, True, *batch)
    np.testing.assert_allclose(norm_large, norm_small, rtol=1e-3)
    assert np.all(norm_small[:, 1:3] > 0) and np.all(norm_small[:, 1:3] < 10)  # relative errors


def test_normalized_content_error_is_zero_for_the_content_itself(batch):
    _, crops = batch
    losses = _losses(_two_conv_model(1.0), True, crops, crops)
    assert np.all(losses[:, 1] < 1e-10)
