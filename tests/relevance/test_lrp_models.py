"""LRP on Lite0 with its ImageNet weights (slow) and the relevance picture. Every Keras
Applications family and every model kind is a cell of the conformance matrix
(tests/test_conformance.py), which runs each registry technique, LRP included.
"""

from __future__ import annotations

import numpy as np
import pytest

from kerasviz.relevance import lrp
from kerasviz.relevance.pictures import relevance_picture


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
