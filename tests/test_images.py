"""Tests for kerasviz.images: loading every Pillow mode, validation, resizing, grids, overlays."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from PIL import Image
from skimage import data

from kerasviz.errors import ImageError, ParameterError
from kerasviz.images import (
    as_image_batch,
    colorize_map,
    image_grid,
    load_image,
    normalize_map,
    overlay_heatmap,
    resize_image,
    resize_map,
    sample_image,
    save_image,
    to_uint8,
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


# --------------------------------------------------------------------------------------------
# image_grid
# --------------------------------------------------------------------------------------------


def test_image_grid_shape_arithmetic_and_placement():
    tiles = [np.full((10, 12, 3), i * 40, np.uint8) for i in range(5)]
    grid = image_grid(tiles)  # near-square: 3 columns, 2 rows
    assert grid.dtype == np.uint8
    assert grid.shape == (2 * 10 + 3 * 2, 3 * 12 + 4 * 2, 3)
    np.testing.assert_array_equal(grid[2:12, 2:14], tiles[0])
    np.testing.assert_array_equal(grid[14:24, 16:28], tiles[4])  # row 1, col 1
    assert (grid[0] == 255).all() and (grid[:, 0] == 255).all()
    assert (grid[14:24, 30:42] == 255).all()  # empty sixth cell
    grid = image_grid(np.stack(tiles), ncols=5, padding=0, pad_value=0)
    assert grid.shape == (10, 60, 3)
    assert image_grid(tiles, ncols=99).shape == (14, 5 * 12 + 6 * 2, 3)  # clamped to N


def test_image_grid_gray_float_and_mixed_sizes():
    gray = np.full((6, 6), 100.4, np.float32)
    rgb = np.zeros((6, 6, 3), np.uint8)
    grid = image_grid([gray, rgb], padding=1)
    assert grid.shape == (8, 15, 3)
    assert grid[1, 1].tolist() == [100, 100, 100]
    mixed = [np.zeros((4, 4, 3), np.uint8), np.zeros((9, 7, 3), np.uint8)]
    assert image_grid(mixed, padding=0, tile_size=(5, 6)).shape == (5, 12, 3)
    assert image_grid(mixed, padding=0).shape == (9, 14, 3)  # cells as big as the largest


def test_image_grid_labels():
    tiles = [np.zeros((20, 30, 3), np.uint8)] * 2
    plain = image_grid(tiles, ncols=2)
    labelled = image_grid(tiles, ncols=2, labels=["cat", "dog"])
    assert labelled.shape[1] == plain.shape[1]
    extra = labelled.shape[0] - plain.shape[0]
    assert extra > 5
    strip = labelled[22 : 22 + extra, 2:32]  # under the first tile
    assert (strip < 128).any() and (strip == 255).any()  # dark text on the white background
    with pytest.raises(ParameterError, match="labels"):
        image_grid(tiles, labels=["only one"])


def test_image_grid_wraps_labels_wider_than_the_tile():
    """A label too long for its tile wraps onto more lines instead of being cut at the tile edge."""
    tiles = [np.zeros((20, 40, 3), np.uint8)] * 2
    short = image_grid(tiles, ncols=2, padding=0, labels=["a", "b"])
    long = image_grid(tiles, ncols=2, padding=0, labels=["immunohistochemistry hubble", "b"])
    assert long.shape[1] == short.shape[1] and long.shape[0] >= short.shape[0] + 2 * (short.shape[0] - 20)
    strip = long[20:, :40]
    assert (strip < 128).any(axis=(0, 2)).nonzero()[0].max() <= 38  # no text reaches the tile edge
    written = [row for row in range(strip.shape[0]) if (strip[row] < 128).any()]
    assert written[-1] - written[0] > 2 * (short.shape[0] - 20) - 4  # three lines of text


def test_image_grid_bad_inputs():
    with pytest.raises(ImageError, match="at least one"):
        image_grid([])
    with pytest.raises(ImageError, match="at least one"):
        image_grid(np.zeros((0, 4, 4, 3)))
    with pytest.raises(ParameterError, match="ncols"):
        image_grid([np.zeros((2, 2, 3))], ncols=0)
    with pytest.raises(ParameterError, match="pad_value"):
        image_grid([np.zeros((2, 2, 3))], pad_value=(1, 2))


# --------------------------------------------------------------------------------------------
# colormaps and overlays
# --------------------------------------------------------------------------------------------


def test_overlay_jet_high_is_red_low_is_blue():
    image = np.full((8, 8, 3), 128, np.uint8)
    hot = overlay_heatmap(image, np.ones((8, 8)), alpha=0.8)
    cold = overlay_heatmap(image, np.zeros((8, 8)), alpha=0.8)
    assert hot.dtype == np.uint8 and hot.shape == (8, 8, 3)
    r, g, b = hot[4, 4].astype(int)
    assert r > b + 50 and r > g + 50
    r, g, b = cold[4, 4].astype(int)
    assert b > r + 50 and b > g + 50


def test_overlay_blend_and_resize():
    image = _random_rgb(16, 20)
    heat = np.linspace(0, 1, 4 * 5).reshape(4, 5)
    np.testing.assert_array_equal(overlay_heatmap(image, heat, alpha=0.0), image)
    full = overlay_heatmap(image, heat, alpha=1.0, colormap="viridis")
    np.testing.assert_array_equal(full, colorize_map(resize_map(heat, (16, 20)), "viridis"))
    batch = overlay_heatmap(np.stack([image] * 2), np.stack([heat] * 2))
    assert batch.shape == (2, 16, 20, 3)
    with pytest.raises(ImageError, match="one heatmap per image"):
        overlay_heatmap(np.stack([image] * 2), heat)
    with pytest.raises(ImageError, match="normalize_map"):
        overlay_heatmap(image, heat * 5)
    with pytest.raises(ParameterError, match="alpha"):
        overlay_heatmap(image, heat, alpha=1.5)


def test_colorize_map_and_colormap_names():
    for name in ["jet", "turbo", "viridis", "inferno", "magma", "hot", "gray"]:
        out = colorize_map(np.linspace(0, 1, 12).reshape(3, 4), name)
        assert out.shape == (3, 4, 3) and out.dtype == np.uint8
    assert colorize_map(np.ones((1, 1)), "hot")[0, 0].tolist() == [255, 255, 255]
    assert colorize_map(np.full((1, 1), 0.5), "gray")[0, 0].tolist() == [128, 128, 128]
    assert colorize_map(np.ones((2, 1, 1)), "jet").shape == (2, 1, 1, 3)
    r, _, b = colorize_map(np.ones((1, 1)), "jet")[0, 0].astype(int)
    assert r > 100 and b == 0
    with pytest.raises(ParameterError, match="jet.*Received: colormap='rainbow'"):
        colorize_map(np.ones((2, 2)), "rainbow")
    with pytest.raises(ParameterError, match="viridis"):
        overlay_heatmap(np.zeros((2, 2, 3)), np.ones((2, 2)), colormap="nope")


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
