"""Predictors and bad input: every misbehaving predictor or bad argument is a clear KerasvizError."""

from __future__ import annotations

import numpy as np
import pytest

from kerasviz.blackbox import PredictorError, as_predictor, kernel_shap, lime, rise, sobol_attribution
from kerasviz.errors import ImageError, ModelError, ParameterError, TargetError

IMAGE = np.random.default_rng(0).uniform(0, 255, (16, 16, 3)).astype(np.float32)
SEGMENTS = np.arange(16)[:, None] // 8 * 2 + np.arange(16)[None] // 8


def softmax2(images):
    x = np.asarray(images).mean(axis=(1, 2, 3)) / 255.0
    return np.stack([x, 1 - x], axis=1)


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda x: np.ones((len(x), 3, 1)) / 3, r"shape \(.*, 3, 1\)"),
        (lambda x: np.ones((len(x) + 1, 2)) / 2, "for 4 images"),
        (lambda x: np.full((len(x), 2), np.nan), "NaN"),
        (lambda x: np.tile([1.5, -0.5], (len(x), 1)), "negative"),
        (lambda x: np.tile([3.0, 4.0], (len(x), 1)), "do not sum to 1.*not renormalized"),
        (lambda x: "cat", "array of probabilities"),
    ],
)
def test_bad_predictor_answers(answer, message):
    with pytest.raises(PredictorError, match=message):
        rise(answer, np.stack([IMAGE] * 4), 0, masks=4)


def test_a_predictor_failing_midway_reports_progress():
    calls = {"n": 0}

    def flaky(images):
        calls["n"] += 1
        if calls["n"] == 4:
            return np.full((len(images), 2), np.nan)
        return softmax2(images)

    with pytest.raises(PredictorError, match="after 20 of 40 queries") as info:
        rise(flaky, IMAGE, 0, masks=40, batch_size=10)
    assert (info.value.queries_done, info.value.queries_total) == (20, 40)


def test_class_count_changing_between_calls():
    calls = {"n": 0}

    def unstable(images):
        calls["n"] += 1
        k = 2 if calls["n"] < 3 else 3
        return np.full((len(images), k), 1.0 / k)

    with pytest.raises(PredictorError, match=r"shape \(5, 3\)"):
        kernel_shap(unstable, IMAGE, 0, segments=SEGMENTS, samples=14, batch_size=5)


@pytest.mark.parametrize(
    "call",
    [
        lambda: rise(softmax2, IMAGE, 0, masks=0),
        lambda: rise(softmax2, IMAGE, 0, cell=0),
        lambda: rise(softmax2, IMAGE, 0, p=0),
        lambda: rise(softmax2, IMAGE, 0, p=1.5),
        lambda: rise(softmax2, IMAGE, 0, batch_size=0),
        lambda: rise(softmax2, IMAGE, 0, baseline=300),
        lambda: rise(softmax2, IMAGE, 0, baseline=(1, 2)),
        lambda: lime(softmax2, IMAGE, 0, segments=SEGMENTS, kernel_width=0),
        lambda: lime(softmax2, IMAGE, 0, segments=SEGMENTS[:8]),
        lambda: lime(softmax2, IMAGE, 0, segments=np.zeros((16, 16), int)),
        lambda: lime(softmax2, IMAGE, 0, segments=SEGMENTS.astype(float)),
        lambda: lime(softmax2, IMAGE, 0, segments=SEGMENTS, baseline="blur"),
        lambda: kernel_shap(softmax2, IMAGE, 0, segments=SEGMENTS, samples=0),
        lambda: sobol_attribution(softmax2, IMAGE, 0, grid=1),
        lambda: sobol_attribution(softmax2, IMAGE, 0, seed=-1),
    ],
)
def test_bad_arguments(call):
    with pytest.raises(ParameterError):
        call()


def test_bad_images_targets_and_models(zoo_headless, zoo_sequential):
    with pytest.raises(ImageError):
        rise(softmax2, IMAGE[..., :2], 0, masks=4)
    with pytest.raises(ImageError, match="one image"):
        lime(softmax2, np.stack([IMAGE, IMAGE]), 0, segments=SEGMENTS)
    with pytest.raises(TargetError):
        rise(softmax2, IMAGE, 5, masks=4)
    with pytest.raises(TargetError):
        rise(softmax2, np.stack([IMAGE] * 3), [0, 1], masks=4)
    with pytest.raises(ModelError, match="headless"):
        rise(zoo_headless, np.zeros((32, 32, 3)), 0, masks=4)
    with pytest.raises(ImageError, match="32 x 32"):
        rise(zoo_sequential, IMAGE, 0, masks=4)
    with pytest.raises(ModelError, match="Expected a predictor"):
        as_predictor("model.keras")


def test_keras_model_is_softmax_of_logits(zoo_sequential):
    image = np.random.default_rng(1).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(as_predictor(zoo_sequential)(image), zoo_sequential.predict(image, verbose=0), atol=1e-5)
