"""Gradient x input: exact on a linear model, points at the right half on Lite0, no retrace."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from kerasviz.attribution import gradient_x_input, saliency, smoothgrad
from kerasviz.attribution.core import score_gradient
from kerasviz.errors import ParameterError, TargetError
from kerasviz.targets import resolve_target

CAT, ESPRESSO = 285, 967


def test_attributions_sum_to_the_score_of_a_linear_model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4, 5, 3))
    outputs = keras.layers.Dense(2, use_bias=False)(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, outputs)
    images = np.random.default_rng(0).uniform(0, 255, (3, 4, 5, 3)).astype(np.float32)
    attributions = gradient_x_input(model, images, [0, 1, 1], batch_size=2)
    assert attributions.shape == (3, 4, 5, 3) and attributions.dtype == np.float32
    logits = model.predict(images, verbose=0)
    np.testing.assert_allclose(
        attributions.reshape(3, -1).sum(axis=1), logits[[0, 1, 2], [0, 1, 1]], rtol=1e-4
    )
    single = gradient_x_input(model, images[1], 1)
    np.testing.assert_allclose(single, attributions[1], rtol=1e-5, atol=1e-5)


def test_points_at_each_class_half_and_shares_the_saliency_trace(lite0, halves, pointing):
    # Measured (|attribution| summed over colours): left-half mass cat 0.70, espresso 0.44;
    # block peaks at columns 40 / 168.
    saliency(lite0, halves, CAT)
    fn = score_gradient(lite0, resolve_target(CAT, 1, 1000)).function
    count = fn.experimental_get_tracing_count()
    maps = np.abs(gradient_x_input(lite0, np.stack([halves, halves]), [CAT, ESPRESSO])).sum(-1)
    assert fn.experimental_get_tracing_count() == count  # the same compiled gradient
    cat_left, cat_peak = pointing(maps[0])
    espresso_left, espresso_peak = pointing(maps[1])
    assert cat_left > 0.6 and cat_peak < 112
    assert espresso_left < 0.5 and espresso_peak >= 112


def test_noise_tunnel_wraps_it(toy):
    model = toy()
    image = np.random.default_rng(2).uniform(0, 255, (16, 16, 3)).astype(np.float32)
    plain = gradient_x_input(model, image, 2)
    wrapped = smoothgrad(model, image, 2, samples=2, noise=0.0, method=gradient_x_input)
    np.testing.assert_allclose(wrapped, plain, rtol=1e-5, atol=1e-6)
    noisy = smoothgrad(model, image, 2, samples=4, noise=0.1, seed=0, method=gradient_x_input)
    assert noisy.shape == (16, 16, 3) and not np.allclose(noisy, plain)


def test_errors(toy):
    model = toy()
    image = np.full((16, 16, 3), 10.0, np.float32)
    with pytest.raises(ParameterError, match="batch_size"):
        gradient_x_input(model, image, 0, batch_size=0)
    with pytest.raises(TargetError):
        gradient_x_input(model, image, 3)
