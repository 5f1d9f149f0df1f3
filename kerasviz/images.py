"""Images in and out: load / save with Pillow, validation, resizing, grids and heatmap overlays.

Conventions shared by the whole package: images are NumPy arrays, channels last, in pixel space
(`uint8`, or `float32` in `[0, 255]`), shaped `(H, W, 3)` or `(N, H, W, 3)`. Heatmaps are float
arrays in `[0, 1]` shaped `(H, W)` or `(N, H, W)`. Resizing goes through Pillow (bicubic for
images, bilinear for heatmaps); colormaps come from OpenCV.
"""

from __future__ import annotations

import io
import math
import numbers
import os
import pathlib
import warnings
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from kerasviz.errors import ImageError, ParameterError

__all__ = [
    "load_image",
    "save_image",
    "as_image_batch",
    "to_uint8",
    "resize_image",
    "resize_map",
    "normalize_map",
    "image_grid",
    "colorize_map",
    "overlay_heatmap",
    "parse_size",
    "sample_image",
    "COLORMAPS",
    "SAMPLE_IMAGES",
]

Size = Union[int, Tuple[int, int]]
ImageSource = Union[str, os.PathLike, bytes, bytearray, memoryview, Image.Image, np.ndarray]

# OpenCV colormap ids by name; "gray" is the identity map (no OpenCV colormap is needed).
COLORMAPS = {
    "jet": cv2.COLORMAP_JET,
    "turbo": cv2.COLORMAP_TURBO,
    "viridis": cv2.COLORMAP_VIRIDIS,
    "inferno": cv2.COLORMAP_INFERNO,
    "magma": cv2.COLORMAP_MAGMA,
    "hot": cv2.COLORMAP_HOT,
    "gray": None,
}

# Bundled photos (RGB) and textures (grayscale) from `skimage.data`.
SAMPLE_IMAGES = ("chelsea", "coffee", "astronaut", "rocket", "brick", "grass", "gravel", "camera")

_RANGE_HINT = (
    "kerasviz takes pixel values in [0, 255]; if your image is in [0, 1], multiply by 255."
)


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _to_numpy(x: Any) -> np.ndarray:
    """Return `x` as a NumPy array (TF / Keras tensors through `.numpy()`, no TF import)."""
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    return np.asarray(x)


def parse_size(size: Optional[Size], name: str = "size") -> Optional[Tuple[int, int]]:
    """Turn a size argument into `(height, width)`, the one size parser every module shares.

    Args:
        size: `None`, an int `s` (meaning `s x s`), or `(height, width)`; sides positive.
        name: The argument name used in error messages.

    Returns:
        `None` for `None`, else `(height, width)` as ints.

    Raises:
        ParameterError: Not a positive int or a pair of them.
    """
    if size is None:
        return None
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = (int(size), int(size))
    if (
        isinstance(size, (tuple, list))
        and len(size) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in size)
        and all(v > 0 for v in size)
    ):
        return int(size[0]), int(size[1])
    raise ParameterError(
        f"`{name}` must be a positive int `s` (for s x s) or a pair `(height, width)` of "
        f"positive ints. Received: {name}={size!r}"
    )


def _describe(source: Any) -> str:
    """Name an image source for the `Received: ...` end of an error message."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"{type(source).__name__} of length {len(source)}"
    if isinstance(source, (str, os.PathLike)):
        return f"source={os.fspath(source)!r}"
    if isinstance(source, Image.Image):
        return f"PIL image of mode {source.mode!r} and size {source.width}x{source.height}"
    if isinstance(source, np.ndarray):
        return f"array with shape {source.shape} and dtype {source.dtype}"
    return f"source of type {type(source).__name__}"


def _composite_on_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Blend float `rgb` in [0, 255] over white with `alpha` in [0, 1]."""
    return rgb * alpha[..., None] + 255.0 * (1.0 - alpha[..., None])


def _resize_float_channels(array: np.ndarray, size: Tuple[int, int], resample: int) -> np.ndarray:
    """Resize an `(H, W)` or `(H, W, C)` float array channel by channel with Pillow's "F" mode."""
    height, width = size
    if array.ndim == 2:
        image = Image.fromarray(np.ascontiguousarray(array, dtype=np.float32))  # mode "F"
        return np.asarray(image.resize((width, height), resample), dtype=np.float32)
    channels = [
        _resize_float_channels(array[..., c], size, resample) for c in range(array.shape[-1])
    ]
    return np.stack(channels, axis=-1)


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def _open(source: Any, limit: Optional[int]) -> Image.Image:
    """Open and fully decode a path, bytes or PIL image, with EXIF orientation applied."""
    received = _describe(source)
    if isinstance(source, (str, os.PathLike)):
        path = pathlib.Path(source)
        if not path.exists():
            raise ImageError(f"No such file. Check the path. Received: {received}")
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
            _check_pixels(image.width, image.height, limit, received)
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


def _check_pixels(width: int, height: int, limit: Optional[int], received: str) -> None:
    """Refuse zero-size images and images with more than `limit` pixels."""
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


def _pil_to_rgb(image: Image.Image, received: str) -> Union[Image.Image, np.ndarray]:
    """Convert any Pillow mode to an 8-bit RGB image, or a float32 `(H, W, 3)` array for
    16-bit and float modes (so no precision is lost before resizing)."""
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
    has_alpha = (
        "A" in image.getbands() or "a" in image.getbands() or "transparency" in image.info
    )
    if has_alpha:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def _array_to_rgb(array: np.ndarray, received: str) -> Union[Image.Image, np.ndarray]:
    """Convert a `(H, W)`, `(H, W, 1|3|4)` array to an 8-bit RGB image or float32 RGB array."""
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ImageError(
            "An image array must have shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4). "
            f"Received: {received}"
        )
    if array.dtype == np.uint8 or (array.dtype == np.uint16 and array.ndim == 2):
        return _pil_to_rgb(Image.fromarray(np.ascontiguousarray(array)), received)
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
                f"{_RANGE_HINT} (Use uint16 for 16-bit data.) Received: {received}"
            )
    else:
        raise ImageError(
            f"An image array must be uint8, uint16, bool, int or float. Received: {received}"
        )
    if values.ndim == 2:
        return np.repeat(values[..., None], 3, axis=-1)
    if values.shape[-1] == 4:
        return _composite_on_white(values[..., :3], values[..., 3] / top).astype(np.float32)
    return values


def load_image(
    source: ImageSource,
    size: Optional[Size] = None,
    *,
    max_pixels: Optional[int] = None,
) -> np.ndarray:
    """Load an image from a file, bytes, a PIL image or an array as float32 RGB in [0, 255].

    Every input becomes three-channel RGB: grayscale (`1`, `L`) is copied to R, G and B; images
    with transparency (`LA`, `RGBA`, palette `P` with transparency) are composited onto a
    **white** background; palette, `CMYK` and `YCbCr` images are converted by Pillow; 16-bit
    images (`I;16`, and `I`, which holds 16-bit TIFFs) are scaled from `[0, 65535]` to
    `[0, 255]`; float `F` images must already hold values in `[0, 255]`. EXIF orientation is
    applied, so photos come out upright. For an 8-bit RGB file the result equals
    `np.asarray(Image.open(p).convert("RGB").resize((w, h), Image.BICUBIC), np.float32)`.

    Args:
        source: a path (`str` or `os.PathLike`), the encoded file as `bytes`, a
            `PIL.Image.Image`, or a NumPy array shaped `(H, W)`, `(H, W, 1)`, `(H, W, 3)` or
            `(H, W, 4)`: `uint8` in `[0, 255]`, `uint16` in `[0, 65535]`, or float in
            `[0, 255]` (the alpha channel of a 4-channel array uses the same scale).
        size: `None` to keep the size, an int `s` for `s x s`, or `(height, width)`. Resizing
            uses Pillow's bicubic filter.
        max_pixels: refuse images with more pixels than this (decompression bombs). Defaults to
            `PIL.Image.MAX_IMAGE_PIXELS`; `None` there means no limit.

    Returns:
        A float32 array `(H, W, 3)` with values in `[0, 255]`.

    Raises:
        ImageError: the file is missing, not an image, truncated or corrupt; the image is empty
            or has more than `max_pixels` pixels; the array has an unusable shape, dtype or
            value range.
        ParameterError: `size` is not a positive int or `(height, width)` pair.
    """
    target = parse_size(size)
    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else int(max_pixels)
    received = _describe(source)
    if isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview, Image.Image)):
        rgb = _pil_to_rgb(_open(source, limit), received)
    elif isinstance(source, np.ndarray) or hasattr(source, "numpy"):
        array = _to_numpy(source)
        received = _describe(array)
        if array.ndim not in (2, 3):
            raise ImageError(
                "An image array must have shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4). "
                f"Received: {received}"
            )
        _check_pixels(array.shape[1], array.shape[0], limit, received)
        rgb = _array_to_rgb(array, received)
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
        rgb = np.clip(_resize_float_channels(rgb, target, Image.BICUBIC), 0.0, 255.0)
    return np.ascontiguousarray(rgb, dtype=np.float32)


# --------------------------------------------------------------------------------------------
# Saving and conversion
# --------------------------------------------------------------------------------------------


def to_uint8(array: Any) -> np.ndarray:
    """Clip to [0, 255], round and convert to uint8.

    Args:
        array: any numeric array (or tensor) in pixel space, any shape. NaN becomes 0.

    Returns:
        A uint8 array of the same shape.

    Raises:
        ImageError: the input is not numeric.
    """
    values = _to_numpy(array)
    if values.dtype == np.uint8:
        return values
    if not (np.issubdtype(values.dtype, np.number) or values.dtype == np.bool_):
        raise ImageError(f"Expected a numeric array. Received: array with dtype {values.dtype}")
    if values.dtype == np.bool_:
        return values.astype(np.uint8) * 255
    values = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=255.0, neginf=0.0)
    return np.rint(np.clip(values, 0.0, 255.0)).astype(np.uint8)


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
    values = _to_numpy(array)
    received = f"array with shape {values.shape} and dtype {values.dtype}"
    if values.ndim == 3 and values.shape[-1] == 1:
        values = values[..., 0]
    if values.ndim not in (2, 3) or (values.ndim == 3 and values.shape[-1] not in (3, 4)):
        raise ImageError(
            "`save_image` takes an array shaped (H, W), (H, W, 1), (H, W, 3) or (H, W, 4). "
            f"Received: {received}"
        )
    if 0 in values.shape:
        raise ImageError(f"Cannot save an empty image. Received: {received}")
    if not (np.issubdtype(values.dtype, np.number) or values.dtype == np.bool_):
        raise ImageError(f"`save_image` takes a numeric array. Received: {received}")
    if np.issubdtype(values.dtype, np.inexact) and not np.all(np.isfinite(values)):
        raise ImageError(f"The image holds NaN or inf values. Received: {received}")
    pixels = to_uint8(values)
    if pixels.ndim == 3 and pixels.shape[-1] == 4 and path.suffix.lower() in (".jpg", ".jpeg"):
        alpha = pixels[..., 3].astype(np.float32) / 255.0
        pixels = to_uint8(_composite_on_white(pixels[..., :3].astype(np.float32), alpha))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.ascontiguousarray(pixels)).save(path)
    except (OSError, ValueError, KeyError) as error:
        raise ImageError(
            f"Could not write the image ({error}). Use a writable path ending in .png or .jpg. "
            f"Received: path={str(path)!r}"
        ) from error
    return path


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def as_image_batch(images: Any, *, name: str = "images") -> Tuple[np.ndarray, bool]:
    """Validate images in pixel space and return them as a float32 batch.

    This is the check every technique runs at its public boundary.

    Args:
        images: one image `(H, W, 3)` or a batch `(N, H, W, 3)`, uint8 or float in `[0, 255]`
            (NumPy array or TF tensor), or a list of same-size `(H, W, 3)` images.
        name: the argument name used in error messages.

    Returns:
        `(batch, single)`: a float32 array `(N, H, W, 3)` in `[0, 255]` (it may share memory
        with the input), and `True` when a single image was given (so the caller can return
        `result[0]`).

    Raises:
        ImageError: wrong rank, not 3 channels, an empty batch, zero height or width, NaN or
            inf, values outside `[0, 255]`, a non-numeric dtype, or a list of images of
            different sizes.
    """
    if isinstance(images, (list, tuple)):
        arrays = [_to_numpy(image) for image in images]
        shapes = [a.shape for a in arrays]
        if len(set(shapes)) > 1:
            raise ImageError(
                f"`{name}` is a list of images of different sizes; resize them to one size "
                f"first (e.g. `load_image(x, size=...)`). Received: {name} as a list of "
                f"{len(arrays)} arrays with shapes {shapes}"
            )
        if not arrays:
            raise ImageError(
                f"`{name}` is an empty list; pass at least one image. Received: {name} with "
                "shape (0,) and dtype float32"
            )
        array = np.stack(arrays)
    else:
        array = _to_numpy(images)
    received = f"Received: {name} with shape {array.shape} and dtype {array.dtype}"

    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise ImageError(f"`{name}` must be a uint8 or float array of pixels. {received}")
    if array.ndim not in (3, 4):
        hint = (
            " A grayscale image? Convert it to RGB with `kerasviz.load_image`."
            if array.ndim == 2
            else ""
        )
        raise ImageError(
            f"`{name}` must be one image (H, W, 3) or a batch (N, H, W, 3).{hint} {received}"
        )
    if array.shape[-1] != 3:
        raise ImageError(
            f"`{name}` must have 3 (RGB) channels, channels last. Convert grayscale or RGBA "
            "images with `kerasviz.load_image` (which returns RGB), or use "
            f"`np.repeat(gray[..., None], 3, axis=-1)`. {received}"
        )
    single = array.ndim == 3
    if single:
        array = array[None]
    if array.shape[0] == 0:
        raise ImageError(f"`{name}` is an empty batch (N = 0); pass at least one image. {received}")
    if array.shape[1] == 0 or array.shape[2] == 0:
        raise ImageError(f"`{name}` has zero height or width. {received}")
    array = np.asarray(array, dtype=np.float32)
    if not np.all(np.isfinite(array)):
        raise ImageError(f"`{name}` holds NaN or inf values. {received}")
    low, high = float(array.min()), float(array.max())
    if low < 0.0 or high > 255.0:
        raise ImageError(
            f"`{name}` has values in [{low:g}, {high:g}], outside [0, 255]. {_RANGE_HINT} "
            f"{received}"
        )
    return array, single


# --------------------------------------------------------------------------------------------
# Resizing and normalization
# --------------------------------------------------------------------------------------------


def resize_image(image: Any, size: Size) -> np.ndarray:
    """Resize an image (or batch) with Pillow's bicubic filter, keeping values in [0, 255].

    A uint8 RGB or grayscale image is resized as a whole by Pillow (the same path as
    `load_image`); float images are resized channel by channel in Pillow's float mode and
    clipped to `[0, 255]`.

    Args:
        image: `(H, W)`, `(H, W, C)` or `(N, H, W, C)`, uint8 or float in `[0, 255]`.
        size: an int `s` for `s x s`, or `(height, width)`.

    Returns:
        A float32 array with the new height and width and the other dimensions unchanged.

    Raises:
        ImageError: the image has an unusable rank, is empty or is not numeric.
        ParameterError: `size` is not a positive int or `(height, width)` pair.
    """
    target = parse_size(size)
    array = _to_numpy(image)
    received = f"Received: image with shape {array.shape} and dtype {array.dtype}"
    if array.ndim not in (2, 3, 4) or 0 in array.shape:
        raise ImageError(
            f"`resize_image` takes a non-empty (H, W), (H, W, C) or (N, H, W, C) array. {received}"
        )
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise ImageError(f"`resize_image` takes a numeric array. {received}")
    if array.ndim == 4:
        return np.stack([resize_image(one, target) for one in array])
    height, width = target
    if array.dtype == np.uint8 and (array.ndim == 2 or array.shape[-1] in (1, 3)):
        pil = Image.fromarray(array[..., 0] if array.ndim == 3 and array.shape[-1] == 1 else array)
        out = np.asarray(pil.resize((width, height), Image.BICUBIC), dtype=np.float32)
        return out.reshape(target + array.shape[2:])
    out = _resize_float_channels(array.astype(np.float32), target, Image.BICUBIC)
    return np.clip(out, 0.0, 255.0)


def _as_maps(heatmap: Any, what: str) -> Tuple[np.ndarray, bool]:
    """Return float32 `(N, H, W)` maps and whether a single `(H, W)` map was given."""
    maps = _to_numpy(heatmap)
    received = f"Received: heatmap with shape {maps.shape} and dtype {maps.dtype}"
    if maps.ndim not in (2, 3) or 0 in maps.shape:
        raise ImageError(f"`{what}` takes a non-empty map (H, W) or maps (N, H, W). {received}")
    if not (np.issubdtype(maps.dtype, np.number) or maps.dtype == np.bool_):
        raise ImageError(f"`{what}` takes a numeric heatmap. {received}")
    maps = maps.astype(np.float32)
    if not np.all(np.isfinite(maps)):
        raise ImageError(f"The heatmap holds NaN or inf values. {received}")
    single = maps.ndim == 2
    return (maps[None] if single else maps), single


def resize_map(heatmap: Any, size: Size) -> np.ndarray:
    """Resize heatmaps bilinearly, e.g. to upsample a coarse map to the input resolution.

    Args:
        heatmap: one map `(h, w)` or maps `(N, h, w)`, any float range (bilinear resizing does
            not leave the input's range).
        size: an int `s` for `s x s`, or `(height, width)`.

    Returns:
        A float32 array `(height, width)` or `(N, height, width)`.

    Raises:
        ImageError: the heatmap has the wrong rank, is empty or holds NaN / inf.
        ParameterError: `size` is not a positive int or `(height, width)` pair.
    """
    target = parse_size(size)
    maps, single = _as_maps(heatmap, "resize_map")
    if maps.shape[1:] != target:
        maps = np.stack([_resize_float_channels(m, target, Image.BILINEAR) for m in maps])
    return maps[0] if single else maps


def normalize_map(heatmap: Any, *, eps: float = 1e-12) -> np.ndarray:
    """Min-max normalize each heatmap to [0, 1]; a constant map becomes all zeros.

    Args:
        heatmap: one map `(H, W)` or maps `(N, H, W)`, any finite float range.
        eps: a map whose max - min is at most `eps` counts as constant.

    Returns:
        A float32 array of the same shape with values in `[0, 1]` (never NaN).

    Raises:
        ImageError: the heatmap has the wrong rank, is empty or holds NaN / inf.
    """
    maps, single = _as_maps(heatmap, "normalize_map")
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    flat = span <= eps
    out = np.where(flat, 0.0, (maps - low) / np.where(flat, 1.0, span)).astype(np.float32)
    out = np.clip(out, 0.0, 1.0)
    return out[0] if single else out


# --------------------------------------------------------------------------------------------
# Rendering: grids, colormaps, overlays
# --------------------------------------------------------------------------------------------


def _tile_to_rgb(tile: Any, index: int) -> np.ndarray:
    """One grid tile as uint8 `(H, W, 3)`."""
    array = _to_numpy(tile)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 3 and array.shape[-1] == 4:
        array = load_image(array)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=-1)
    if array.ndim != 3 or array.shape[-1] != 3 or 0 in array.shape:
        raise ImageError(
            f"Each grid tile must be (H, W) or (H, W, 3) and non-empty. Received: tile {index} "
            f"with shape {array.shape} and dtype {array.dtype}"
        )
    return to_uint8(array)


def image_grid(
    images: Any,
    *,
    ncols: Optional[int] = None,
    padding: int = 2,
    pad_value: Union[int, Sequence[int]] = 255,
    labels: Optional[Sequence[str]] = None,
    tile_size: Optional[Size] = None,
) -> np.ndarray:
    """Tile images into one picture, optionally with a text label under each tile.

    Tiles sit in a `nrows x ncols` grid of cells as large as the largest tile (smaller tiles are
    centred), with `padding` pixels around and between cells. The result is
    `nrows * (cell_h + label_h) + (nrows + 1) * padding` pixels high and
    `ncols * cell_w + (ncols + 1) * padding` wide, where `label_h` is 0 without labels.

    Args:
        images: a list of images or a batch array; each tile `(H, W, 3)` RGB or `(H, W)`
            grayscale (`(H, W, 1)` and RGBA `(H, W, 4)` are converted), uint8 or float in
            `[0, 255]` (clipped). Tiles may differ in size.
        ncols: number of columns; default `ceil(sqrt(N))` (near-square); at most N.
        padding: pixels between and around tiles, `>= 0`.
        pad_value: background gray level in `[0, 255]`, or an `(r, g, b)` triple.
        labels: optional text per tile (one string per image), drawn under the tile with
            Pillow's default font; text wider than the tile wraps onto more lines.
        tile_size: resize every tile to this (int `s` or `(height, width)`) with bicubic
            resizing, so that tiles of mixed sizes line up.

    Returns:
        A uint8 array `(H, W, 3)`.

    Raises:
        ImageError: no images, or a tile with an unusable shape.
        ParameterError: bad `ncols`, `padding`, `pad_value`, `labels` or `tile_size`.
    """
    items = list(images) if not hasattr(images, "shape") else list(_to_numpy(images))
    if not items:
        raise ImageError("`image_grid` needs at least one image. Received: images with 0 items")
    target = parse_size(tile_size, "tile_size")
    tiles = [_tile_to_rgb(tile, i) for i, tile in enumerate(items)]
    if target is not None:
        tiles = [to_uint8(resize_image(tile, target)) for tile in tiles]
    count = len(tiles)
    if ncols is None:
        ncols = math.ceil(math.sqrt(count))
    if not isinstance(ncols, (int, np.integer)) or isinstance(ncols, bool) or ncols < 1:
        raise ParameterError(f"`ncols` must be a positive int or None. Received: ncols={ncols!r}")
    if not isinstance(padding, (int, np.integer)) or isinstance(padding, bool) or padding < 0:
        raise ParameterError(f"`padding` must be an int >= 0. Received: padding={padding!r}")
    fill = np.asarray(pad_value)
    if (
        fill.shape not in ((), (3,))
        or not np.issubdtype(fill.dtype, np.number)
        or fill.min() < 0
        or fill.max() > 255
    ):
        raise ParameterError(
            "`pad_value` must be a gray level in [0, 255] or an (r, g, b) triple. "
            f"Received: pad_value={pad_value!r}"
        )
    fill_rgb = tuple(int(round(v)) for v in np.broadcast_to(fill, (3,)))
    if labels is not None and (isinstance(labels, str) or len(labels) != count):
        raise ParameterError(
            f"`labels` must be a list of {count} strings, one per image. "
            f"Received: labels={labels!r}"
        )
    ncols = min(int(ncols), count)
    nrows = math.ceil(count / ncols)
    cell_h = max(t.shape[0] for t in tiles)
    cell_w = max(t.shape[1] for t in tiles)

    font = ImageFont.load_default()
    label_h = 0
    if labels is not None:
        probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
        labels = [_wrap_label(str(text), lambda t: probe.textlength(t, font=font), cell_w - 4) for text in labels]
        heights = [probe.multiline_textbbox((0, 0), text or " ", font=font)[3] for text in labels]
        label_h = max(heights) + 4

    text_rgb = (0, 0, 0) if sum(fill_rgb) > 3 * 127 else (255, 255, 255)
    grid_h = nrows * (cell_h + label_h) + (nrows + 1) * padding
    grid_w = ncols * cell_w + (ncols + 1) * padding
    grid = np.empty((grid_h, grid_w, 3), np.uint8)
    grid[...] = fill_rgb
    for index, tile in enumerate(tiles):
        row, col = divmod(index, ncols)
        top = padding + row * (cell_h + label_h + padding)
        left = padding + col * (cell_w + padding)
        y = top + (cell_h - tile.shape[0]) // 2
        x = left + (cell_w - tile.shape[1]) // 2
        grid[y : y + tile.shape[0], x : x + tile.shape[1]] = tile
        if labels is not None:
            strip = Image.new("RGB", (cell_w, label_h), fill_rgb)
            draw = ImageDraw.Draw(strip)
            draw.multiline_text((2, 2), str(labels[index]), fill=text_rgb, font=font)
            grid[top + cell_h : top + cell_h + label_h, left : left + cell_w] = np.asarray(strip)
    return grid


def _wrap_label(text: str, width_of: Callable[[str], float], width: int) -> str:
    """`text` with line breaks so that each line is at most `width` pixels wide (words first,
    then characters for a word that alone is too wide)."""
    lines: List[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if width_of(candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            for char in word:  # the word starts a new line, broken where it must be
                if line and width_of(line + char) > width:
                    lines.append(line)
                    line = ""
                line += char
        lines.append(line)
    return "\n".join(lines)


def _colormap_id(colormap: str) -> Optional[int]:
    """Look up an OpenCV colormap id by name (None for "gray")."""
    key = colormap.lower() if isinstance(colormap, str) else colormap
    if key not in COLORMAPS:
        raise ParameterError(
            f"Unknown colormap; choose one of {sorted(COLORMAPS)}. Received: colormap={colormap!r}"
        )
    return COLORMAPS[key]


def _check_unit_range(maps: np.ndarray) -> np.ndarray:
    """Refuse heatmaps clearly outside [0, 1]; clip tiny rounding excursions."""
    low, high = float(maps.min()), float(maps.max())
    if low < -1e-3 or high > 1.0 + 1e-3:
        raise ImageError(
            f"A heatmap must hold values in [0, 1]; found [{low:g}, {high:g}]. Normalize it "
            f"with `kerasviz.images.normalize_map`. Received: heatmap with shape {maps.shape}"
        )
    return np.clip(maps, 0.0, 1.0)


def colorize_map(heatmap: Any, colormap: str = "jet") -> np.ndarray:
    """Colour a heatmap with an OpenCV colormap, as RGB.

    Args:
        heatmap: `(H, W)` or `(N, H, W)` with values in `[0, 1]` (1 = high; red for `"jet"`).
        colormap: one of `"jet"`, `"turbo"`, `"viridis"`, `"inferno"`, `"magma"`, `"hot"`,
            `"gray"`.

    Returns:
        A uint8 RGB array `(H, W, 3)` or `(N, H, W, 3)`.

    Raises:
        ImageError: the heatmap has the wrong rank, is empty, holds NaN / inf or leaves [0, 1].
        ParameterError: unknown `colormap`.
    """
    code = _colormap_id(colormap)
    maps, single = _as_maps(heatmap, "colorize_map")
    levels = np.rint(_check_unit_range(maps) * 255.0).astype(np.uint8)
    if code is None:
        colored = np.repeat(levels[..., None], 3, axis=-1)
    else:
        n, h, w = levels.shape
        bgr = cv2.applyColorMap(levels.reshape(n * h, w), code)
        colored = bgr[..., ::-1].reshape(n, h, w, 3)  # OpenCV gives BGR.
    colored = np.ascontiguousarray(colored)
    return colored[0] if single else colored


def overlay_heatmap(
    image: Any,
    heatmap: Any,
    *,
    alpha: float = 0.5,
    colormap: str = "jet",
) -> np.ndarray:
    """Blend a coloured heatmap over an image: `(1 - alpha) * image + alpha * colored`.

    Args:
        image: `(H, W, 3)` (or a batch `(N, H, W, 3)`), uint8 or float in `[0, 255]`.
        heatmap: `(h, w)` (or `(N, h, w)` for a batch) with values in `[0, 1]`; resized
            bilinearly to `(H, W)` when its size differs.
        alpha: weight of the coloured heatmap, in `[0, 1]`.
        colormap: one of `"jet"`, `"turbo"`, `"viridis"`, `"inferno"`, `"magma"`, `"hot"`,
            `"gray"`.

    Returns:
        A uint8 array `(H, W, 3)` (or `(N, H, W, 3)` for a batch).

    Raises:
        ImageError: the image or heatmap is unusable, or their counts differ.
        ParameterError: `alpha` outside [0, 1] or an unknown `colormap`.
    """
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 <= alpha <= 1:
        raise ParameterError(f"`alpha` must be a number in [0, 1]. Received: alpha={alpha!r}")
    _colormap_id(colormap)
    batch, single = as_image_batch(image, name="image")
    maps, _ = _as_maps(heatmap, "overlay_heatmap")
    if maps.shape[0] != batch.shape[0]:
        raise ImageError(
            f"Got {batch.shape[0]} image(s) but {maps.shape[0]} heatmap(s); pass one heatmap "
            f"per image. Received: heatmap with shape {maps.shape}"
        )
    maps = resize_map(maps, batch.shape[1:3])
    colored = colorize_map(maps, colormap).astype(np.float32)
    blended = to_uint8((1.0 - alpha) * batch + alpha * colored)
    return blended[0] if single else blended


# --------------------------------------------------------------------------------------------
# Bundled sample images
# --------------------------------------------------------------------------------------------


def sample_image(name: str, size: Optional[Size] = None) -> np.ndarray:
    """Load a bundled sample photo or texture from `skimage.data` as float32 RGB.

    Args:
        name: one of `"chelsea"` (a cat, 300x451), `"coffee"`, `"astronaut"`, `"rocket"` (RGB
            photos) or `"brick"`, `"grass"`, `"gravel"`, `"camera"` (grayscale, returned as RGB).
        size: `None` to keep the size, an int `s` for `s x s`, or `(height, width)`; bicubic,
            exactly as `load_image`.

    Returns:
        A float32 array `(H, W, 3)` with values in `[0, 255]`.

    Raises:
        ParameterError: unknown `name`, or a bad `size`.
        ImageError: scikit-image or its data cannot be loaded.
    """
    if name not in SAMPLE_IMAGES:
        raise ParameterError(
            f"Unknown sample image; choose one of {list(SAMPLE_IMAGES)}. Received: name={name!r}"
        )
    try:
        from skimage import data
    except ImportError as error:
        raise ImageError(
            "Sample images need scikit-image: `pip install scikit-image`. "
            f"Received: name={name!r}"
        ) from error
    return load_image(np.asarray(getattr(data, name)()), size)
