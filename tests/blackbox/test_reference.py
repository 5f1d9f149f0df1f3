"""LIME and Kernel SHAP agree with `lime` 0.2 and `shap` (fixtures from scripts/blackbox_reference.py)."""

from __future__ import annotations

import numpy as np

from kerasviz.blackbox import kernel_shap, lime


def _correlation(a, b):
    return float(np.corrcoef(a, b)[0, 1])


def test_lime_matches_lime_package(linear_case, linear_predictor):
    # Measured: correlation 0.99+ with lime's coefficients (both 6000 samples, different draws).
    _, values = lime(
        linear_predictor, linear_case["image"], int(linear_case["target"]), segments=linear_case["segments"],
        samples=6000, baseline=float(linear_case["fill"]), return_segments=True, batch_size=512,
    )
    assert _correlation(values, linear_case["lime"]) >= 0.9
    assert np.abs(values - linear_case["lime"]).max() < 0.25 * np.abs(linear_case["lime"]).max()


def test_kernel_shap_matches_shap_package(linear_case, linear_predictor):
    _, values = kernel_shap(
        linear_predictor, linear_case["image"], int(linear_case["target"]), segments=linear_case["segments"],
        samples=2048, baseline=float(linear_case["fill"]), return_segments=True, batch_size=512,
    )
    assert _correlation(values, linear_case["shap"]) >= 0.9
    # Both satisfy efficiency on the same predictor: equal sums.
    np.testing.assert_allclose(values.sum(), linear_case["shap"].sum(), rtol=1e-4, atol=1e-6)


def test_keras_model_matches_both_packages(keras_case):
    model, image, segments = keras_case["model"], keras_case["image"], keras_case["segments"]
    target = int(keras_case["target"])
    # The stored table is this model's output: spot-check the full image and the all-hidden one.
    full_and_empty = np.stack([image, keras_case["fill"]])
    probabilities = model.predict(full_and_empty, verbose=0)
    np.testing.assert_allclose(probabilities, keras_case["table"][[-1, 0]], atol=1e-5)
    _, lime_values = lime(model, image, target, segments=segments, samples=6000, return_segments=True, batch_size=512)
    _, shap_values = kernel_shap(model, image, target, segments=segments, samples=2048, return_segments=True, batch_size=512)
    assert _correlation(lime_values, keras_case["lime"]) >= 0.9
    # 10 segments: 2048 samples exceed 2**10 - 2 coalitions, so both enumerate them all: exact.
    np.testing.assert_allclose(shap_values, keras_case["shap"], rtol=1e-3, atol=1e-6)
