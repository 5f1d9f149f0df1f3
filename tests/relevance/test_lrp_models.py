"""LRP on every Keras Applications family (weights=None, small inputs; slow), on Lite0 with its
ImageNet weights (slow), and the relevance picture.

Every family must give a finite map of the image's shape (no node without a rule: the clone
refuses those with a ModelError naming them).
"""

from __future__ import annotations

import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from kerasviz.relevance import lrp
from kerasviz.relevance.pictures import relevance_picture

sys.path.insert(0, str(Path(__file__).parents[1]))
from test_conformance import APPLICATIONS  # noqa: E402


@pytest.mark.slow
@pytest.mark.parametrize("family", list(APPLICATIONS))
def test_applications(family):
    build, side = APPLICATIONS[family]
    keras.utils.set_random_seed(0)
    model = build()
    images = np.random.default_rng(0).uniform(0, 255, (2, side, side, 3)).astype(np.float32)
    maps = lrp(model, images, [1, 2], composite="epsilon_plus_flat")
    assert maps.shape == (2, side, side) and np.isfinite(maps).all()


@pytest.mark.slow
def test_lite0_relevance_on_the_cat(lite0, chelsea):
    maps = lrp(lite0, chelsea, 285, composite="epsilon_plus_flat")
    assert maps.shape == (224, 224) and np.isfinite(maps).all()
    assert maps.sum() > 0
    # the cat fills the middle of the photo: most positive relevance lies inside the central box
    positive = np.maximum(maps, 0)
    assert positive[40:200, 30:200].sum() > 0.8 * positive.sum()


def test_relevance_picture_is_centred_on_zero():
    maps = np.array([[-2.0, 0.0], [1.0, 2.0]], np.float32)
    picture = relevance_picture(maps, percentile=100)
    assert picture.dtype == np.uint8 and picture.shape == (2, 2, 3)
    assert tuple(picture[0, 1]) == (255, 255, 255)  # zero is white
    assert tuple(picture[1, 1]) == (255, 0, 0)  # the largest positive value is red
    assert tuple(picture[0, 0]) == (0, 0, 255)  # as large negative: blue
    over = relevance_picture(np.zeros((4, 4)), np.full((8, 8, 3), 200.0))
    assert over.shape == (8, 8, 3) and np.all(over == 228)  # no relevance: the faded photo
