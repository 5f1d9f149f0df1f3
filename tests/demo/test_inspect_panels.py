"""The inspect panels' crop pool on vgg16_hed: patches without padding, one per photo spot, from
several photos; neighbours and guided backprop of the same units (quick mode)."""

import numpy as np
import pytest

from kerasviz.demo import DemoContext
from kerasviz.demo.crop_pool import (
    CROP,
    PATCH_LAYER,
    PHOTOS,
    coherence,
    crop_pool,
    photo_box,
    top_units,
    unit_patches,
)
from kerasviz.demo.inspect import patch_rows
from kerasviz.inspect.patches import crop_field


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    context = DemoContext(out=tmp_path_factory.mktemp("inspect"), quick=True)
    crop_pool(context)  # one forward pass over the quick pool (51 crops of 128 px)
    return context


def _padding_fraction(field, row, col):
    top, left, bottom, right = field.window(row, col)
    inside_h = max(0, min(bottom, CROP) - max(top, 0))
    inside_w = max(0, min(right, CROP) - max(left, 0))
    return 1.0 - inside_h * inside_w / ((bottom - top) * (right - left))


def test_pool_holds_crops_of_every_photo_with_their_features(ctx):
    pool = crop_pool(ctx)
    assert set(pool.photos) == set(PHOTOS) and len(PHOTOS) >= 15
    assert pool.images.shape == (len(pool.photos), CROP, CROP, 3)
    assert pool.maps.shape[:3] == (len(pool.photos), 16, 16) and pool.features.shape[1] == 512
    assert pool.field.size == (92, 92)  # block4_conv3 of VGG16
    assert 0 < pool.inside.sum() < pool.inside.size


def test_shown_patches_have_no_padding(ctx):
    pool = crop_pool(ctx)
    rows, patches = patch_rows(ctx)
    fractions = [
        _padding_fraction(pool.field, *position) for unit in rows for position in unit.positions
    ]
    print(f"padding fraction of the {len(fractions)} shown patches: mean {np.mean(fractions):.3f}, "
          f"max {np.max(fractions):.3f}")
    assert max(fractions) < 0.10
    # What the old panel did (best unit of the whole map, any position): mostly padding.
    channel = rows[0].channel
    best = pool.maps[..., channel].reshape(len(pool.images), -1).argmax(axis=1)
    old = [_padding_fraction(pool.field, *divmod(int(b), pool.maps.shape[2])) for b in best]
    print(f"without the inside rule: mean padding {np.mean(old):.3f}")
    for unit, row in zip(rows, patches):  # the pictures are the crops' own pixels at each field
        for crop, position, patch in zip(unit.crops, unit.positions, row):
            expected = np.clip(np.round(crop_field(pool.images[crop], pool.field, *position)), 0, 255)
            np.testing.assert_allclose(patch, expected, atol=1)


def test_patches_are_each_units_strongest_distinct_spots_from_several_photos(ctx):
    pool = crop_pool(ctx)
    rows, _ = patch_rows(ctx)
    assert len(rows) == 4 and len({unit.channel for unit in rows}) == 4
    for unit in rows:
        values = [pool.maps[c, r, k, unit.channel] for c, (r, k) in zip(unit.crops, unit.positions)]
        np.testing.assert_allclose(values, unit.activations, rtol=1e-6)
        assert unit.activations == sorted(unit.activations, reverse=True)
        inside_max = pool.maps[:, pool.inside][..., unit.channel].max()
        assert unit.activations[0] == pytest.approx(inside_max, rel=1e-6)  # the best comes first
        assert len({pool.photos[c] for c in unit.crops}) >= 2
        boxes = [photo_box(pool, c, *p) for c, p in zip(unit.crops, unit.positions)]
        for i in range(len(boxes)):
            for j in range(i):
                if pool.photos[unit.crops[i]] == pool.photos[unit.crops[j]]:
                    a, b = boxes[i], boxes[j]
                    h = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
                    w = max(0.0, min(a[1] + a[2], b[1] + b[2]) - max(a[1], b[1]))
                    assert h * w <= min(a[2], b[2]) ** 2 / 3 + 1e-6  # distinct spots


def test_chosen_units_are_more_coherent_than_typical_units(ctx):
    pool = crop_pool(ctx)
    rows, _ = patch_rows(ctx)
    chosen = np.mean([coherence(pool, unit) for unit in rows])
    others = [coherence(pool, unit_patches(pool, c, 6)) for c in range(0, 512, 16)]
    print(f"coherence: chosen units {chosen:.3f}, every 16th channel median {np.median(others):.3f}")
    assert chosen > np.percentile(others, 90)


def test_photo_box_maps_flipped_crops_back(ctx):
    pool = crop_pool(ctx)
    flipped = int(np.flatnonzero(pool.boxes[:, 3])[0])
    top, left, side, _ = pool.boxes[flipped]
    first = photo_box(pool, flipped, 6, 6)
    mirrored = photo_box(pool, flipped, 6, pool.maps.shape[2] - 1 - 6)
    # A flipped crop's left-most inside unit sees the photo's right side of the crop, and v.v.
    assert first[1] + first[2] <= left + side + 1e-6 and mirrored[1] >= left - 1e-6
    assert first[1] > mirrored[1]


def test_top_units_honours_min_photos(ctx):
    pool = crop_pool(ctx)
    for unit in top_units(pool, 3, 5, min_photos=4):
        assert len({pool.photos[c] for c in unit.crops}) >= 4
    assert PATCH_LAYER == "block4_conv3"
