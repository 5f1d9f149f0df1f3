"""Image and heatmap arrays: validation, conversion to `uint8`, resizing and normalization.

Images are NumPy arrays in pixel space (`uint8`, or `float32` in `[0, 255]`), channels last,
`(H, W, 3)` or `(N, H, W, 3)`; heatmaps are float arrays `(H, W)` or `(N, H, W)`. Resizing goes
through Pillow (bicubic for images, bilinear for heatmaps).
"""

from __future__ import annotations

import warnings
from typing import Any, Optional, Tuple, Union

import numpy as np
from PIL import Image

from ..checks import check_size
from ..errors import ImageError

__all__ = [
    "RANGE_HINT",
    "Size",
    "UnitRangeWarning",
    "as_image_batch",
    "as_maps",
    "composite_on_white",
    "normalize_map",
    "parse_size",
    "resize_channels",
    "resize_image",
    "resize_map",
    "to_numpy",
    "to_numpy_dtype",
    "to_uint8",
]

Size = Union[int, Tuple[int, int]]

class UnitRangeWarning(UserWarning):
    """A float image has every value in `[0, 1]`, where kerasviz expects pixels in `[0, 255]`."""


def to_numpy_dtype(images: Any) -> np.dtype:
    """The element dtype of an image argument (an array, a tensor or a list of arrays).

    Args:
        images: What a technique was given.

    Returns:
        The NumPy dtype of its values.
    """
    if isinstance(images, (list, tuple)) and images:
        return to_numpy_dtype(images[0])
    dtype = getattr(images, "dtype", None)
    return np.dtype(getattr(dtype, "as_numpy_dtype", dtype) or np.asarray(images).dtype)


#: The hint every "values outside [0, 255]" message ends with.
RANGE_HINT = "kerasviz takes pixel values in [0, 255]; if your image is in [0, 1], multiply by 255."


def to_numpy(x: Any) -> np.ndarray:
    """Return `x` as a NumPy array (TF / Keras tensors through `.numpy()`, no TF import).

    Args:
        x: An array, a tensor or anything `np.asarray` takes.

    Returns:
        The NumPy array (no copy where possible).
    """
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
    return None if size is None else check_size(size, name)


def composite_on_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Blend colours over a white background.

    Args:
        rgb: float `(..., 3)` in `[0, 255]`.
        alpha: float `(...)` in `[0, 1]` (1 = opaque).

    Returns:
        float `(..., 3)` in `[0, 255]`.
    """
    return rgb * alpha[..., None] + 255.0 * (1.0 - alpha[..., None])


def resize_channels(array: np.ndarray, size: Tuple[int, int], resample: int) -> np.ndarray:
    """Resize an `(H, W)` or `(H, W, C)` float array channel by channel in Pillow's "F" mode.

    Args:
        array: float `(H, W)` or `(H, W, C)`, any range.
        size: `(height, width)` of the result.
        resample: A Pillow filter, e.g. `Image.BICUBIC`.

    Returns:
        float32 `(height, width)` or `(height, width, C)` (not clipped).
    """
    height, width = size
    if array.ndim == 2:
        image = Image.fromarray(np.ascontiguousarray(array, dtype=np.float32))  # mode "F"
        return np.asarray(image.resize((width, height), resample), dtype=np.float32)
    channels = [resize_channels(array[..., c], size, resample) for c in range(array.shape[-1])]
    return np.stack(channels, axis=-1)


def to_uint8(array: Any) -> np.ndarray:
    """Clip to [0, 255], round and convert to uint8.

    Args:
        array: any numeric array (or tensor) in pixel space, any shape. NaN becomes 0.

    Returns:
        A uint8 array of the same shape.

    Raises:
        ImageError: the input is not numeric.
    """
    values = to_numpy(array)
    if values.dtype == np.uint8:
        return values
    if not (np.issubdtype(values.dtype, np.number) or values.dtype == np.bool_):
        raise ImageError(f"Expected a numeric array. Received: array with dtype {values.dtype}")
    if values.dtype == np.bool_:
        return values.astype(np.uint8) * 255
    values = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=255.0, neginf=0.0)
    return np.rint(np.clip(values, 0.0, 255.0)).astype(np.uint8)


def _stack_list(images: Any, name: str) -> np.ndarray:
    """A list of same-size images as one array."""
    arrays = [to_numpy(image) for image in images]
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
    return np.stack(arrays)


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

    Warns:
        UnitRangeWarning: A float image whose values all lie in `[0, 1]` (it was probably
            scaled for a network; kerasviz wants pixels in `[0, 255]`).
    """
    array = _stack_list(images, name) if isinstance(images, (list, tuple)) else to_numpy(images)
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
            f"`{name}` has values in [{low:g}, {high:g}], outside [0, 255]. {RANGE_HINT} "
            f"{received}"
        )
    if 0.0 < high <= 1.0 and np.issubdtype(to_numpy_dtype(images), np.floating):
        warnings.warn(UnitRangeWarning(
            f"`{name}` is a float image with every value in [0, 1] (max {high:g}); the maps "
            f"will be meaningless. {RANGE_HINT}"
        ), stacklevel=3)
    return array, single


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
        ImageError: the image has an unusable rank, is empty, is not numeric, or holds NaN / inf.
        ParameterError: `size` is not a positive int or `(height, width)` pair.
    """
    target = parse_size(size)
    array = to_numpy(image)
    received = f"Received: image with shape {array.shape} and dtype {array.dtype}"
    if array.ndim not in (2, 3, 4) or 0 in array.shape:
        raise ImageError(
            f"`resize_image` takes a non-empty (H, W), (H, W, C) or (N, H, W, C) array. {received}"
        )
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise ImageError(f"`resize_image` takes a numeric array. {received}")
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        raise ImageError(f"`resize_image` was given NaN or inf values. {received}")
    if array.ndim == 4:
        return np.stack([resize_image(one, target) for one in array])
    height, width = target
    if array.dtype == np.uint8 and (array.ndim == 2 or array.shape[-1] in (1, 3)):
        pil = Image.fromarray(array[..., 0] if array.ndim == 3 and array.shape[-1] == 1 else array)
        out = np.asarray(pil.resize((width, height), Image.BICUBIC), dtype=np.float32)
        return out.reshape(target + array.shape[2:])
    out = resize_channels(array.astype(np.float32), target, Image.BICUBIC)
    return np.clip(out, 0.0, 255.0)


def as_maps(heatmap: Any, what: str) -> Tuple[np.ndarray, bool]:
    """Validate heatmaps and return them as float32 `(N, H, W)`.

    Args:
        heatmap: One map `(H, W)` or maps `(N, H, W)`, numeric and finite.
        what: The calling function's name, for messages.

    Returns:
        `(maps, single)`: float32 `(N, H, W)`, and whether a single `(H, W)` map was given.

    Raises:
        ImageError: Wrong rank, empty, not numeric, or NaN / inf values.
    """
    maps = to_numpy(heatmap)
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
    maps, single = as_maps(heatmap, "resize_map")
    if maps.shape[1:] != target:
        maps = np.stack([resize_channels(m, target, Image.BILINEAR) for m in maps])
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
    maps, single = as_maps(heatmap, "normalize_map")
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    flat = span <= eps
    out = np.where(flat, 0.0, (maps - low) / np.where(flat, 1.0, span)).astype(np.float32)
    out = np.clip(out, 0.0, 1.0)
    return out[0] if single else out
