"""Guided backprop: the guided clone, its gradient rule, and the pictures it gives."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import kerasviz
from kerasviz.attribution import gradient_image, guided_backprop
from kerasviz.attribution.core import score_gradient
from kerasviz.attribution.guided_clone import GuidedReLUGradient, guided_model
from kerasviz.targets import resolve_target

CAT = 285


def test_guided_backprop_shapes_and_channel_target(lite0, chelsea):
    grads = guided_backprop(lite0, chelsea, CAT)
    assert grads.shape == (224, 224, 3) and grads.dtype == np.float32 and np.abs(grads).max() > 0
    channel = guided_backprop(lite0, chelsea, layer="block4c_expand_activation", channel=7)
    assert channel.shape == (224, 224, 3) and np.abs(channel).max() > 0
    assert not np.allclose(channel, grads)
    picture = gradient_image(grads)
    assert picture.dtype == np.uint8 and picture.shape == (224, 224, 3) and picture.std() > 5


# ---------------------------------------------------------------- guided clone


def test_guided_identity_passes_positive_gradient_inside_the_active_range():
    outputs = tf.constant([0.0, 3.0, 6.0, 3.0, 2.0])
    upstream = tf.constant([1.0, 1.0, 1.0, -1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(outputs)
        guided = GuidedReLUGradient(6.0)(outputs)
    np.testing.assert_array_equal(guided.numpy(), outputs.numpy())  # identity forward
    grad = tape.gradient(guided, outputs, output_gradients=upstream).numpy()
    np.testing.assert_array_equal(grad, [0.0, 1.0, 0.0, 0.0, 2.0])


def test_guided_clone_guides_nested_relus_and_leaves_the_model_alone(toy):
    model = toy(activation="relu")
    before = [w.copy() for w in model.get_weights()]
    layers_before = [layer.name for layer in model.layers]
    clone = guided_model(kerasviz.backbones.as_backbone(model).model)
    assert {"conv1", "relu6"} <= set(clone.guided) and clone.unguided == []
    assert [layer.name for layer in model.layers] == layers_before
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert model.get_layer("conv1").activation.__name__ == "relu"


def test_guided_gradient_is_zero_when_every_path_is_negative(toy):
    model = toy(activation="relu")
    dense = model.get_layer("dense")
    kernel, bias = dense.get_weights()
    dense.set_weights([-np.abs(kernel), bias])  # class 0 falls with every relu6 unit
    image = np.random.default_rng(0).uniform(0, 255, (16, 16, 3)).astype(np.float32)
    guided = guided_backprop(model, image, 0)
    vanilla = score_gradient(
        kerasviz.backbones.as_backbone(model), resolve_target(0, 1, 3)
    )(image[None], np.zeros(1, np.int32))[1]
    assert np.abs(vanilla).max() > 0
    assert np.abs(guided).max() == 0


def test_unguided_nonlinearities_warn_with_their_names(toy):
    model = toy(activation="elu", extra=keras.layers.LeakyReLU(name="leaky"))
    image = np.full((16, 16, 3), 100.0, np.float32)
    with pytest.warns(UserWarning, match=r"'conv1'.*'leaky'"):
        guided_backprop(model, image, 1)
    quiet = toy(activation="relu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        guided_backprop(quiet, image, 1)


# ---------------------------------------------------------------- stride-2 checkerboard


def period_two_share(gradients):
    """Share of the spectral energy of the (colour-summed, mean-removed) gradients within 0.04
    cycles / pixel of the period-2 frequencies (rows and columns at +-0.5); that band is 15 %
    of the spectrum."""
    g = gradients.sum(-1)
    power = np.abs(np.fft.fft2(g - g.mean())) ** 2
    f = np.abs(np.fft.fftfreq(g.shape[0]))
    near = (np.abs(f - 0.5) < 0.04)[:, None] | (np.abs(f - 0.5) < 0.04)[None, :]
    return power[near].sum() / power.sum()


def test_translations_remove_the_stride_two_checkerboard(lite0, chelsea):
    # Measured on chelsea, class 285: plain guided backprop 0.27 of its energy near period 2
    # (Lite0's stride-2 stem and depthwise convs), 2 x 2 translations 0.06, 4 x 4 0.04;
    # vanilla gradients 0.07.
    plain = guided_backprop(lite0, chelsea, CAT)
    smooth = guided_backprop(lite0, chelsea, CAT, shifts=2)
    assert smooth.shape == plain.shape == (224, 224, 3)
    assert period_two_share(plain) > 0.2
    assert period_two_share(smooth) < 0.1
    with pytest.raises(kerasviz.ParameterError, match="shifts"):
        guided_backprop(lite0, chelsea, CAT, shifts=0)


def test_translated_copies_shift_back_onto_the_image():
    from kerasviz.attribution.translations import average_back, translated_copies

    images = np.random.default_rng(0).uniform(0, 255, (2, 6, 7, 3)).astype(np.float32)
    copies, image_of, offsets = translated_copies(images, 2)
    assert copies.shape == (8, 6, 7, 3) and image_of.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    np.testing.assert_array_equal(copies[3][1:, 1:], images[0][:-1, :-1])  # moved by (1, 1)
    back = average_back(copies, offsets)
    np.testing.assert_allclose(back[:, :-1, :-1], images[:, :-1, :-1], rtol=1e-6)
