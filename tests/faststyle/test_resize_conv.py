"""ResizeConv2D computes nearest ×2 upsampling, one pixel of padding and a 3×3 convolution exactly."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasviz.errors import ParameterError
from kerasviz.faststyle.network import transform_net_config
from kerasviz.faststyle.resize_conv import ResizeConv2D, phase_kernels

RNG = np.random.default_rng(0)


def _reference(layer, x, border):
    """What the layer replaces: upsample, pad the large image, convolve with the same weights."""
    large = keras.layers.UpSampling2D(2, interpolation="nearest")(x)
    padded = tf.pad(large, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="SYMMETRIC" if border == "reflect" else "CONSTANT")
    return layer.activation(tf.nn.conv2d(padded, layer.kernel, 1, "VALID") + layer.bias)


@pytest.mark.parametrize("border", ["reflect", "zero"])
@pytest.mark.parametrize("height,width", [(1, 1), (5, 7), (16, 12)])
def test_equals_upsample_pad_conv(border, height, width):
    x = tf.constant(RNG.normal(size=(2, height, width, 5)).astype("float32"))
    layer = ResizeConv2D(4, border=border, activation="relu")
    layer(x)
    layer.bias.assign(RNG.normal(size=4).astype("float32"))
    y = layer(x)
    assert y.shape == (2, 2 * height, 2 * width, 4)
    np.testing.assert_allclose(y, _reference(layer, x, border), atol=1e-5)


def test_gradients_equal_the_reference():
    x = tf.Variable(RNG.normal(size=(1, 6, 5, 3)).astype("float32"))
    layer = ResizeConv2D(2)
    layer(x)
    grads = []
    for run in (layer, lambda v: _reference(layer, v, "reflect")):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.sin(run(x)))
        grads.append(tape.gradient(loss, [x, layer.kernel, layer.bias]))
    for ours, reference in zip(*grads):
        np.testing.assert_allclose(ours, reference, atol=1e-4)


def test_phase_kernels_split_the_taps():
    kernel = tf.constant(RNG.normal(size=(3, 3, 2, 3)).astype("float32"))
    phases = phase_kernels(kernel).numpy()
    assert phases.shape == (2, 2, 2, 12)
    k = kernel.numpy()
    top_left = phases[..., :3]  # phase (0, 0): rows (k0, k1 + k2), columns likewise
    np.testing.assert_allclose(top_left[0, 0], k[0, 0], atol=1e-6)
    np.testing.assert_allclose(top_left[1, 1], k[1:, 1:].sum((0, 1)), atol=1e-6)
    np.testing.assert_allclose(phases.sum((0, 1)), np.tile(k.sum((0, 1)), (1, 4)), atol=1e-5)  # every tap once


def test_config_round_trip_and_bad_arguments():
    layer = ResizeConv2D(3, border="zero", name="up")
    config = layer.get_config()
    assert config["border"] == "zero" and "strides" not in config and json.dumps(config)
    assert ResizeConv2D.from_config(config).border == "zero"
    with pytest.raises(ParameterError, match="3×3"):
        ResizeConv2D(3, kernel_size=5)
    with pytest.raises(ParameterError, match="border"):
        ResizeConv2D(3, border="wrap")


def test_networks_saved_with_a_separate_upsampling_layer_still_read_as_resize_conv():
    images = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(4, 9, padding="same", name="in_conv")(images)
    x = keras.layers.LayerNormalization(name="in_norm")(x)
    x = keras.layers.UpSampling2D(2, name="up1_resize")(x)
    x = keras.layers.Conv2D(4, 3, padding="same", name="up1_conv")(x)
    config = transform_net_config(keras.Model(images, x))
    assert config["upsample"] == "resize_conv" and config["width"] == 4


def test_checkpoints_with_separate_upsampling_layers_resume_into_resize_conv(tmp_path):
    """A training checkpoint (network + optimizer, as train_style_network writes it) of a network
    with separate upsample / pad / conv layers, as resize_conv networks had before ResizeConv2D,
    restores every variable into the one-layer network."""
    from kerasviz.faststyle.network import build_transform_net

    def network(upsample):
        net = build_transform_net(2, 4, upsample)
        optimizer = keras.optimizers.Adam()
        optimizer.build(net.trainable_variables)
        return net, optimizer

    old, old_optimizer = network("bilinear_conv")  # the same layers and weights as the old resize_conv
    for variable in old.weights:
        variable.assign(RNG.normal(size=variable.shape).astype("float32"))
    path = tf.train.Checkpoint(net=old, optimizer=old_optimizer).save(str(tmp_path / "ckpt"))
    new, new_optimizer = network("resize_conv")
    tf.train.Checkpoint(net=new, optimizer=new_optimizer).restore(path).assert_existing_objects_matched()
    for layer in new.layers:
        for ours, saved in zip(layer.get_weights(), old.get_layer(layer.name).get_weights()):
            np.testing.assert_array_equal(ours, saved)
