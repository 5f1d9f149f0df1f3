"""Non-parametric texture synthesis by image quilting: the classical baseline, no network.

Efros & Freeman's image quilting (SIGGRAPH 2001), the patch-based successor of Efros & Leung's
pixel-by-pixel nearest-neighbour sampling (ICCV 1999): the output is tiled with square patches
copied from the example texture. Each new patch is drawn at random among the source positions
whose overlap with what is already placed differs least (sum of squared differences, all
positions scored at once by OpenCV's masked `matchTemplate`), and it is stitched in along the
minimum-error boundary cut through the overlap (dynamic programming). It copies real pixels, so
it shines on regular and stochastic textures and fails where a texture's structure is larger
than a patch, which is why the Gram-matrix method (`texture.py`) replaced it.
"""

from __future__ import annotations

import numbers
from typing import Optional, Tuple, Union

import cv2
import numpy as np

from ..errors import ParameterError
from ..images import as_image_batch, parse_size, to_uint8

__all__ = ["quilt_texture"]

Size = Union[int, Tuple[int, int]]


def _min_cut_keep_old(error: np.ndarray) -> np.ndarray:
    """Mask of an overlap strip's pixels that keep the old image, left of the cheapest seam.

    Args:
        error: `(rows, width)` squared difference between the old and the new patch in a
            vertical overlap strip.

    Returns:
        Boolean `(rows, width)`: `True` left of the minimum-error top-to-bottom seam.
    """
    rows, width = error.shape
    cost = error.astype(np.float64).copy()
    for r in range(1, rows):  # cumulative cost: each pixel continues the cheapest of 3 above
        previous = np.pad(cost[r - 1], 1, constant_values=np.inf)
        cost[r] += np.minimum(np.minimum(previous[:-2], previous[1:-1]), previous[2:])
    seam = np.empty(rows, dtype=np.int64)
    seam[-1] = int(np.argmin(cost[-1]))
    for r in range(rows - 2, -1, -1):
        low, high = max(seam[r + 1] - 1, 0), min(seam[r + 1] + 2, width)
        seam[r] = low + int(np.argmin(cost[r, low:high]))
    return np.arange(width)[None, :] < seam[:, None]


def _check_int(value: object, name: str, low: int, high: int) -> int:
    if (
        not isinstance(value, numbers.Integral)
        or isinstance(value, bool)
        or not low <= int(value) <= high
    ):
        raise ParameterError(
            f"`{name}` must be an integer in [{low}, {high}]. Received: {name}={value!r}"
        )
    return int(value)


def quilt_texture(
    texture: np.ndarray,
    size: Size = 256,
    *,
    patch_size: Optional[int] = None,
    overlap: Optional[int] = None,
    tolerance: float = 0.1,
    seed: Optional[int] = None,
) -> np.ndarray:
    """Synthesize a larger texture from an example by image quilting (no network).

    Args:
        texture: Example texture, `(H, W, 3)` (or a batch of one) uint8 or float in `[0, 255]`,
            at least 8 pixels on each side.
        size: Output size, an int `s` for `s x s` or `(height, width)`, each at least
            `patch_size`.
        patch_size: Side of the copied square patches, in `[6, min(H, W)]`; defaults to a
            quarter of the texture's shorter side, at least 8 (bigger patches keep more
            structure, smaller ones repeat less).
        overlap: Width of the strip where neighbouring patches meet, in
            `[1, patch_size // 2]`; defaults to `patch_size // 5`, at least 2.
        tolerance: Candidates within `(1 + tolerance)` times the best overlap error are drawn
            at random; `0` always copies the best match (more repetition). In `[0, 10]`.
        seed: Seed of the random patch choices, for reproducible results.

    Returns:
        uint8 `(height, width, 3)` texture.

    Raises:
        ImageError: `texture` is not a valid pixel image.
        ParameterError: More than one texture, a texture or output smaller than a patch, or a
            patch size, overlap or tolerance out of range.
    """
    batch, _ = as_image_batch(texture, name="texture")
    if batch.shape[0] != 1:
        raise ParameterError(
            "quilt_texture takes one example texture. Received: texture with "
            f"{batch.shape[0]} images"
        )
    source = batch[0]
    height, width = source.shape[:2]
    if min(height, width) < 8:
        raise ParameterError(
            "The example texture must be at least 8 x 8 pixels. Received: texture of size "
            f"{(height, width)}"
        )
    if patch_size is None:
        patch_size = max(8, min(height, width) // 4)
    patch = _check_int(patch_size, "patch_size", 6, min(height, width))
    step_overlap = max(2, patch // 5) if overlap is None else overlap
    step_overlap = _check_int(step_overlap, "overlap", 1, patch // 2)
    out_size = parse_size(size)
    if min(out_size) < patch:
        raise ParameterError(
            f"The output must be at least one patch ({patch} px) on each side; lower "
            f"`patch_size` or raise `size`. Received: size={size!r}"
        )
    if not isinstance(tolerance, numbers.Real) or not 0.0 <= float(tolerance) <= 10.0:
        raise ParameterError(f"`tolerance` must be in [0, 10]. Received: tolerance={tolerance!r}")

    rng = np.random.default_rng(seed)
    stride = patch - step_overlap
    rows = int(np.ceil((out_size[0] - step_overlap) / stride))
    cols = int(np.ceil((out_size[1] - step_overlap) / stride))
    canvas = np.zeros((rows * stride + step_overlap, cols * stride + step_overlap, 3), np.float32)
    mask = np.zeros((patch, patch), np.float32)
    for i in range(rows):
        for j in range(cols):
            y, x = i * stride, j * stride
            placed = canvas[y : y + patch, x : x + patch]
            mask[:] = 0.0
            if j > 0:
                mask[:, :step_overlap] = 1.0
            if i > 0:
                mask[:step_overlap, :] = 1.0
            if i == 0 and j == 0:
                cost = np.zeros((height - patch + 1, width - patch + 1), np.float32)
            else:  # overlap SSD of every source position at once
                cost = cv2.matchTemplate(source, placed, cv2.TM_SQDIFF, mask=mask)
                # OpenCV's masked SSD can come out slightly negative (or NaN) where the overlap
                # matches exactly (flat regions): clamp, or no position passes the tolerance test
                cost = np.maximum(np.nan_to_num(cost, nan=np.inf), 0.0)
            candidates = np.flatnonzero(cost.ravel() <= cost.min() * (1.0 + float(tolerance)))
            sy, sx = np.unravel_index(rng.choice(candidates), cost.shape)
            new = source[sy : sy + patch, sx : sx + patch]
            keep_old = np.zeros((patch, patch), dtype=bool)
            squared = np.sum((new - placed) ** 2, axis=-1)
            if j > 0:
                keep_old[:, :step_overlap] |= _min_cut_keep_old(squared[:, :step_overlap])
            if i > 0:
                keep_old[:step_overlap, :] |= _min_cut_keep_old(squared[:step_overlap, :].T).T
            canvas[y : y + patch, x : x + patch] = np.where(keep_old[..., None], placed, new)
    return to_uint8(canvas[: out_size[0], : out_size[1]])
