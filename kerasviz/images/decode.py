"""Decoding: open a file, bytes or PIL image with decode limits, and turn any Pillow mode or
array layout into RGB pixels (grayscale copied to three channels, transparency composited onto
white, 16-bit scaled to `[0, 255]`). `kerasviz.images.io.load_image` is the public entry point.
"""

from __future__ import annotations

import io
import os
import pathlib
import warnings
from typing import Any, Optional, Union

import numpy as np
from PIL import Image, ImageOps

from ..errors import ImageError
from .arrays import RANGE_HINT, composite_on_white

__all__ = ["array_to_rgb", "check_image_layout", "check_pixel_count", "describe_source", "open_image", "pil_to_rgb"]


def describe_source(source: Any) -> str:
    """Name an image source for the `Received: ...` end of an error message.

    Args:
        source: Anything passed as an image.

    Returns:
        E.g. `"source='cat.jpg'"` or `"array with shape (4, 4) and dtype uint8"`.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"{type(source).__name__} of length {len(source)}"
    if isinstance(source, (str, os.PathLike)):
        return f"source={os.fspath(source)!r}"
    if isinstance(source, Image.Image):
        return f"PIL image of mode {source.mode!r} and size {source.width}x{source.height}"
    if isinstance(source, np.ndarray):
        return f"array with shape {source.shape} and dtype {source.dtype}"
    return f"source of type {type(source).__name__}"


def check_pixel_count(width: int, height: int, limit: Optional[int], received: str) -> None:
    """Refuse zero-size images and images with more than `limit` pixels (decompression bombs).

    Args:
        width: Image width in pixels.
        height: Image height in pixels.
        limit: Most pixels allowed, or `None` for no limit.
        received: The source's description, for the message.

    Raises:
        ImageError: An empty image, or more than `limit` pixels.
    """
    if width == 0 or height == 0:
        raise ImageError(
            f"The image is empty ({width}x{height} pixels). Pass an image with at least one "
            f"pixel. Received: {received}"
        )
    if limit is not None and width * height > limit:
        raise ImageError(
            f"The image has {width * height} pixels ({width}x{height}), more than the limit of "
            f"{limit} (a possible decompression bomb). Pass a larger `max_pixels` if you trust "
            f"it. Received: {received}"
        )


def open_image(source: Any, limit: Optional[int]) -> Image.Image:
    """Open and fully decode a path, bytes or PIL image, with EXIF orientation applied.

    Args:
        source: A path, the encoded bytes, or a `PIL.Image.Image`.
        limit: Most pixels allowed (checked before decoding), or `None` for no limit.

    Returns:
        A new, fully loaded PIL image, upright.

    Raises:
        ImageError: Missing file, not a file, unknown format, truncated or corrupt data, an
            empty image, or more than `limit` pixels.
    """
    received = describe_source(source)
    if isinstance(source, (str, os.PathLike)):
        path = pathlib.Path(source)
        if not path.exists():
            raise ImageError(
                "No such file. Check the path, or name a bundled picture as `skimage:NAME` "
                f"(e.g. `skimage:chelsea`). Received: {received}"
            )
        if not path.is_file():
            raise ImageError(f"The path is not a file. Pass an image file. Received: {received}")
        opener: Any = path
    elif isinstance(source, (bytes, bytearray, memoryview)):
        opener = io.BytesIO(bytes(source))
    else:
        opener = None  # A PIL image.
    try:
        with warnings.catch_warnings():
            # Our own `limit` check below replaces Pillow's bomb warning.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = source if opener is None else Image.open(opener)
        try:
            check_pixel_count(image.width, image.height, limit, received)
            image.load()
            return ImageOps.exif_transpose(image)  # Always a new image.
        finally:
            if opener is not None:
                image.close()
    except ImageError:
        raise
    except Image.DecompressionBombError as error:
        raise ImageError(
            f"The image is larger than Pillow's safety limit ({error}). If you trust the file, "
            f"raise `PIL.Image.MAX_IMAGE_PIXELS`. Received: {received}"
        ) from error
    except Image.UnidentifiedImageError as error:
        raise ImageError(
            "Not a readable image (unknown or unsupported format). Pass a PNG, JPEG, TIFF, "
            f"BMP, GIF or WebP image. Received: {received}"
        ) from error
    except Exception as error:  # noqa: BLE001 - every decoder failure means a broken file.
        raise ImageError(
            f"The image could not be decoded; it is truncated or corrupt ({error}). Re-export "
            f"or re-download it. Received: {received}"
        ) from error


def pil_to_rgb(image: Image.Image, received: str) -> Union[Image.Image, np.ndarray]:
    """Any Pillow mode as an 8-bit RGB image, or float32 `(H, W, 3)` for 16-bit / float modes.

    Args:
        image: A decoded PIL image of any mode.
        received: The source's description, for messages.

    Returns:
        An RGB PIL image (8-bit modes) or a float32 `(H, W, 3)` array in `[0, 255]` (16-bit and
        float modes, so no precision is lost before resizing).

    Raises:
        ImageError: A 16-bit or float image with values outside its range.
    """
    mode = image.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        values = np.asarray(image, dtype=np.float64)
        if mode == "F":
            low, high, scale = 0.0, 255.0, 1.0
        else:  # 16-bit data; mode "I" is how Pillow holds 16-bit files such as TIFF.
            low, high, scale = 0.0, 65535.0, 255.0 / 65535.0
        if not np.all(np.isfinite(values)) or values.min() < low or values.max() > high:
            raise ImageError(
                f"A mode {mode!r} image must hold values in [{low:g}, {high:g}]; found "
                f"[{np.nanmin(values):g}, {np.nanmax(values):g}]. Rescale it first. "
                f"Received: {received}"
            )
        gray = (values * scale).astype(np.float32)
        return np.repeat(gray[..., None], 3, axis=-1)
    bands = image.getbands()
    if "A" in bands or "a" in bands or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def check_image_layout(array: np.ndarray, received: str) -> np.ndarray:
    """The one check of an image array's layout: `(H, W)` or `(H, W, 1|3|4)`.

    Args:
        array: Any NumPy array.
        received: The source's description, for messages.

    Returns:
        `array`, with a single channel axis `(H, W, 1)` dropped to `(H, W)`.

    Raises:
        ImageError: Any other shape.
    """
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ImageError(
            "An image array must have shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4). "
            f"Received: {received}"
        )
    return array


def array_to_rgb(array: np.ndarray, received: str) -> Union[Image.Image, np.ndarray]:
    """A `(H, W)` or `(H, W, 1|3|4)` array as an 8-bit RGB image or a float32 RGB array.

    Args:
        array: uint8, uint16, bool, int or float pixels (`[0, 255]`; uint16 `[0, 65535]`).
        received: The source's description, for messages.

    Returns:
        An RGB PIL image (uint8 input) or a float32 `(H, W, 3)` array in `[0, 255]`.

    Raises:
        ImageError: Unusable shape or dtype, NaN / inf, or values outside the range.
    """
    array = check_image_layout(array, received)
    if array.dtype == np.uint8 or (array.dtype == np.uint16 and array.ndim == 2):
        return pil_to_rgb(Image.fromarray(np.ascontiguousarray(array)), received)
    if array.dtype == np.bool_:
        values, top = array.astype(np.float32) * 255.0, 255.0
    elif array.dtype == np.uint16:
        values, top = array.astype(np.float32) * (255.0 / 65535.0), 255.0
    elif np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating):
        values, top = array.astype(np.float32), 255.0
        if not np.all(np.isfinite(values)):
            raise ImageError(f"The image holds NaN or inf values. Received: {received}")
        if values.min() < 0 or values.max() > 255:
            raise ImageError(
                f"Values must lie in [0, 255]; found [{values.min():g}, {values.max():g}]. "
                f"{RANGE_HINT} (Use uint16 for 16-bit data.) Received: {received}"
            )
    else:
        raise ImageError(
            f"An image array must be uint8, uint16, bool, int or float. Received: {received}"
        )
    if values.ndim == 2:
        return np.repeat(values[..., None], 3, axis=-1)
    if values.shape[-1] == 4:
        return composite_on_white(values[..., :3], values[..., 3] / top).astype(np.float32)
    return values
