"""The transform network's fast inference paths compute what the plain training-time ops compute."""

import numpy as np
import pytest
import tensorflow as tf

from kerasviz.faststyle.layers import ConditionalInstanceNormalization, InstanceNormalization, plain_inference
from kerasviz.faststyle.network import build_transform_net
from kerasviz.faststyle.phase_conv import PhaseConv2D, phase_kernel

RNG = np.random.default_rng(0)


def _randomize_norms(layer):
    for variable in layer.weights:  # γ / β away from their initial 1 / 0, so a mix-up shows
        centre = 1.0 if "gamma" in variable.path else 0.0
        variable.assign(RNG.normal(centre, 0.5, variable.shape).astype("float32"))


@pytest.mark.parametrize("batch", [1, 3])
def test_instance_norm_fused_inference_equals_plain_ops(batch):
    x = tf.constant(RNG.normal(2.0, 3.0, (batch, 9, 14, 5)).astype("float32"))
    plain = InstanceNormalization()
    plain(x)
    _randomize_norms(plain)
    mean, variance = tf.nn.moments(x, axes=[1, 2], keepdims=True)
    expected = (x - mean) / tf.sqrt(variance + 1e-5) * plain.gamma + plain.beta
    for training in (True, False):
        np.testing.assert_allclose(plain(x, training=training), expected, atol=1e-4)
    plain.fast_inference = False
    np.testing.assert_allclose(plain(x, training=False), expected, atol=1e-4)


@pytest.mark.parametrize("batch", [1, 4])
def test_conditional_instance_norm_mixes_per_image_in_both_paths(batch):
    x = tf.constant(RNG.normal(0.0, 2.0, (batch, 6, 7, 4)).astype("float32"))
    weights = tf.constant(RNG.dirichlet(np.ones(3), batch).astype("float32"))
    layer = ConditionalInstanceNormalization(3)
    layer([x, weights])
    _randomize_norms(layer)
    mean, variance = tf.nn.moments(x, axes=[1, 2], keepdims=True)
    gamma, beta = (tf.matmul(weights, v)[:, None, None, :] for v in (layer.gamma, layer.beta))
    expected = (x - mean) / tf.sqrt(variance + 1e-5) * gamma + beta
    for training in (True, False):
        np.testing.assert_allclose(layer([x, weights], training=training), expected, atol=1e-4)


@pytest.mark.parametrize("kernel, height, width", [(9, 40, 33), (9, 9, 10), (3, 5, 8), (4, 11, 12), (1, 6, 7)])
def test_phase_conv_equals_the_plain_convolution(kernel, height, width):
    """Odd and even kernels, odd and even output sizes, down to a 1-pixel output."""
    x = tf.constant(RNG.normal(size=(2, height, width, 6)).astype("float32"))
    layer = PhaseConv2D(3, kernel, padding="valid", activation="tanh")
    fast = layer(x, training=False)
    plain = layer(x, training=True)
    expected = tf.tanh(tf.nn.conv2d(x, layer.kernel, 1, "VALID") + layer.bias)
    assert fast.shape == expected.shape == (2, height - kernel + 1, width - kernel + 1, 3)
    np.testing.assert_allclose(fast, expected, atol=1e-5)
    np.testing.assert_allclose(plain, expected, atol=1e-5)


def test_phase_kernel_shape_and_phase_order():
    """Output channel (p·2 + q)·O + o at pixel phase (p, q): a 1×1 kernel lands at offset (p, q)."""
    kernel = tf.constant(RNG.normal(size=(1, 1, 2, 3)).astype("float32"))
    big = phase_kernel(kernel, 2).numpy()
    assert big.shape == (1, 1, 8, 12)
    for p in range(2):
        for q in range(2):
            rows = slice((p * 2 + q) * 2, (p * 2 + q) * 2 + 2)  # the input phase (p, q), 2 channels
            np.testing.assert_array_equal(big[0, 0, rows, (p * 2 + q) * 3:(p * 2 + q) * 3 + 3], kernel[0, 0])


def test_transform_net_inference_equals_training_time_ops():
    """Whole network, both output kinds: the fast inference path changes no pixel by more than 0.01."""
    for n_styles, output in ((1, "tanh"), (3, "linear")):
        net = build_transform_net(n_styles, 8, output=output)
        for layer in net.layers:
            if isinstance(layer, InstanceNormalization):
                _randomize_norms(layer)
        images = tf.constant(RNG.uniform(0, 255, (2, 21, 30, 3)).astype("float32"))
        inputs = images if n_styles == 1 else {"images": images, "style_weights": tf.constant([[1.0, 0, 0], [0.2, 0.3, 0.5]])}
        fast = net(inputs, training=False).numpy()
        for layer in net.layers:
            if hasattr(layer, "fast_inference"):
                layer.fast_inference = False
        plain = net(inputs, training=False).numpy()
        assert np.abs(fast - plain).max() < 0.01 and np.ptp(plain) > 10


def test_plain_inference_restores_the_flags_even_on_errors():
    net = build_transform_net(1, 4)
    flagged = [layer for layer in net.layers if hasattr(layer, "fast_inference")]
    assert len(flagged) == 16  # 15 instance norms and the output convolution
    with pytest.raises(RuntimeError):
        with plain_inference(net):
            assert not any(layer.fast_inference for layer in flagged)
            raise RuntimeError("export failed")
    assert all(layer.fast_inference for layer in flagged)
