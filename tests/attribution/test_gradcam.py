"""Grad-CAM and Grad-CAM++ on real Lite0 weights."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from kerasviz.attribution import gradcam, gradcam_plus_plus
from kerasviz.attribution.inputs import scale_to_unit
from kerasviz.attribution.layer_gradients import feature_gradient_function
from kerasviz.errors import ImageError, LayerNotFoundError, ModelError, TargetError
from kerasviz.targets import resolve_target

CAT, ESPRESSO = 285, 967


@pytest.mark.parametrize("method", [gradcam, gradcam_plus_plus])
def test_shapes_ranges_and_batching(lite0, chelsea, coffee, method):
    single = method(lite0, chelsea, CAT)
    assert single.shape == (224, 224) and single.dtype == np.float32
    assert single.min() >= 0 and single.max() == pytest.approx(1.0)
    both = method(lite0, np.stack([chelsea, coffee]), [CAT, ESPRESSO], batch_size=1)
    assert both.shape == (2, 224, 224)
    np.testing.assert_allclose(both[0], single, atol=1e-5)


def test_cat_lights_up_on_chelsea(lite0, chelsea):
    # The cat's face fills the middle of chelsea: measured mean 0.71 inside the central
    # 112 x 112 square against 0.30 on the border.
    heat = gradcam(lite0, chelsea, CAT)
    assert heat[56:168, 56:168].mean() > 2 * np.concatenate(
        [heat[:28].ravel(), heat[-28:].ravel()]
    ).mean()


def test_other_layer_and_callable_target(lite0, chelsea):
    earlier = gradcam(lite0, chelsea, CAT, layer="block6d_add")
    assert earlier.shape == (224, 224) and earlier.max() == pytest.approx(1.0)
    by_callable = gradcam(lite0, chelsea, lambda logits: logits[:, CAT])
    np.testing.assert_allclose(by_callable, gradcam(lite0, chelsea, CAT), atol=1e-5)


@pytest.mark.filterwarnings("ignore:gradcam. the target score.s gradient")  # zero by design
def test_no_positive_evidence_gives_zeros_not_nan(lite0, chelsea):
    # A score that does not depend on the image has zero gradients: the map is all zeros.
    flat = gradcam(lite0, chelsea, lambda logits: 0.0 * logits[:, CAT])
    assert np.isfinite(flat).all() and flat.max() == 0.0
    np.testing.assert_array_equal(scale_to_unit(-np.ones((2, 4, 4))), np.zeros((2, 4, 4)))


def test_softmax_model_gives_the_same_map(lite0, softmax_lite0, chelsea):
    np.testing.assert_allclose(
        gradcam(softmax_lite0, chelsea, CAT), gradcam(lite0, chelsea, CAT), atol=1e-5
    )


def test_errors(lite0, chelsea):
    with pytest.raises(ModelError, match="4-D"):
        gradcam(lite0, chelsea, CAT, layer="predictions")
    with pytest.raises(ModelError, match="4-D"):
        gradcam_plus_plus(lite0, chelsea, CAT, layer="avg_pool")
    with pytest.raises(LayerNotFoundError, match="top_activation"):
        gradcam(lite0, chelsea, CAT, layer="top_activaton")
    with pytest.raises(TargetError):
        gradcam(lite0, chelsea, -1)
    with pytest.raises(ImageError):
        gradcam(lite0, chelsea[..., :2], CAT)


def test_compiled_once(lite0, chelsea, coffee):
    gradcam(lite0, chelsea, CAT)
    fn = feature_gradient_function(lite0, "top_activation", resolve_target(CAT, 1, 1000)).function
    count = fn.experimental_get_tracing_count()
    gradcam(lite0, np.stack([chelsea, coffee, chelsea]), [1, 2, 3])
    gradcam_plus_plus(lite0, coffee, ESPRESSO)  # the same compiled function serves Grad-CAM++
    assert fn.experimental_get_tracing_count() == count


@pytest.mark.parametrize("method", [gradcam, gradcam_plus_plus])
def test_pointing_game(lite0, halves, pointing, method):
    # Measured left-half mass (cat / espresso): Grad-CAM 0.94 / 0.27, Grad-CAM++ 0.71 / 0.46;
    # peaks at columns 72 / 152 for both.
    maps = method(lite0, np.stack([halves, halves]), [CAT, ESPRESSO])
    cat_left, cat_peak = pointing(maps[0])
    espresso_left, espresso_peak = pointing(maps[1])
    assert cat_left > 0.6 and cat_peak < 112
    assert espresso_left < 0.5 and espresso_peak >= 112


def test_sanity_check_model_randomization(lite0, randomized_lite0, chelsea):
    # Measured Spearman rho with the original after re-drawing top_conv and predictions: 0.43.
    rho = spearmanr(
        gradcam(lite0, chelsea, CAT).ravel(), gradcam(randomized_lite0, chelsea, CAT).ravel()
    )[0]
    assert rho < 0.5
