"""Superpixels for LIME and Kernel SHAP: LIME's default segmentation, checks, and images with
some segments hidden."""

from __future__ import annotations

from typing import Any, Tuple

import numpy as np

from ..errors import ParameterError

__all__ = ["check_segments", "default_segments", "hide_segments", "paint_segments"]


def default_segments(image: np.ndarray, seed: int = 0) -> np.ndarray:
    """LIME's default superpixels: scikit-image quickshift (kernel_size=4, max_dist=200, ratio=0.2).

    On images where quickshift finds a single segment (tiny or flat images), SLIC (50 segments)
    is used instead, and a 4 x 4 grid if SLIC finds one too.

    Args:
        image: `(H, W, 3)` pixels in [0, 255] (segmented as uint8, i.e. colours in [0, 1]).
        seed: quickshift's random seed (it breaks ties).

    Returns:
        int32 `(H, W)` labels 0..M-1.
    """
    from skimage.segmentation import quickshift

    pixels = np.clip(np.round(image), 0, 255).astype(np.uint8)
    labels = quickshift(pixels, kernel_size=4, max_dist=200, ratio=0.2, rng=seed)
    if labels.max() == labels.min():
        from skimage.segmentation import slic

        labels = slic(pixels, n_segments=50, start_label=0)
    if labels.max() == labels.min():
        height, width = labels.shape
        labels = np.minimum(np.arange(height) * 4 // height, 3)[:, None] * 4 + np.minimum(np.arange(width) * 4 // width, 3)[None]
    return check_segments(labels, image.shape[:2])[0]


def check_segments(segments: Any, shape: Tuple[int, int]) -> Tuple[np.ndarray, int]:
    """Validate a segmentation and relabel it 0..M-1 (in order of the original labels).

    Args:
        segments: Integer array `(H, W)`.
        shape: `(H, W)` of the image.

    Returns:
        `(int32 (H, W) labels, M)`.

    Raises:
        ParameterError: not an integer `(H, W)` array, or fewer than 2 segments.
    """
    array = np.asarray(segments)
    if array.shape != tuple(shape) or array.dtype.kind not in "iu":
        raise ParameterError(
            f"`segments` must be an integer array of shape {tuple(shape)} (one label per pixel). "
            f"Received: segments with shape {array.shape} and dtype {array.dtype}"
        )
    _, labels = np.unique(array, return_inverse=True)
    labels = labels.reshape(shape).astype(np.int32)
    count = int(labels.max()) + 1
    if count < 2:
        raise ParameterError(f"`segments` must hold at least 2 segments. Received: {count} segment")
    return labels, count


def hide_segments(image: np.ndarray, fill: np.ndarray, rows: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """Copies of `image` where the segments a row marks 0 show `fill` instead.

    Args:
        image: float32 `(H, W, 3)`.
        fill: float32 `(H, W, 3)` baseline.
        rows: `(B, M)` 0 / 1 (1 = keep the segment).
        segments: int `(H, W)` labels 0..M-1.

    Returns:
        float32 `(B, H, W, 3)`.
    """
    keep = np.take(np.asarray(rows).astype(bool), segments.ravel(), axis=1)
    height, width = segments.shape
    images = np.empty((len(keep), height * width, 3), np.float32)
    # One channel at a time: a `where` over (B, pixels) is several times faster than one over
    # (B, H, W, 3) broadcasting a 3-wide last axis (measured 70 ms vs 509 ms for 64 x 224^2).
    for channel in range(3):
        images[..., channel] = np.where(keep, image[..., channel].ravel(), fill[..., channel].ravel())
    return images.reshape(len(keep), height, width, 3)


def paint_segments(values: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """A map holding each segment's value on its pixels.

    Args:
        values: `(M,)`.
        segments: int `(H, W)` labels 0..M-1.

    Returns:
        float32 `(H, W)`.
    """
    return np.asarray(values, np.float32)[segments]
