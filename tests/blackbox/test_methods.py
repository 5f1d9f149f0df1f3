"""The four methods on predictors whose answer is known: Kernel SHAP's efficiency and linear
recovery, LIME's linear recovery, RISE's and Sobol's localisation, determinism, batching, and every
kind of Keras model."""

from __future__ import annotations

import numpy as np
import pytest

from kerasviz.backbones import as_backbone
from kerasviz.blackbox import as_predictor, kernel_shap, lime, rise, sobol_attribution
from kerasviz.blackbox.masks import RiseMasks
from kerasviz.compiled import cached

SIZE = 24
SEGMENTS = np.arange(SIZE)[:, None] // 8 * 3 + np.arange(SIZE)[None] // 8  # 3 x 3 blocks
WEIGHTS = np.array([0.05, -0.03, 0.08, 0.0, 0.02, -0.06, 0.04, 0.01, -0.02])
BRIGHT = np.full((SIZE, SIZE, 3), 200.0, np.float32)


def linear_over_segments(images):
    """p(class 0) = 0.5 + sum_k w_k * (segment k's mean / 200): linear in which segments are kept."""
    gray = np.asarray(images, np.float64).mean(axis=-1).reshape(len(images), -1)
    means = np.stack([np.bincount(SEGMENTS.ravel(), g, minlength=9) for g in gray]) / 64.0 / 200.0
    p = 0.5 + means @ WEIGHTS
    return np.stack([p, 1 - p], axis=1)


def test_kernel_shap_recovers_a_linear_model():
    heatmap, values = kernel_shap(linear_over_segments, BRIGHT, 0, segments=SEGMENTS, samples=200, baseline=0, return_segments=True)
    np.testing.assert_allclose(values, WEIGHTS, atol=1e-6)
    np.testing.assert_allclose(heatmap, WEIGHTS[SEGMENTS], atol=1e-6)


def test_lime_recovers_a_linear_model():
    _, values = lime(linear_over_segments, BRIGHT, 0, segments=SEGMENTS, samples=2000, baseline=0, return_segments=True)
    # Ridge (alpha 1) shrinks slightly; the direction is exact.
    assert np.corrcoef(values, WEIGHTS)[0, 1] > 0.999
    np.testing.assert_allclose(values, WEIGHTS, atol=0.01)


@pytest.mark.parametrize(
    "name", ["zoo_sequential", "zoo_nested", "zoo_ops", "zoo_subclassed", pytest.param("zoo_vit", marks=pytest.mark.slow)]
)
def test_efficiency_on_every_kind_of_model(name, request):
    model = request.getfixturevalue(name)
    image = np.random.default_rng(2).uniform(0, 255, (32, 32, 3)).astype(np.float32)
    segments = np.arange(32)[:, None] // 8 * 4 + np.arange(32)[None] // 8
    _, values = kernel_shap(model, image, 1, segments=segments, samples=64, baseline=(10, 20, 30), return_segments=True)
    probabilities = as_predictor(model)(np.stack([image, np.broadcast_to(np.float32([10, 20, 30]), image.shape)]))
    np.testing.assert_allclose(values.sum(), probabilities[0, 1] - probabilities[1, 1], atol=1e-6)
    for method in (rise, sobol_attribution):
        heatmap = method(model, image, 1, **({"masks": 32} if method is rise else {"grid": 3, "design": 4}))
        assert heatmap.shape == (32, 32) and np.all(np.isfinite(heatmap))


def region_detector(images):
    """p(class 0) grows with the brightness of the top-left 8 x 8 corner only."""
    corner = np.asarray(images, np.float64)[:, :8, :8].mean(axis=(1, 2, 3)) / 255.0
    p = 0.1 + 0.8 * corner
    return np.stack([p, 1 - p], axis=1)


def test_rise_and_sobol_find_the_region():
    for method, kwargs in ((rise, {"masks": 400, "cell": 4}), (sobol_attribution, {"grid": 6, "design": 16})):
        heatmap = method(region_detector, BRIGHT, 0, **kwargs)
        blocks = heatmap.reshape(3, 8, 3, 8).mean(axis=(1, 3))
        assert blocks.argmax() == 0, method.__name__
        assert blocks[0, 0] - blocks.min() > 0.5 * (heatmap.max() - heatmap.min()), method.__name__
    assert sobol_attribution(region_detector, BRIGHT, 0, grid=6, design=16).min() >= 0


def test_same_seed_same_map_whatever_the_batch():
    sizes = []

    def recording(images):
        sizes.append(len(images))
        return region_detector(images)

    first = rise(recording, BRIGHT, 0, masks=100, seed=3, batch_size=64)
    assert max(sizes) <= 64
    np.testing.assert_array_equal(first, rise(region_detector, BRIGHT, 0, masks=100, seed=3, batch_size=7))
    assert not np.array_equal(first, rise(region_detector, BRIGHT, 0, masks=100, seed=4))
    for method in (lime, kernel_shap):
        a = method(region_detector, BRIGHT, 0, segments=SEGMENTS, samples=50, seed=1, batch_size=8)
        np.testing.assert_array_equal(a, method(region_detector, BRIGHT, 0, segments=SEGMENTS, samples=50, seed=1, batch_size=50))


def test_masks_are_made_per_batch():
    masks = RiseMasks(4000, 7, 0.5, (224, 224), 0)
    assert masks.grids.nbytes + masks.shifts.nbytes < 1_000_000  # not 4000 x 224 x 224 floats (800 MB)
    batch = masks[slice(0, 8)]
    assert batch.shape == (8, 224, 224) and batch.min() >= 0 and batch.max() <= 1
    np.testing.assert_array_equal(masks[slice(5, 8)], batch[5:])
    # Each mask is the upsampled grid cropped at its shift (the authors' definition).
    up = masks.rows @ masks.grids[3] @ masks.cols.T
    y, x = masks.shifts[3]
    np.testing.assert_allclose(batch[3], up[y : y + 224, x : x + 224], atol=1e-6)


def test_in_process_forward_is_compiled_once(zoo_sequential):
    image = np.random.default_rng(3).uniform(0, 255, (32, 32, 3)).astype(np.float32)
    rise(zoo_sequential, image, 0, masks=20, batch_size=8)
    function = cached(as_backbone(zoo_sequential).model, "logits", lambda: None)
    count = function.experimental_get_tracing_count()
    rise(zoo_sequential, np.stack([image, image]), [1, 2], masks=30, batch_size=16)
    kernel_shap(zoo_sequential, image, 3, segments=np.arange(32)[:, None] // 16 * 2 + np.arange(32)[None] // 16, samples=20)
    assert function.experimental_get_tracing_count() == count
    model = as_backbone(zoo_sequential).model
    for key in ("rise_step", "segment_step"):  # the perturb + forward + reduce steps: traced once
        step = cached(model, ("blackbox", key), lambda: None)
        before = step.experimental_get_tracing_count()
        assert before == 1
        rise(zoo_sequential, image, 4, masks=13, batch_size=5)
        lime(zoo_sequential, image, 5, segments=np.arange(32)[:, None] // 8 * 4 + np.arange(32)[None] // 8, samples=11)
        assert step.experimental_get_tracing_count() == before


def test_compiled_path_equals_numpy_path(zoo_sequential):
    # A Backbone / keras.Model is perturbed, run and reduced on the graph; the same model as a
    # plain callable gets NumPy images. Same masks and coalitions, so the same maps.
    image = np.random.default_rng(5).uniform(0, 255, (32, 32, 3)).astype(np.float32)
    plain = as_predictor(zoo_sequential).function
    assert as_predictor(zoo_sequential).keras_model is not None
    compiled_map, numpy_map = rise(zoo_sequential, image, 2, masks=40, seed=2), rise(plain, image, 2, masks=40, seed=2)
    np.testing.assert_allclose(compiled_map, numpy_map, atol=1e-5)
    assert compiled_map.std() > 1e-4
    segments = np.arange(32)[:, None] // 8 * 4 + np.arange(32)[None] // 8
    for method in (lime, kernel_shap):
        ours = method(zoo_sequential, image, 2, segments=segments, samples=60, baseline=30, return_segments=True)[1]
        reference = method(plain, image, 2, segments=segments, samples=60, baseline=30, return_segments=True)[1]
        np.testing.assert_allclose(ours, reference, atol=1e-5)


def test_litert_path_equals_graph_path(zoo_sequential, monkeypatch):
    # Long streams run on the model converted to LiteRT, with the masks / images made in NumPy.
    from kerasviz import litert_forward

    calls = []
    original = litert_forward.LiteRTForward.__call__
    monkeypatch.setattr(litert_forward.LiteRTForward, "__call__", lambda self, batch: calls.append(len(batch)) or original(self, batch))
    image = np.random.default_rng(6).uniform(0, 255, (32, 32, 3)).astype(np.float32)
    segments = np.arange(32)[:, None] // 8 * 4 + np.arange(32)[None] // 8
    results = {}
    for engine in ("tensorflow", "litert"):
        litert_forward.set_forward_engine(engine)
        try:
            results[engine] = [rise(zoo_sequential, image, 2, masks=40, seed=2, batch_size=16)] + [
                method(zoo_sequential, image, 2, segments=segments, samples=60, baseline=30, return_segments=True)[1]
                for method in (lime, kernel_shap)
            ]
        finally:
            litert_forward.set_forward_engine("auto")
    for graph, converted in zip(results["tensorflow"], results["litert"]):
        np.testing.assert_allclose(converted, graph, atol=1e-5)
    assert sum(calls) >= 40 + 60 + 60  # every query of the "litert" runs went through LiteRT


def test_in_process_nan_is_a_predictor_error():
    import keras

    from kerasviz.blackbox import PredictorError

    broken = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Rescaling(float("nan")), keras.layers.Flatten(), keras.layers.Dense(3)])
    image = np.full((8, 8, 3), 100.0, np.float32)
    with pytest.raises(PredictorError, match="NaN.*after 0 of 12 queries"):
        rise(broken, image, 1, masks=12)
    with pytest.raises(PredictorError, match="NaN"):
        kernel_shap(broken, image, 1, segments=np.arange(8)[:, None] // 4 * 2 + np.arange(8)[None] // 4, samples=10)


def test_default_segments_and_mean_baseline(zoo_sequential):
    image = np.random.default_rng(5).uniform(0, 255, (32, 32, 3)).astype(np.float32)
    heatmap, values = lime(zoo_sequential, image, None, samples=30, return_segments=True)
    assert heatmap.shape == (32, 32) and len(values) >= 2
    assert set(np.unique(heatmap)) <= set(values.tolist())


def test_default_segments_never_collapse_to_one():
    from kerasviz.blackbox import default_segments

    flat = np.full((20, 20, 3), 90.0, np.float32)
    labels = default_segments(flat)
    assert labels.shape == (20, 20) and labels.max() >= 1 and labels.min() == 0
