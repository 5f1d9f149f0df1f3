"""Images from and to files: `load_image` (paths, bytes, PIL images, arrays, `skimage:NAME`),
`save_image`, decode limits, and the bundled sample pictures.

Named sample pictures load one way: the string `skimage:NAME` (e.g. `skimage:chelsea`,
`skimage:coffee`, `skimage:brick`) wherever an image is read — `load_image`, every CLI image
argument, the demo — and `sample_image(NAME)` is the same loader called with the bare name.
The `skimage:` prefix always names a sample picture, never a file; likewise `painting:NAME`
names one of the public-domain paintings shipped with kerasviz (`painting:starry_night`).
"""

from __future__ import annotations

import os
import pathlib
from typing import Any, Optional, Union

import numpy as np
from PIL import Image

from ..data import PAINTINGS, painting_bytes
from ..errors import ImageError, ParameterError
from .arrays import Size, composite_on_white, parse_size, resize_channels, to_numpy, to_uint8
from .decode import array_to_rgb, check_image_layout, check_pixel_count, describe_source, open_image, pil_to_rgb

__all__ = [
    "ImageSource",
    "NAMED_IMAGE_PREFIX",
    "PAINTING_PREFIX",
    "NAMED_IMAGES",
    "SAMPLE_IMAGES",
    "is_named_image",
    "load_image",
    "sample_image",
    "save_image",
]

ImageSource = Union[str, os.PathLike, bytes, bytearray, memoryview, Image.Image, np.ndarray]

#: The prefix that names a bundled picture instead of a file: `skimage:chelsea`.
NAMED_IMAGE_PREFIX = "skimage:"
#: The prefix that names a shipped public-domain painting: `painting:starry_night`.
PAINTING_PREFIX = "painting:"

#: The demo's bundled photos (RGB) and textures (grayscale) from `skimage.data`.
SAMPLE_IMAGES = ("chelsea", "coffee", "astronaut", "rocket", "brick", "grass", "gravel", "camera")

#: Every `skimage.data` picture that ships with scikit-image (no download): `SAMPLE_IMAGES` first.
NAMED_IMAGES = SAMPLE_IMAGES + (
    "cat", "cell", "checkerboard", "clock", "coins", "colorwheel", "horse", "hubble_deep_field",
    "immunohistochemistry", "logo", "microaneurysms", "moon", "page", "retina", "text",
)


def is_named_image(source: Any) -> bool:
    """Whether `source` is a `skimage:NAME` or `painting:NAME` string (a bundled picture, not a file).

    Args:
        source: Any image source.

    Returns:
        `True` for a string starting with `skimage:` or `painting:`.
    """
    return isinstance(source, str) and source.startswith((NAMED_IMAGE_PREFIX, PAINTING_PREFIX))


def _painting(name: str) -> bytes:
    if name not in PAINTINGS:
        raise ImageError(
            f"Unknown painting; choose one of {list(PAINTINGS)} (as `painting:NAME`). Received: name={name!r}"
        )
    return painting_bytes(name)


def _named_array(name: str, error: type) -> np.ndarray:
    """The raw `skimage.data` array of a known picture name; `error` for unknown names."""
    if name not in NAMED_IMAGES:
        raise error(
            f"Unknown sample image; choose one of {list(NAMED_IMAGES)} (as `skimage:NAME` "
            f"where an image file is expected). Received: name={name!r}"
        )
    try:
        from skimage import data
    except ImportError as import_error:
        raise ImageError(
            f"Sample images need scikit-image: `pip install scikit-image`. Received: name={name!r}"
        ) from import_error
    return np.asarray(getattr(data, name)())


def load_image(
    source: ImageSource,
    size: Optional[Size] = None,
    *,
    max_pixels: Optional[int] = None,
) -> np.ndarray:
    """Load an image (a file, `skimage:NAME`, bytes, a PIL image or an array) as float32 RGB in [0, 255].

    Every input becomes three-channel RGB: grayscale (`1`, `L`) is copied to R, G and B; images
    with transparency (`LA`, `RGBA`, palette `P` with transparency) are composited onto a
    **white** background; palette, `CMYK` and `YCbCr` images are converted by Pillow; 16-bit
    images (`I;16`, and `I`, which holds 16-bit TIFFs) are scaled from `[0, 65535]` to
    `[0, 255]`; float `F` images must already hold values in `[0, 255]`. EXIF orientation is
    applied, so photos come out upright. For an 8-bit RGB file the result equals
    `np.asarray(Image.open(p).convert("RGB").resize((w, h), Image.BICUBIC), np.float32)`.

    Args:
        source: a path (`str` or `os.PathLike`); `"skimage:NAME"`, a bundled picture (one of
            `NAMED_IMAGES`, e.g. `"skimage:chelsea"`); `"painting:NAME"`, a shipped public-domain
            painting (`"painting:starry_night"`, `"painting:great_wave"`,
            `"painting:udnie"`); the encoded file as `bytes`; a
            `PIL.Image.Image`; or a NumPy array shaped `(H, W)`, `(H, W, 1)`, `(H, W, 3)` or
            `(H, W, 4)`: `uint8` in `[0, 255]`, `uint16` in `[0, 65535]`, or float in
            `[0, 255]` (the alpha channel of a 4-channel array uses the same scale).
        size: `None` to keep the size, an int `s` for `s x s`, or `(height, width)`. Resizing
            uses Pillow's bicubic filter.
        max_pixels: refuse images with more pixels than this (decompression bombs). Defaults to
            `PIL.Image.MAX_IMAGE_PIXELS`; `None` there means no limit.

    Returns:
        A float32 array `(H, W, 3)` with values in `[0, 255]`.

    Raises:
        ImageError: the file is missing, not an image, truncated or corrupt; an unknown
            `skimage:` name; the image is empty or has more than `max_pixels` pixels; the array
            has an unusable shape, dtype or value range.
        ParameterError: `size` is not a positive int or `(height, width)` pair.
    """
    target = parse_size(size)
    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else int(max_pixels)
    if is_named_image(source) and source.startswith(PAINTING_PREFIX):
        source = _painting(source[len(PAINTING_PREFIX) :])
    elif is_named_image(source):
        source = _named_array(source[len(NAMED_IMAGE_PREFIX) :], ImageError)
    received = describe_source(source)
    if isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview, Image.Image)):
        rgb = pil_to_rgb(open_image(source, limit), received)
    elif isinstance(source, np.ndarray) or hasattr(source, "numpy"):
        array = to_numpy(source)
        received = describe_source(array)
        array = check_image_layout(array, received)
        check_pixel_count(array.shape[1], array.shape[0], limit, received)
        rgb = array_to_rgb(array, received)
    else:
        raise ImageError(
            "`source` must be a path, bytes, a PIL image or a NumPy array. "
            f"Received: {received}"
        )
    if isinstance(rgb, Image.Image):
        if target is not None and target != (rgb.height, rgb.width):
            rgb = rgb.resize((target[1], target[0]), Image.BICUBIC)
        return np.asarray(rgb, dtype=np.float32)
    if target is not None and target != rgb.shape[:2]:
        rgb = np.clip(resize_channels(rgb, target, Image.BICUBIC), 0.0, 255.0)
    return np.ascontiguousarray(rgb, dtype=np.float32)


def sample_image(name: str, size: Optional[Size] = None) -> np.ndarray:
    """Load a bundled sample photo or texture from `skimage.data` as float32 RGB.

    The same loader as `load_image("skimage:NAME")`; the prefix may be given here too.

    Args:
        name: one of `NAMED_IMAGES`, e.g. `"chelsea"` (a cat, 300x451), `"coffee"`,
            `"astronaut"`, `"rocket"` (RGB photos) or `"brick"`, `"grass"`, `"gravel"`,
            `"camera"` (grayscale, returned as RGB).
        size: `None` to keep the size, an int `s` for `s x s`, or `(height, width)`; bicubic,
            exactly as `load_image`.

    Returns:
        A float32 array `(H, W, 3)` with values in `[0, 255]`.

    Raises:
        ParameterError: unknown `name`, or a bad `size`.
        ImageError: scikit-image or its data cannot be loaded.
    """
    bare = name[len(NAMED_IMAGE_PREFIX) :] if is_named_image(name) else name
    return load_image(_named_array(bare, ParameterError), size)


def save_image(path: Union[str, os.PathLike], array: Any) -> pathlib.Path:
    """Write an image array to a PNG or JPEG file (format from the extension).

    Args:
        path: where to write, e.g. `"out/result.png"`; missing parent folders are created. The
            extension picks the format (`.png`, `.jpg`, `.jpeg`, or any other Pillow knows).
        array: uint8, or float in `[0, 255]` (clipped and rounded), shaped `(H, W)`,
            `(H, W, 1)`, `(H, W, 3)` or `(H, W, 4)`. JPEG has no alpha, so a 4-channel array is
            composited onto white there.

    Returns:
        The path written, as a `pathlib.Path`.

    Raises:
        ImageError: the array has an unusable shape or dtype, holds NaN or inf, or the file
            cannot be written in that format.
    """
    path = pathlib.Path(path)
    values = to_numpy(array)
    received = describe_source(values)
    values = check_image_layout(values, received)
    if 0 in values.shape:
        raise ImageError(f"Cannot save an empty image. Received: {received}")
    if not (np.issubdtype(values.dtype, np.number) or values.dtype == np.bool_):
        raise ImageError(f"`save_image` takes a numeric array. Received: {received}")
    if np.issubdtype(values.dtype, np.inexact) and not np.all(np.isfinite(values)):
        raise ImageError(f"The image holds NaN or inf values. Received: {received}")
    pixels = to_uint8(values)
    if pixels.ndim == 3 and pixels.shape[-1] == 4 and path.suffix.lower() in (".jpg", ".jpeg"):
        alpha = pixels[..., 3].astype(np.float32) / 255.0
        pixels = to_uint8(composite_on_white(pixels[..., :3].astype(np.float32), alpha))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.ascontiguousarray(pixels)).save(path)
    except (OSError, ValueError, KeyError) as error:
        raise ImageError(
            f"Could not write the image ({error}). Use a writable path ending in .png or .jpg. "
            f"Received: path={str(path)!r}"
        ) from error
    return path
