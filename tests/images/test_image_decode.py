"""kerasviz.images.decode through load_image: every Pillow mode, sources, resizing, bad inputs."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from PIL import Image

from kerasviz.errors import ImageError, ParameterError
from kerasviz.images import (
    load_image,
)

RNG = np.random.default_rng(0)


def _random_rgb(height: int = 37, width: int = 53) -> np.ndarray:
    return RNG.integers(0, 256, size=(height, width, 3), dtype=np.uint8)


def _encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def _roundtrip(tmp_path, image: Image.Image, name: str, **kwargs) -> np.ndarray:
    path = tmp_path / name
    image.save(path, **kwargs)
    out = load_image(path)
    assert out.dtype == np.float32
    assert out.shape == (image.height, image.width, 3)
    return out


# --------------------------------------------------------------------------------------------
# load_image: every mode through a saved file
# --------------------------------------------------------------------------------------------


def test_rgb_png_is_exact(tmp_path):
    pixels = _random_rgb()
    out = _roundtrip(tmp_path, Image.fromarray(pixels), "rgb.png")
    np.testing.assert_array_equal(out, pixels.astype(np.float32))


def test_grayscale_l_gives_equal_channels(tmp_path):
    gray = np.arange(256, dtype=np.uint8).reshape(16, 16)
    out = _roundtrip(tmp_path, Image.fromarray(gray), "gray.png")
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], gray.astype(np.float32))


def test_mode_1_bilevel(tmp_path):
    image = Image.new("1", (8, 4), 0)
    image.putpixel((3, 2), 1)
    out = _roundtrip(tmp_path, image, "bilevel.png")
    assert out[2, 3].tolist() == [255.0, 255.0, 255.0]
    assert out[0, 0].tolist() == [0.0, 0.0, 0.0]


def test_la_composites_onto_white(tmp_path):
    la = np.zeros((4, 4, 2), np.uint8)
    la[..., 0] = 100
    la[0, :, 1] = 255  # opaque row
    la[1, :, 1] = 0  # transparent row
    la[2, :, 1] = 128  # half
    out = _roundtrip(tmp_path, Image.fromarray(la, "LA"), "la.png")
    np.testing.assert_allclose(out[0], 100.0)
    np.testing.assert_allclose(out[1], 255.0)
    np.testing.assert_allclose(out[2], 100 * 128 / 255 + 255 * 127 / 255, atol=1.0)


def test_rgba_semi_transparent_over_white(tmp_path):
    image = Image.new("RGBA", (3, 3), (255, 0, 0, 128))
    image.putpixel((0, 0), (0, 0, 255, 0))
    out = _roundtrip(tmp_path, image, "rgba.png")
    np.testing.assert_allclose(out[1, 1], [255, 127.5, 127.5], atol=1.0)
    np.testing.assert_array_equal(out[0, 0], [255, 255, 255])


def test_palette_colours_and_transparency(tmp_path):
    image = Image.new("P", (3, 1))
    image.putpalette([255, 0, 0, 0, 255, 0, 10, 20, 30] + [0] * (256 * 3 - 9))
    image.putdata([0, 1, 2])
    out = _roundtrip(tmp_path, image, "palette.png")
    assert out[0].tolist() == [[255, 0, 0], [0, 255, 0], [10, 20, 30]]
    # Index 1 transparent: becomes white, the others keep their colours.
    out = _roundtrip(tmp_path, image, "palette_t.png", transparency=1)
    assert out[0].tolist() == [[255, 0, 0], [255, 255, 255], [10, 20, 30]]
    out = _roundtrip(tmp_path, image, "palette.gif")
    assert out[0].tolist() == [[255, 0, 0], [0, 255, 0], [10, 20, 30]]


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_cmyk_cyan(tmp_path, fmt):
    image = Image.new("CMYK", (16, 16), (255, 0, 0, 0))
    out = _roundtrip(tmp_path, image, f"cmyk.{fmt.lower()}", format=fmt)
    np.testing.assert_allclose(out[8, 8], [0, 255, 255], atol=3)


@pytest.mark.parametrize("name", ["i16.png", "i16.tif"])
def test_16bit_scaled_not_clipped(tmp_path, name):
    values = np.array([[0, 32768, 65535, 257]], np.uint16)
    image = Image.fromarray(values)
    assert image.mode == "I;16"
    out = _roundtrip(tmp_path, image, name)
    np.testing.assert_allclose(out[0, :, 0], [0, 127.5, 255, 1], atol=0.01)
    np.testing.assert_array_equal(out[..., 0], out[..., 2])


def test_32bit_i_mode_is_read_as_16bit(tmp_path):
    image = Image.fromarray(np.array([[0, 32768, 65535]], np.int32))
    assert image.mode == "I"
    out = _roundtrip(tmp_path, image, "i32.tif")
    np.testing.assert_allclose(out[0, :, 1], [0, 127.5, 255], atol=0.01)


def test_float_f_mode(tmp_path):
    image = Image.fromarray(np.array([[0.0, 100.5, 255.0]], np.float32))
    assert image.mode == "F"
    out = _roundtrip(tmp_path, image, "float.tif")
    np.testing.assert_allclose(out[0], [[0] * 3, [100.5] * 3, [255] * 3])
    bad = Image.fromarray(np.array([[0.0, 1000.0]], np.float32))
    with pytest.raises(ImageError, match="Received:"):
        load_image(bad)


def _exif_jpeg(orientation: int) -> bytes:
    pixels = np.zeros((32, 64, 3), np.uint8)  # stored 64 wide, 32 high
    pixels[:16, :16] = (255, 0, 0)  # red top-left block (as stored)
    exif = Image.Exif()
    exif[0x0112] = orientation
    return _encode(Image.fromarray(pixels), "JPEG", quality=95, exif=exif.tobytes())


def test_exif_orientation_6_rotates_clockwise():
    out = load_image(_exif_jpeg(6))
    assert out.shape == (64, 32, 3)
    assert out[4, -4, 0] > 200 and out[4, -4, 2] < 60  # stored top-left -> top-right
    assert out[4, 4, 0] < 60


def test_exif_orientation_8_rotates_counter_clockwise():
    out = load_image(_exif_jpeg(8))
    assert out.shape == (64, 32, 3)
    assert out[-4, 4, 0] > 200  # stored top-left -> bottom-left
    assert out[4, 4, 0] < 60


def test_sources_bytes_pil_and_arrays_agree(tmp_path):
    pixels = _random_rgb()
    path = tmp_path / "a.png"
    Image.fromarray(pixels).save(path)
    expected = pixels.astype(np.float32)
    np.testing.assert_array_equal(load_image(str(path)), expected)
    np.testing.assert_array_equal(load_image(path.read_bytes()), expected)
    np.testing.assert_array_equal(load_image(Image.fromarray(pixels)), expected)
    np.testing.assert_array_equal(load_image(pixels), expected)
    np.testing.assert_array_equal(load_image(pixels.astype(np.float32)), expected)


def test_array_inputs():
    gray = np.full((4, 5), 7, np.uint8)
    np.testing.assert_array_equal(load_image(gray), np.full((4, 5, 3), 7.0))
    np.testing.assert_array_equal(load_image(gray[..., None]), np.full((4, 5, 3), 7.0))
    u16 = np.full((2, 2, 3), 65535, np.uint16)
    np.testing.assert_allclose(load_image(u16), 255.0)
    rgba = np.zeros((2, 2, 4), np.float32)  # fully transparent black
    np.testing.assert_allclose(load_image(rgba), 255.0)
    with pytest.raises(ImageError, match="multiply by 255"):
        load_image(np.full((2, 2, 3), 300.0))
    with pytest.raises(ImageError, match=r"Received: array with shape \(2, 2, 2\)"):
        load_image(np.zeros((2, 2, 2), np.uint8))


@pytest.mark.parametrize("size", [(20, 30), 24, (53, 37), (80, 90)])
def test_resize_equals_pil_bicubic_reference(tmp_path, size):
    path = tmp_path / "ref.png"
    Image.fromarray(_random_rgb()).save(path)
    h, w = (size, size) if isinstance(size, int) else size
    reference = np.asarray(
        Image.open(path).convert("RGB").resize((w, h), Image.BICUBIC), np.float32
    )
    out = load_image(path, size)
    assert out.dtype == np.float32 and out.shape == (h, w, 3)
    np.testing.assert_array_equal(out, reference)
    np.testing.assert_array_equal(load_image(np.asarray(Image.open(path)), size), reference)


def test_resize_16bit_stays_in_range():
    values = np.zeros((8, 8), np.uint16)
    values[::2, ::2] = 65535  # checkerboard-ish: bicubic overshoots
    out = load_image(values, 13)
    assert out.shape == (13, 13, 3)
    assert out.min() >= 0.0 and out.max() <= 255.0


@pytest.mark.parametrize("size", [0, -3, (10,), (10, 0), 2.5, "big", True])
def test_bad_size(size):
    with pytest.raises(ParameterError, match="Received: size="):
        load_image(np.zeros((4, 4, 3), np.uint8), size)


# --------------------------------------------------------------------------------------------
# load_image: bad inputs
# --------------------------------------------------------------------------------------------


def _noisy_png_bytes() -> bytes:
    return _encode(Image.fromarray(_random_rgb(64, 64)), "PNG")


def _noisy_jpeg_bytes() -> bytes:
    return _encode(Image.fromarray(_random_rgb(64, 64)), "JPEG", quality=95)


@pytest.mark.parametrize("make", [_noisy_png_bytes, _noisy_jpeg_bytes])
def test_truncated_bytes(make):
    encoded = make()
    truncated = encoded[: len(encoded) // 2]
    with pytest.raises(ImageError, match=f"Received: bytes of length {len(truncated)}"):
        load_image(truncated)


def test_truncated_file_names_path(tmp_path):
    path = tmp_path / "cut.jpg"
    path.write_bytes(_noisy_jpeg_bytes()[:600])
    with pytest.raises(ImageError, match="Received:") as info:
        load_image(path)
    assert str(path) in str(info.value)


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("hello, I am text")
    with pytest.raises(ImageError, match="Received:") as info:
        load_image(path)
    assert "not a readable image" in str(info.value).lower()
    assert isinstance(info.value.__cause__, Exception)
    with pytest.raises(ImageError, match="Received: bytes of length 12"):
        load_image(b"not an image")


def test_missing_path_and_directory(tmp_path):
    with pytest.raises(ImageError, match="No such file.*Received: source="):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ImageError, match="not a file.*Received:"):
        load_image(tmp_path)


def test_zero_size():
    with pytest.raises(ImageError, match="empty.*Received: array with shape"):
        load_image(np.zeros((0, 5, 3), np.uint8))
    with pytest.raises(ImageError, match="empty.*Received: PIL image"):
        load_image(Image.new("RGB", (5, 0)))


def test_unsupported_source_type():
    with pytest.raises(ImageError, match="Received: source of type int"):
        load_image(42)


def test_decompression_bomb_limits(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.fromarray(_random_rgb(20, 20)).save(path)
    with pytest.raises(ImageError, match="400 pixels.*max_pixels.*Received:"):
        load_image(path, max_pixels=100)
    assert load_image(path, max_pixels=400).shape == (20, 20, 3)
    with pytest.raises(ImageError, match="Received: array"):
        load_image(np.zeros((20, 20, 3), np.uint8), max_pixels=399)
    # Pillow's own warning range (limit < pixels <= 2 * limit) must not leak as a warning.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ImageError, match="Received:"):
            load_image(path)
    # Pillow's DecompressionBombError (pixels > 2 * limit) becomes an ImageError.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 150)
    with pytest.raises(ImageError, match="MAX_IMAGE_PIXELS.*Received:") as info:
        load_image(path, max_pixels=10_000)
    assert isinstance(info.value.__cause__, Image.DecompressionBombError)


def test_png_header_size_product_cannot_wrap_past_the_decode_limit():
    """A PNG declaring 0xC0000000 x 0xC0000000 pixels: the int64 product wraps negative, which
    once passed the limit; it must be refused as over the limit."""
    import struct
    import zlib

    import tensorflow as tf

    from kerasviz.images.image_bytes import decode_limited

    ihdr = struct.pack(">IIBBBBB", 0xC0000000, 0xC0000000, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    png = b"\x89PNG\r\n\x1a\n" + chunk + b"\0" * 64
    with pytest.raises(tf.errors.InvalidArgumentError, match="more than the decode limit"):
        decode_limited(tf.constant(png), 4096 * 4096)
