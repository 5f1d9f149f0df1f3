"""Deep Feature Factorization: two concepts separate a cat from an espresso."""

from __future__ import annotations

import numpy as np
import pytest

from kerasviz.concepts import concept_overlay, deep_feature_factorization
from kerasviz.errors import ModelError, ParameterError

CAT, ESPRESSO = 285, 967


@pytest.fixture(scope="module")
def cat_and_espresso(chelsea, coffee):
    from kerasviz.images import resize_image

    return np.concatenate([resize_image(chelsea, (224, 112)), resize_image(coffee, (224, 112))], axis=1)


def test_two_concepts_separate_the_two_objects(lite0, cat_and_espresso):
    result = deep_feature_factorization(lite0, cat_and_espresso, None, 2)
    maps = result.maps
    assert maps.shape == (1, 2, 224, 224) and maps.min() >= 0 and maps.max() == pytest.approx(1.0)
    left_share = maps[0, :, :, :112].sum(axis=(1, 2)) / maps[0].sum(axis=(1, 2))
    cat_concept, other = (0, 1) if left_share[0] > left_share[1] else (1, 0)
    # Measured: 0.92 of the cat concept's mass on the cat half, 0.91 of the other on the espresso.
    assert left_share[cat_concept] > 0.8 and left_share[other] < 0.2
    assert CAT in result.top_classes[cat_concept][:3]
    assert result.concepts.shape == (2, 1280) and result.concepts.min() >= 0
    assert 0 < result.error < 1
    overlay = concept_overlay(cat_and_espresso[None], maps)
    assert overlay.shape == (1, 224, 224, 3) and overlay.dtype == np.uint8


def test_concepts_of_a_set_reconstruct_the_activations(cnn, digit_images):
    few = deep_feature_factorization(cnn, digit_images[:20], "conv2", 1)
    many = deep_feature_factorization(cnn, digit_images[:20], "conv2", 8, top=3)
    assert many.maps.shape == (20, 8, 32, 32) and many.top_classes.shape == (8, 3)
    assert many.error < few.error


def test_headless_and_bad_layers(zoo_headless, cnn, digit_images):
    result = deep_feature_factorization(zoo_headless, digit_images[:4], "headless_conv3", 2)
    assert result.top_classes is None and result.maps.shape == (4, 2, 32, 32)
    with pytest.raises(ModelError, match="spatial feature map"):
        deep_feature_factorization(cnn, digit_images[:4], "gap", 2)
    with pytest.raises(ParameterError):
        deep_feature_factorization(cnn, digit_images[:4], "conv2", 0)
