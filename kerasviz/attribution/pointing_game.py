"""The pointing game (Zhang et al.): does an attribution map's peak land on the object?"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence, Tuple

import numpy as np
from scipy import ndimage

from ..checks import check_int
from ..errors import ParameterError
from ..metrics.deletion import attribution_maps

__all__ = ["PointingGame", "pointing_game"]


class PointingGame(NamedTuple):
    """Pointing-game outcome for a batch of maps.

    Attributes:
        hits: `(N,)` bool: the map's maximum lies on the object (within `tolerance` pixels).
        accuracy: Fraction of hits.
        peaks: `(N, 2)` int `(row, column)` of each map's maximum.
        energy: `(N,)` fraction of each map's (non-negative) mass on the object (energy-based
            pointing game, Wang et al. 2020); NaN for an all-zero map.
    """

    hits: np.ndarray
    accuracy: float
    peaks: np.ndarray
    energy: np.ndarray


def _object_masks(masks_or_boxes: Any, n: int, shape: Tuple[int, int]) -> np.ndarray:
    """Bool masks `(N, H, W)` from masks `(H, W)` / `(N, H, W)` or boxes `(4,)`, `(N, 4)` or a
    list of `(K_i, 4)` box arrays `(top, left, bottom, right)` (pixels, bottom / right
    exclusive)."""
    if isinstance(masks_or_boxes, (list, tuple)) and len(masks_or_boxes) == n and all(
        np.ndim(b) == 2 and np.shape(b)[-1] == 4 for b in masks_or_boxes
    ):
        per_image: Sequence[Any] = masks_or_boxes
    else:
        array = np.asarray(masks_or_boxes)
        if array.ndim in (2, 3) and array.shape[-2:] == shape:
            masks = np.broadcast_to(array.astype(bool), (n, *shape)) if array.ndim == 2 else array
            if len(masks) != n:
                raise ParameterError(
                    f"Give one mask per map ({n} maps). Received: masks_or_boxes with shape "
                    f"{array.shape}"
                )
            return masks.astype(bool)
        if array.shape == (4,):
            array = np.broadcast_to(array, (n, 4))
        if array.shape != (n, 4):
            raise ParameterError(
                f"`masks_or_boxes` must be masks shaped like the maps {shape} (one, or one per "
                "map), boxes (top, left, bottom, right) of shape (4,) or (N, 4), or a list of "
                f"(K, 4) boxes per map. Received: masks_or_boxes with shape {array.shape}"
            )
        per_image = [row[None] for row in array]
    masks = np.zeros((n, *shape), bool)
    for i, boxes in enumerate(per_image):
        for top, left, bottom, right in np.asarray(boxes, np.float64).round().astype(int):
            masks[i, max(top, 0) : max(bottom, 0), max(left, 0) : max(right, 0)] = True
    return masks


def pointing_game(maps: Any, masks_or_boxes: Any, *, tolerance: int = 15) -> PointingGame:
    """Pointing game (Zhang et al. 2016): is each map's maximum on the object?

    A hit is a maximum within `tolerance` pixels of the object (the paper's 15 px). The
    energy-based variant (share of the map's mass on the object) is returned too.

    Args:
        maps: `(N, H, W)` or `(H, W)` maps (negative values count as zero for the energy),
            per-colour attributions (summed over colours), or an `IntegratedGradients` result.
        masks_or_boxes: Object masks `(H, W)` / `(N, H, W)` (bool or 0/1), boxes
            `(top, left, bottom, right)` in pixels (bottom / right exclusive) of shape `(4,)`
            or `(N, 4)`, or a list with one `(K, 4)` array of boxes per map (several objects).
        tolerance: Pixels of slack around the object, `>= 0`.

    Returns:
        `PointingGame(hits, accuracy, peaks, energy)`.

    Raises:
        ImageError: Unusable maps.
        ParameterError: Masks / boxes that do not fit the maps, an empty object, or a bad
            `tolerance`.
    """
    tolerance = check_int(tolerance, "tolerance", low=0)
    heat = attribution_maps(maps)
    heat = heat[None] if heat.ndim == 2 else heat
    n, height, width = heat.shape
    objects = _object_masks(masks_or_boxes, n, (height, width))
    empty = ~objects.reshape(n, -1).any(axis=1)
    if empty.any():
        raise ParameterError(
            "Every map needs an object to point at; an empty mask or box was given. Received: "
            f"empty object for map {int(np.argmax(empty))}"
        )
    flat = heat.reshape(n, -1).argmax(axis=1)
    peaks = np.stack(np.unravel_index(flat, (height, width)), axis=1)
    hits = np.empty(n, bool)
    for i, (row, col) in enumerate(peaks):
        if tolerance == 0:
            hits[i] = objects[i, row, col]
        else:
            distance = ndimage.distance_transform_edt(~objects[i])
            hits[i] = distance[row, col] <= tolerance
    positive = np.maximum(heat, 0.0).reshape(n, -1).astype(np.float64)
    total = positive.sum(axis=1)
    inside = (positive * objects.reshape(n, -1)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        energy = np.where(total > 0, inside / np.where(total > 0, total, 1.0), np.nan)
    return PointingGame(hits, float(hits.mean()), peaks.astype(np.int64), energy)
