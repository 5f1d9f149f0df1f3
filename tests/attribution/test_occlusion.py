"""Batched occlusion sensitivity on real Lite0 weights."""

from __future__ import annotations

import numpy as np
import pytest

from kerasviz.attribution import occlusion
from kerasviz.attribution.occlusion import _corners
from kerasviz.compiled import cached
from kerasviz.errors import ImageError, ParameterError, TargetError

CAT, ESPRESSO = 285, 967
FAST = dict(patch=56, stride=56)  # 16 positions + 1 per image


def test_corners_reach_the_far_edge():
    np.testing.assert_array_equal(_corners(224, 56, 28), [0, 28, 56, 84, 112, 140, 168])
    np.testing.assert_array_equal(_corners(10, 4, 4), [0, 4, 6])
    np.testing.assert_array_equal(_corners(4, 4, 1), [0])


def test_shapes_and_batching(lite0, chelsea, coffee):
    single = occlusion(lite0, chelsea, CAT, **FAST)
    assert single.shape == (224, 224) and single.dtype == np.float32
    # A drop in probability lies in [-1, 1] and is constant on each 56 x 56 patch here.
    assert -1 <= single.min() <= single.max() <= 1
    assert np.unique(single[:56, :56]).size == 1
    both = occlusion(lite0, np.stack([chelsea, coffee]), [CAT, ESPRESSO], batch_size=5, **FAST)
    np.testing.assert_allclose(both[0], single, atol=1e-5)


def test_drop_matches_a_hand_made_occlusion(lite0, chelsea):
    heat = occlusion(lite0, chelsea, CAT, patch=112, stride=112, fill=(0, 0, 0))
    probabilities = lite0.predict(chelsea)[0, CAT]
    hidden = chelsea.copy()
    hidden[112:, :112] = 0
    expected = probabilities - lite0.predict(hidden)[0, CAT]
    assert heat[150, 50] == pytest.approx(expected, abs=1e-4)


def test_errors(lite0, chelsea):
    for kwargs in [dict(patch=0), dict(patch=300), dict(stride=(1, 2, 3)), dict(fill=-1),
                   dict(fill=(1, 2)), dict(batch_size=0)]:
        with pytest.raises(ParameterError):
            occlusion(lite0, chelsea, CAT, **kwargs)
    with pytest.raises(TargetError):
        occlusion(lite0, chelsea, 5000)
    with pytest.raises(ImageError):
        occlusion(lite0, chelsea[None, ..., :1], CAT)


def test_compiled_once(lite0, chelsea):
    occlusion(lite0, chelsea, CAT, **FAST)
    fn = cached(lite0.model, "occlusion", lambda: None).function
    count = fn.experimental_get_tracing_count()
    occlusion(lite0, np.stack([chelsea, chelsea]), [1, 2], patch=112, stride=112, batch_size=3)
    assert fn.experimental_get_tracing_count() == count


def test_pointing_game(lite0, halves, pointing):
    # Measured (positive drops, 28 x 28 patches, stride 28 so no patch straddles the seam):
    # left-half mass cat 0.81, espresso 0.38; block peaks at columns 72 / 184. 32 / 16 patches
    # gave 0.86 / 0.42 (peaks 56 / 168). 56 / 28 patches put the espresso peak at column 104:
    # patches straddling the seam hide both objects.
    maps = occlusion(lite0, np.stack([halves, halves]), [CAT, ESPRESSO], patch=28, stride=28)
    cat_left, cat_peak = pointing(maps[0])
    espresso_left, espresso_peak = pointing(maps[1])
    assert cat_left > 0.6 and cat_peak < 112
    assert espresso_left < 0.5 and espresso_peak >= 112
