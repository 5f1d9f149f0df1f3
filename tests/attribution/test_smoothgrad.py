"""SmoothGrad as a noise tunnel around built-in methods and any attribution callable."""

from __future__ import annotations

import numpy as np
import pytest

import kerasviz
from kerasviz.attribution import guided_backprop, saliency, smoothgrad
from kerasviz.errors import ParameterError

CAT = 285


def test_smoothgrad_shapes_seed_and_methods(lite0, chelsea):
    a = smoothgrad(lite0, chelsea, CAT, samples=4, seed=1, batch_size=3)
    b = smoothgrad(lite0, chelsea, CAT, samples=4, seed=1)
    assert a.shape == (224, 224) and 0.0 <= a.min() and a.max() == pytest.approx(1.0)
    np.testing.assert_allclose(a, b, atol=1e-5)  # batch size does not change the result
    guided = smoothgrad(lite0, chelsea, CAT, samples=2, seed=1, method="guided_backprop")
    assert guided.shape == (224, 224, 3) and np.abs(guided).max() > 0
    ig = smoothgrad(
        lite0, chelsea, CAT, samples=2, seed=1, method="integrated_gradients", steps=4
    )
    assert ig.shape == (224, 224, 3) and np.isfinite(ig).all()


def test_callable_method_gets_chunks_of_noisy_copies_and_their_targets(toy):
    model = toy()
    images = np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 3)).astype(np.float32)
    calls = []

    def method(m, batch, target):
        calls.append((m, batch.shape, np.asarray(target).tolist()))
        assert batch.min() >= 0 and batch.max() <= 255  # clipped to the public pixel range
        return batch.mean(axis=-1)  # (M, H, W): a fake attribution we can average by hand

    result = smoothgrad(model, images, [0, 2], samples=3, noise=0.1, seed=4, batch_size=4,
                        method=method)
    assert [c[1][0] for c in calls] == [4, 2]  # 6 noisy copies in chunks of at most 4
    assert all(c[0] is model for c in calls)
    assert calls[0][2] == [0, 0, 0, 2] and calls[1][2] == [2, 2]
    assert result.shape == (2, 16, 16)
    # The noise is zero-mean: the average of 3 noisy means stays near the image's mean.
    assert np.abs(result - images.mean(-1)).mean() < 10


def test_noise_free_tunnel_reproduces_the_wrapped_method(toy):
    model = toy()
    image = np.random.default_rng(1).uniform(0, 255, (16, 16, 3)).astype(np.float32)
    plain = guided_backprop(model, image, 1)
    wrapped = smoothgrad(model, image, 1, samples=3, noise=0.0, method=guided_backprop)
    builtin = smoothgrad(model, image, 1, samples=3, noise=0.0, method="guided_backprop")
    np.testing.assert_allclose(wrapped, plain, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(builtin, plain, rtol=1e-5, atol=1e-6)
    maps = smoothgrad(model, image, 1, samples=2, noise=0.0, method=saliency)
    np.testing.assert_allclose(maps, saliency(model, image, 1), atol=1e-6)


def test_callable_method_must_return_one_finite_attribution_per_image(toy):
    model = toy()
    image = np.full((16, 16, 3), 90.0, np.float32)
    with pytest.raises(ParameterError, match="one per image"):
        smoothgrad(model, image, 0, samples=2, method=lambda m, x, t: np.zeros(1))
    with pytest.raises(ParameterError, match="method"):
        smoothgrad(model, image, 0, method="deconvnet")
    assert kerasviz.smoothgrad is smoothgrad
