"""kerasviz.images.arrays: to_uint8, as_image_batch, resizing and normalizing maps."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from kerasviz.errors import ImageError
from kerasviz.images import (
    as_image_batch,
    normalize_map,
    resize_image,
    resize_map,
    to_uint8,
)

RNG = np.random.default_rng(0)


def _random_rgb(height: int = 37, width: int = 53) -> np.ndarray:
    return RNG.integers(0, 256, size=(height, width, 3), dtype=np.uint8)


def test_to_uint8():
    out = to_uint8(np.array([-1.0, 0.4, 0.6, 254.4, 300.0, np.nan]))
    assert out.dtype == np.uint8
    assert out.tolist() == [0, 0, 1, 254, 255, 0]


# --------------------------------------------------------------------------------------------
# as_image_batch
# --------------------------------------------------------------------------------------------


def test_as_image_batch_accepts():
    image = _random_rgb(8, 9)
    batch, single = as_image_batch(image)
    assert single and batch.shape == (1, 8, 9, 3) and batch.dtype == np.float32
    np.testing.assert_array_equal(batch[0], image)
    batch, single = as_image_batch([image, image.astype(np.float32)])
    assert not single and batch.shape == (2, 8, 9, 3)
    batch, single = as_image_batch(np.stack([image] * 3))
    assert not single and batch.shape == (3, 8, 9, 3)


def test_as_image_batch_accepts_tf_tensor():
    tf = pytest.importorskip("tensorflow")
    batch, single = as_image_batch(tf.zeros((2, 4, 4, 3)))
    assert not single and batch.shape == (2, 4, 4, 3) and isinstance(batch, np.ndarray)


@pytest.mark.parametrize(
    "images, pattern",
    [
        (np.zeros((4, 4), np.uint8), "grayscale.*load_image"),
        (np.zeros((1, 1, 4, 4, 3), np.uint8), r"\(N, H, W, 3\)"),
        (np.zeros((4, 4, 1), np.uint8), "3 \\(RGB\\) channels.*load_image"),
        (np.zeros((2, 4, 4, 4), np.uint8), "3 \\(RGB\\) channels"),
        (np.zeros((0, 4, 4, 3), np.float32), "empty batch"),
        (np.zeros((1, 0, 4, 3), np.float32), "zero height or width"),
        (np.zeros((4, 0, 3), np.float32), "zero height or width"),
        (np.full((2, 2, 3), np.nan, np.float32), "NaN or inf"),
        (np.full((2, 2, 3), np.inf, np.float32), "NaN or inf"),
        (np.full((2, 2, 3), 256.0, np.float32), "multiply by 255"),
        (np.full((2, 2, 3), -0.5, np.float32), "outside \\[0, 255\\]"),
        (np.full((2, 2, 3), "x"), "uint8 or float"),
    ],
)
def test_as_image_batch_rejects(images, pattern):
    with pytest.raises(ImageError, match=pattern) as info:
        as_image_batch(images)
    message = str(info.value)
    assert "`images`" in message
    assert message.endswith(f"Received: images with shape {images.shape} and dtype {images.dtype}")


def test_as_image_batch_rejects_lists_and_names_argument():
    with pytest.raises(ImageError, match="different sizes.*Received: content as a list"):
        as_image_batch([np.zeros((4, 4, 3)), np.zeros((5, 4, 3))], name="content")
    with pytest.raises(ImageError, match="empty list.*Received:"):
        as_image_batch([])
    with pytest.raises(ImageError, match="`style`.*Received: style with shape"):
        as_image_batch(np.zeros((4, 4)), name="style")


# --------------------------------------------------------------------------------------------
# resize / normalize
# --------------------------------------------------------------------------------------------


def test_resize_image_paths():
    pixels = _random_rgb(10, 12)
    reference = np.asarray(Image.fromarray(pixels).resize((7, 5), Image.BICUBIC), np.float32)
    np.testing.assert_array_equal(resize_image(pixels, (5, 7)), reference)
    out = resize_image(pixels.astype(np.float32), (5, 7))
    assert out.dtype == np.float32 and out.shape == (5, 7, 3)
    np.testing.assert_allclose(out, reference, atol=1.0)  # float path, no uint8 rounding
    assert resize_image(np.stack([pixels] * 2), 6).shape == (2, 6, 6, 3)
    assert resize_image(pixels[..., 0], (3, 4)).shape == (3, 4)
    harsh = np.zeros((8, 8, 3), np.float32)
    harsh[::2] = 255.0
    out = resize_image(harsh, 13)
    assert out.min() >= 0.0 and out.max() <= 255.0
    with pytest.raises(ImageError, match="Received:"):
        resize_image(np.zeros((0, 3, 3)), 4)


def test_resize_map():
    maps = RNG.random((2, 7, 7)).astype(np.float32)
    out = resize_map(maps, (28, 21))
    assert out.shape == (2, 28, 21) and out.dtype == np.float32
    assert out.min() >= maps.min() - 1e-6 and out.max() <= maps.max() + 1e-6
    single = resize_map(np.full((3, 3), 0.25), 10)
    assert single.shape == (10, 10)
    np.testing.assert_allclose(single, 0.25, atol=1e-6)


def test_normalize_map():
    constant = normalize_map(np.full((2, 5, 5), 3.0))
    assert constant.shape == (2, 5, 5) and not np.isnan(constant).any()
    np.testing.assert_array_equal(constant, 0.0)
    maps = np.stack([np.arange(4.0).reshape(2, 2), 10 * np.arange(4.0).reshape(2, 2) - 5])
    out = normalize_map(maps)
    for m in out:
        assert m.min() == 0.0 and m.max() == 1.0
    np.testing.assert_allclose(out[0], [[0, 1 / 3], [2 / 3, 1]], rtol=1e-6)
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6)
    assert normalize_map(np.zeros((3, 3))).shape == (3, 3)
    with pytest.raises(ImageError):
        normalize_map(np.array([[np.nan, 1.0]]))


def test_float_images_in_unit_range_warn_and_nan_resize_is_refused():
    import warnings

    import pytest

    from kerasviz.errors import ImageError
    from kerasviz.images import UnitRangeWarning, as_image_batch, resize_image

    scaled = np.random.default_rng(0).uniform(0, 1, (8, 8, 3)).astype("float32")
    with pytest.warns(UnitRangeWarning, match="multiply by 255"):
        as_image_batch(scaled)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        as_image_batch((scaled * 255).astype("uint8") // 255)  # a dark uint8 image: no warning
        as_image_batch(np.zeros((8, 8, 3), np.float32))  # black: no warning
        as_image_batch(scaled * 255)
    broken = scaled.copy()
    broken[1, 1, 1] = np.nan
    with pytest.raises(ImageError, match="NaN"):
        resize_image(broken, 4)
