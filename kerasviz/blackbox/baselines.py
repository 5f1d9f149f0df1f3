"""What a perturbation puts where the image is hidden: a gray level, an RGB colour, an image, or
(LIME's default) each segment's mean colour."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..errors import ParameterError

__all__ = ["resolve_baseline", "segment_means"]


def segment_means(image: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """The image with every segment painted in its mean colour (LIME's `hide_color=None`).

    Args:
        image: float `(H, W, 3)`.
        segments: int `(H, W)` labels 0..M-1.

    Returns:
        float32 `(H, W, 3)`.
    """
    count = int(segments.max()) + 1
    flat = segments.ravel()
    sizes = np.bincount(flat, minlength=count).astype(np.float64)
    sums = np.stack([np.bincount(flat, image[..., c].ravel().astype(np.float64), minlength=count) for c in range(3)], -1)
    means = sums / np.maximum(sizes, 1.0)[:, None]
    return means[segments].astype(np.float32)


def resolve_baseline(baseline: Any, image: np.ndarray, segments: Optional[np.ndarray] = None) -> np.ndarray:
    """A full `(H, W, 3)` baseline image for one image.

    Args:
        baseline: A gray level in [0, 255], an `(r, g, b)` triple, an `(H, W, 3)` image in
            [0, 255], or `"mean"` (each segment's mean colour; needs `segments`).
        image: float `(H, W, 3)`, the image explained.
        segments: int `(H, W)` labels, for `"mean"`.

    Returns:
        float32 `(H, W, 3)`.

    Raises:
        ParameterError: anything else.
    """
    if isinstance(baseline, str):
        if baseline == "mean" and segments is not None:
            return segment_means(image, segments)
        raise ParameterError(
            "`baseline` must be a gray level, an (r, g, b) triple, an image, or 'mean' (with segments). "
            f"Received: baseline={baseline!r}"
        )
    values = None if isinstance(baseline, bool) else np.asarray(baseline)
    ok = values is not None and values.dtype.kind in "iuf" and values.shape in ((), (3,), image.shape)
    if not ok or not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 255:
        shape = getattr(values, "shape", None)
        raise ParameterError(
            f"`baseline` must be a gray level or (r, g, b) in [0, 255], or an image of shape {image.shape} "
            f"in [0, 255]. Received: baseline={baseline!r}" if shape in (None, (), (3,)) else
            f"`baseline` must be a gray level or (r, g, b) in [0, 255], or an image of shape {image.shape} "
            f"in [0, 255]. Received: baseline with shape {shape}"
        )
    return np.broadcast_to(values.astype(np.float32), image.shape).copy()
