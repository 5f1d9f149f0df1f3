"""Image quilting: the network-free texture baseline."""

from __future__ import annotations

import numpy as np
import pytest

from kerasviz.errors import ImageError, KerasvizError, ParameterError
from kerasviz.images import sample_image
from kerasviz.synthesis.patch_texture import quilt_texture
from kerasviz.synthesis.texture import synthesize_texture


@pytest.fixture(scope="module")
def brick() -> np.ndarray:
    return sample_image("brick", size=96)


def test_smoke_and_cardinality(brick):
    out = quilt_texture(brick, (100, 130), seed=0)
    assert out.shape == (100, 130, 3) and out.dtype == np.uint8
    same = synthesize_texture(None, brick, (100, 130), method="patch", seed=0)
    np.testing.assert_array_equal(out, same)  # the public entry point dispatches here


def test_seed_reproducible_and_varies(brick):
    a, b = quilt_texture(brick, 96, seed=1), quilt_texture(brick, 96, seed=1)
    np.testing.assert_array_equal(a, b)
    assert np.any(a != quilt_texture(brick, 96, seed=2))


def test_copies_source_pixels(brick):
    out = quilt_texture(brick, 128, seed=0)
    source_colours = {tuple(p) for p in np.rint(brick).astype(np.uint8).reshape(-1, 3)}
    assert all(tuple(p) in source_colours for p in out.reshape(-1, 3)[::5])


def test_overlap_matching_continues_structure():
    """Coloured stripes of period 8 stay in phase across every patch border.

    Overlap matching (tolerance 0) must pick, for each patch, a source position whose stripes
    continue the placed ones, so the output is exactly 8-periodic in x. Patches placed without
    matching would break the phase with probability 7/8 each (checked: random tiling leaves
    most columns out of phase).
    """
    palette = np.random.default_rng(0).integers(0, 256, size=(8, 3))
    stripes = np.broadcast_to(palette[np.arange(64) % 8][None], (64, 64, 3)).astype(np.uint8)
    out = quilt_texture(stripes, (90, 150), patch_size=20, overlap=5, tolerance=0.0, seed=3)
    np.testing.assert_array_equal(out[:, 8:], out[:, :-8])
    np.testing.assert_array_equal(out[1:], out[:-1])  # every row identical: columns continue
    rng = np.random.default_rng(1)
    tiled = np.concatenate(
        [stripes[:, s : s + 15] for s in rng.integers(0, 64 - 15, size=10)], axis=1
    )
    assert np.mean(np.all(tiled[:, 8:] == tiled[:, :-8], axis=(0, 2))) < 0.7


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(size=8),  # smaller than one patch
        dict(patch_size=200),  # larger than the texture
        dict(patch_size=24, overlap=13),  # overlap above half a patch
        dict(tolerance=-0.1),
        dict(size=(0, 10)),
    ],
)
def test_bad_parameters(brick, kwargs):
    with pytest.raises(ParameterError):
        quilt_texture(brick, **{"size": 64, **kwargs})


def test_bad_textures(brick):
    with pytest.raises(ParameterError):
        quilt_texture(np.zeros((6, 6, 3)), 32)
    with pytest.raises(ParameterError):
        quilt_texture(np.stack([brick, brick]), 64)
    with pytest.raises(ImageError):
        quilt_texture(brick[..., 0], 64)
    with pytest.raises(KerasvizError):
        synthesize_texture(object(), brick, 64, method="patch")


def test_slightly_negative_ssd_does_not_leave_zero_candidates():
    """OpenCV's masked SSD can round an exact or near-exact overlap match slightly below zero;
    then no position passed `cost <= min · (1 + tolerance)` and NumPy raised from deep inside
    (found on the centre crop of `gravel`)."""
    from kerasviz.images import load_image, resize_image

    gravel = load_image("skimage:gravel")
    crop = resize_image(gravel[128:384, 128:384], (128, 128))
    out = quilt_texture(crop, 128, seed=0)
    assert out.shape == (128, 128, 3) and np.isfinite(out).all()
