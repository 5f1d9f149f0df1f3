"""Deletion / insertion curves and the pointing game: exact on an analytic model, and on Lite0."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from kerasviz.attribution import (
    attribution_maps,
    deletion_insertion,
    gradcam,
    integrated_gradients,
    pointing_game,
)
from kerasviz.compiled import cached
from kerasviz.errors import ImageError, ParameterError, TargetError

CAT, ESPRESSO = 285, 967
SIDE = 8


@pytest.fixture(scope="module")
def linear():
    """Pixels (8, 8, 3) -> logits (score, 0): score = sum_ij w_ij * mean_c x_ijc, so a pixel's
    contribution is exactly `w_ij * mean_c x_ijc` and removing pixels (to black) subtracts it."""
    rng = np.random.default_rng(1)
    weights = rng.normal(0.0, 1.0, (SIDE, SIDE)).astype(np.float32)
    inputs = keras.Input((SIDE, SIDE, 3))
    flat = keras.layers.Flatten()(inputs)
    dense = keras.layers.Dense(2, name="linear")
    model = keras.Model(inputs, dense(flat))
    kernel = np.zeros((SIDE * SIDE * 3, 2), np.float32)
    kernel[:, 0] = np.repeat(weights.ravel(), 3) / 3.0
    dense.set_weights([kernel, np.zeros(2, np.float32)])
    images = rng.uniform(0.0, 255.0, (3, SIDE, SIDE, 3)).astype(np.float32)
    contributions = weights * images.mean(axis=-1)
    return model, images, contributions


def _expected_curves(contributions, steps):
    """Deletion / insertion logits of the linear model when pixels go in `contributions` order."""
    flat = contributions.reshape(len(contributions), -1)
    ordered = -np.sort(-flat, axis=1)
    counts = np.round(np.linspace(0, 1, steps + 1) * flat.shape[1]).astype(int)
    cumulative = np.concatenate([np.zeros((len(flat), 1)), np.cumsum(ordered, axis=1)], axis=1)
    inserted = cumulative[:, counts]
    return flat.sum(axis=1, keepdims=True) - inserted, inserted


def test_linear_model_curves_are_exact(linear):
    model, images, contributions = linear
    result = deletion_insertion(
        model, images, contributions, 0, steps=16, score="logit", insertion_baseline=0.0
    )
    deletion, insertion = _expected_curves(contributions, 16)
    np.testing.assert_allclose(result.deletion, deletion, rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(result.insertion, insertion, rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(result.fractions, np.round(np.linspace(0, 1, 17) * 64) / 64)
    assert result.deletion_auc.shape == (3,)
    np.testing.assert_allclose(
        result.deletion_auc, np.trapezoid(deletion, result.fractions, axis=1), rtol=1e-4
    )


def test_the_true_ranking_beats_random_and_inverted_maps(linear):
    # For a linear score, removing pixels in order of contribution is the best possible order:
    # its deletion curve lies below any other at every step (and its insertion curve above).
    model, images, contributions = linear
    rng = np.random.default_rng(0)

    def measure(maps):
        return deletion_insertion(
            model, images, maps, 0, steps=16, score="logit", insertion_baseline=0.0
        )

    true = measure(contributions)
    inverted = measure(-contributions)
    for _ in range(5):
        random = measure(rng.uniform(size=contributions.shape))
        assert np.all(true.deletion <= random.deletion + 1e-2)
        assert np.all(true.insertion >= random.insertion - 1e-2)
        assert np.all(true.deletion_auc < random.deletion_auc)
        assert np.all(random.deletion_auc < inverted.deletion_auc)
        assert np.all(true.insertion_auc > random.insertion_auc)
        assert np.all(random.insertion_auc > inverted.insertion_auc)


def test_probability_score_batching_single_image_and_callables(linear):
    model, images, contributions = linear
    steps = 8
    both = deletion_insertion(model, images, contributions, 0, steps=steps, batch_size=5)
    assert both.deletion.shape == (3, steps + 1) and both.insertion.shape == (3, steps + 1)
    assert np.all((both.deletion >= 0) & (both.deletion <= 1))
    one = deletion_insertion(model, images[1], contributions[1], 0, steps=steps, batch_size=1)
    assert one.deletion.shape == (steps + 1,) and np.ndim(one.deletion_auc) == 0
    np.testing.assert_allclose(one.deletion, both.deletion[1], atol=1e-6)
    np.testing.assert_allclose(one.insertion, both.insertion[1], atol=1e-6)
    # A method instead of maps, a callable target, and per-colour attributions.
    by_method = deletion_insertion(
        model, images, lambda m, x, t: contributions, lambda p: p[:, 0], steps=steps
    )
    np.testing.assert_allclose(by_method.deletion, both.deletion, atol=1e-6)
    per_colour = np.repeat(contributions[..., None], 3, axis=-1) / 3
    np.testing.assert_allclose(
        deletion_insertion(model, images, per_colour, 0, steps=steps).deletion,
        both.deletion,
        atol=1e-6,
    )


def test_scored_through_one_cached_forward(linear):
    model, images, contributions = linear
    deletion_insertion(model, images, contributions, 0, steps=4, batch_size=7)
    from kerasviz.backbones import as_backbone

    forward = cached(as_backbone(model).model, "logits", lambda: None)
    count = forward.experimental_get_tracing_count()
    deletion_insertion(model, images[:2], contributions[:2], [0, 1], steps=9, batch_size=3)
    assert forward.experimental_get_tracing_count() == count


def test_errors(linear):
    model, images, contributions = linear
    with pytest.raises(ParameterError, match="steps"):
        deletion_insertion(model, images, contributions, 0, steps=0)
    with pytest.raises(ParameterError, match="score"):
        deletion_insertion(model, images, contributions, 0, score="softmax")
    with pytest.raises(ParameterError, match="deletion_baseline"):
        deletion_insertion(model, images, contributions, 0, deletion_baseline=300)
    with pytest.raises(ParameterError, match="insertion_baseline"):
        deletion_insertion(model, images, contributions, 0, insertion_baseline="noise")
    with pytest.raises(ImageError, match="one map per image"):
        deletion_insertion(model, images, contributions[:2], 0)
    with pytest.raises(ImageError, match="NaN"):
        deletion_insertion(model, images, np.full_like(contributions, np.nan), 0)
    with pytest.raises(TargetError):
        deletion_insertion(model, images, contributions, 5)


def test_pointing_game_masks_boxes_tolerance_and_energy():
    maps = np.zeros((3, 32, 32), np.float32)
    maps[0, 5, 5] = 1.0  # inside the box
    maps[1, 5, 30] = 1.0  # 10 px right of the box
    maps[2, 30, 30] = 1.0  # far away
    maps[:, 0, 0] = 0.5
    box = (0, 0, 16, 21)  # top, left, bottom, right (exclusive)
    strict = pointing_game(maps, box, tolerance=0)
    assert strict.hits.tolist() == [True, False, False] and strict.accuracy == pytest.approx(1 / 3)
    assert strict.peaks.tolist() == [[5, 5], [5, 30], [30, 30]]
    assert pointing_game(maps, box).hits.tolist() == [True, True, False]  # 15 px tolerance
    np.testing.assert_allclose(pointing_game(maps, box).energy, [1.0, 0.5 / 1.5, 0.5 / 1.5])
    mask = np.zeros((32, 32), bool)
    mask[:16, :21] = True
    np.testing.assert_array_equal(pointing_game(maps, mask).hits, pointing_game(maps, box).hits)
    # Several objects per map: a second box around the far peak.
    boxes = [np.array([box]), np.array([box]), np.array([box, (28, 28, 32, 32)])]
    assert pointing_game(maps, boxes, tolerance=0).hits.tolist() == [True, False, True]
    assert np.isnan(pointing_game(np.zeros((32, 32)), box).energy[0])


def test_pointing_game_errors():
    maps = np.ones((2, 8, 8))
    with pytest.raises(ParameterError, match="masks_or_boxes"):
        pointing_game(maps, np.ones((3, 3)))
    with pytest.raises(ParameterError, match="empty"):
        pointing_game(maps, (2, 2, 2, 6))
    with pytest.raises(ParameterError, match="tolerance"):
        pointing_game(maps, (0, 0, 4, 4), tolerance=-1)
    with pytest.raises(ImageError):
        pointing_game(np.ones(5), (0, 0, 4, 4))
    assert attribution_maps(np.ones((2, 4, 4, 3))).shape == (2, 4, 4)


@pytest.mark.slow
def test_gradcam_and_ig_against_random_and_inverted_maps_on_lite0(lite0, chelsea, coffee):
    # RISE defaults (pixels deleted to black, inserted into a blur; softmax probability), 16 steps.
    # Measured AUCs, chelsea (285) / coffee (967):
    #               deletion (lower better)   insertion (higher better)
    #   Grad-CAM        0.283 / 0.122             0.611 / 0.628
    #   IG (signed)     0.027 / 0.036             0.289 / 0.149
    #   |IG|            0.041 / 0.091             0.315 / 0.559
    #   random pixels   0.036 / 0.070             0.314 / 0.202
    #   inverted CAM    0.630 / 0.661             0.545 / 0.254
    #   inverted |IG|   0.066 / 0.537             0.449 / 0.150
    # Scattered black pixels are far outside the training data, so a random pixel order deletes
    # the class fastest of all: Grad-CAM's smooth map does NOT beat it at deletion (on either
    # image; region deletion, `patch=8`, gives the same). Insertion and the inverted maps separate
    # clearly; signed IG only edges out random at deletion, |IG| separates on coffee.
    images, target = np.stack([chelsea, coffee]), [CAT, ESPRESSO]
    cam = gradcam(lite0, images, target)
    ig = integrated_gradients(lite0, images, target, steps=16)
    magnitude = np.abs(ig.attributions).sum(axis=-1)
    random = np.random.default_rng(0).uniform(size=cam.shape)
    results = {
        name: deletion_insertion(lite0, images, maps, target, steps=16)
        for name, maps in [
            ("gradcam", cam), ("ig", ig), ("|ig|", magnitude), ("random", random),
            ("inverted", -cam), ("inverted |ig|", -magnitude),
        ]
    }
    for name, r in results.items():
        print(name, "deletion", r.deletion_auc.round(3), "insertion", r.insertion_auc.round(3))
    cam_, ig_, mag = results["gradcam"], results["ig"], results["|ig|"]
    assert np.all(cam_.deletion_auc < results["inverted"].deletion_auc - 0.2)
    assert np.all(cam_.insertion_auc > results["random"].insertion_auc + 0.25)
    assert np.all(cam_.insertion_auc > results["inverted"].insertion_auc + 0.05)
    assert np.all(ig_.deletion_auc < results["random"].deletion_auc)
    assert np.all(mag.deletion_auc < results["inverted |ig|"].deletion_auc)
    assert mag.deletion_auc[1] < results["inverted |ig|"].deletion_auc[1] - 0.3
    assert mag.insertion_auc[1] > results["random"].insertion_auc[1] + 0.25
