"""kerasviz.images.io: save_image, sample_image and `skimage:NAME` named pictures."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage import data

from kerasviz.errors import ImageError, ParameterError
from kerasviz.images import (
    NAMED_IMAGES,
    SAMPLE_IMAGES,
    load_image,
    sample_image,
    save_image,
)

RNG = np.random.default_rng(0)


def _random_rgb(height: int = 37, width: int = 53) -> np.ndarray:
    return RNG.integers(0, 256, size=(height, width, 3), dtype=np.uint8)


def _roundtrip(tmp_path, image: Image.Image, name: str, **kwargs) -> np.ndarray:
    path = tmp_path / name
    image.save(path, **kwargs)
    out = load_image(path)
    assert out.dtype == np.float32
    assert out.shape == (image.height, image.width, 3)
    return out


# --------------------------------------------------------------------------------------------
# save_image / to_uint8
# --------------------------------------------------------------------------------------------


def test_save_load_roundtrip_uint8_exact(tmp_path):
    pixels = _random_rgb()
    path = save_image(tmp_path / "deep" / "er" / "out.png", pixels)
    assert path == tmp_path / "deep" / "er" / "out.png" and path.is_file()
    np.testing.assert_array_equal(load_image(path), pixels.astype(np.float32))


def test_save_float_is_clipped_and_rounded(tmp_path):
    values = np.array([[[-5.0, 127.6, 300.0]]], np.float32)
    path = save_image(tmp_path / "f.png", values)
    assert np.asarray(Image.open(path)).tolist() == [[[0, 128, 255]]]


def test_save_other_shapes(tmp_path):
    gray = RNG.integers(0, 256, (5, 6), dtype=np.uint8)
    assert Image.open(save_image(tmp_path / "g.png", gray)).mode == "L"
    np.testing.assert_array_equal(load_image(tmp_path / "g.png")[..., 1], gray)
    save_image(tmp_path / "g1.png", gray[..., None])
    np.testing.assert_array_equal(load_image(tmp_path / "g1.png")[..., 0], gray)
    rgba = np.zeros((4, 4, 4), np.uint8)
    assert Image.open(save_image(tmp_path / "a.png", rgba)).mode == "RGBA"
    jpeg = save_image(tmp_path / "a.jpg", rgba)  # transparent -> white in JPEG
    assert Image.open(jpeg).format == "JPEG"
    assert load_image(jpeg).min() > 250


@pytest.mark.parametrize(
    "array",
    [
        np.zeros((4, 4, 2), np.uint8),
        np.zeros((1, 4, 4, 3), np.uint8),
        np.zeros((0, 4, 3), np.uint8),
        np.full((2, 2, 3), np.nan, np.float32),
        np.array([["a", "b"]]),
    ],
)
def test_save_bad_arrays(tmp_path, array):
    with pytest.raises(ImageError, match="Received:"):
        save_image(tmp_path / "bad.png", array)


def test_save_unknown_extension(tmp_path):
    with pytest.raises(ImageError, match="Received: path="):
        save_image(tmp_path / "bad.notaformat", np.zeros((2, 2, 3), np.uint8))


# --------------------------------------------------------------------------------------------
# sample_image
# --------------------------------------------------------------------------------------------


def test_sample_image():
    cat = sample_image("chelsea")
    assert cat.shape == (300, 451, 3) and cat.dtype == np.float32
    np.testing.assert_array_equal(cat, data.chelsea().astype(np.float32))
    camera = sample_image("camera")
    assert camera.shape == (512, 512, 3)
    np.testing.assert_array_equal(camera[..., 0], camera[..., 2])
    reference = np.asarray(Image.fromarray(data.chelsea()).resize((80, 64), Image.BICUBIC))
    np.testing.assert_array_equal(sample_image("chelsea", (64, 80)), reference)
    with pytest.raises(ParameterError, match="chelsea.*Received: name='dog'"):
        sample_image("dog")


# --------------------------------------------------------------------------------------------
# skimage:NAME, the one way to name a bundled picture
# --------------------------------------------------------------------------------------------


def test_named_images_load_like_sample_image():
    cat = load_image("skimage:chelsea")
    np.testing.assert_array_equal(cat, sample_image("chelsea"))
    np.testing.assert_array_equal(load_image("skimage:chelsea", 64), sample_image("chelsea", 64))
    np.testing.assert_array_equal(sample_image("skimage:coffee", 32), load_image("skimage:coffee", 32))
    brick = load_image("skimage:brick")  # grayscale texture as RGB
    assert brick.shape == (512, 512, 3)
    np.testing.assert_array_equal(brick[..., 0], data.brick().astype(np.float32))
    stain = sample_image("immunohistochemistry", 16)  # every bundled skimage picture, not only the demo's
    assert stain.shape == (16, 16, 3) and stain.dtype == np.float32
    assert SAMPLE_IMAGES == NAMED_IMAGES[: len(SAMPLE_IMAGES)]


def test_named_image_errors_list_the_names(tmp_path):
    with pytest.raises(ImageError, match="chelsea.*Received: name='dog'"):
        load_image("skimage:dog")
    with pytest.raises(ParameterError, match="Received: name='dog'"):
        sample_image("skimage:dog")
    with pytest.raises(ImageError, match="skimage:NAME.*Received: source="):
        load_image(tmp_path / "cat.jpg")  # a missing file points to the named pictures


def test_painting_names_load_the_shipped_paintings():
    from kerasviz.data import PAINTINGS
    from kerasviz.synthesis import load_painting

    for name in PAINTINGS:
        image = load_image(f"painting:{name}")
        assert image.dtype == np.float32 and image.ndim == 3 and max(image.shape[:2]) == 400
        np.testing.assert_array_equal(image, load_painting(name).astype(np.float32))
    assert load_image("painting:udnie", 32).shape == (32, 32, 3)
    with pytest.raises(ImageError, match="starry_night"):
        load_image("painting:mona_lisa")


@pytest.mark.parametrize("shape", [(4, 4, 2), (4, 4, 5), (4,), (2, 4, 4, 3)])
def test_load_and_save_refuse_a_bad_layout_with_one_message(tmp_path, shape):
    """`load_image`, `save_image` and the decoder share one layout check (and its message)."""
    from kerasviz.images import load_image, save_image

    expected = r"must have shape \(H, W\), \(H, W, 1\), \(H, W, 3\) or \(H, W, 4\)\. Received: array with shape"
    with pytest.raises(ImageError, match=expected):
        load_image(np.zeros(shape, np.uint8))
    with pytest.raises(ImageError, match=expected):
        save_image(tmp_path / "x.png", np.zeros(shape, np.uint8))
