"""CRAFT: for "Egyptian cat" on the cat | espresso photo, the most important concept is the cat."""

from __future__ import annotations

import numpy as np
import pytest

from kerasviz.concepts import craft
from kerasviz.concepts.craft import total_sobol_indices
from kerasviz.errors import ModelError

CAT = 285


def test_the_cat_concept_matters_for_the_cat_class(lite0, chelsea, coffee):
    from kerasviz.images import resize_image

    image = np.concatenate([resize_image(chelsea, (224, 112)), resize_image(coffee, (224, 112))], axis=1)
    result = craft(lite0, image, CAT, None, 3, top=4)
    assert result.concepts.shape == (3, 1280) and result.crops.shape == (3, 4, 224, 224, 3)
    assert result.crops.dtype == np.uint8 and result.importance.min() >= 0
    ranked = np.argsort(-result.importance)
    # Measured: importances 1.01 (cat), 0.019 and 0.006 (espresso, saucer).
    assert result.importance[ranked[0]] > 5 * result.importance[ranked[1]]
    crop_side = int(round(0.35 * 224))
    centres = result.crop_sources[:, 2] + crop_side / 2
    typical = np.argsort(-result.crop_coefficients, axis=0)[:4]
    assert (centres[typical[:, ranked[0]]] < 112).mean() >= 0.75  # on the cat half
    assert (centres[typical[:, ranked[1:]]] > 112).mean() >= 0.75  # on the espresso half


def test_sobol_indices_of_a_known_function():
    # f = 4 x0 + x1 (+ nothing of x2): total indices 16/17, 1/17, 0.
    rng = np.random.default_rng(0)
    indices = total_sobol_indices(lambda p: 4 * p[:, 0] + p[:, 1], 3, 512, rng)
    np.testing.assert_allclose(indices, [16 / 17, 1 / 17, 0.0], atol=0.03)


def test_headless_is_refused(zoo_headless, digit_images):
    with pytest.raises(ModelError):
        craft(zoo_headless, digit_images[:2], 0, "headless_conv3", 2)


@pytest.mark.slow
def test_pictures_of_the_concept_family(lite0):
    from kerasviz.concepts.pictures import atlas_picture, craft_picture, dff_picture

    for picture, caption in (dff_picture(lite0), craft_picture(lite0), atlas_picture(lite0, grid=3, steps=4, projection="pca", count=16)):
        assert picture.dtype == np.uint8 and picture.ndim == 3 and picture.std() > 10 and caption
