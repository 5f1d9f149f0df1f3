"""Sufficiency (Quantus 0.6.0): do images with similar explanations get the same class?"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial.distance import cdist

from ..checks import check_number
from ..errors import ParameterError
from .inputs import model_inputs, prepare_maps

__all__ = ["sufficiency"]


def sufficiency(
    maps: Any,
    *,
    model: Any = None,
    images: Any = None,
    targets: Any = None,
    threshold: float = 0.6,
    distance_func: str = "seuclidean",
    abs: bool = True,
    normalise: bool = True,
    batch_size: int = 64,
) -> np.ndarray:
    """Sufficiency (Dasgupta et al. 2022): among the other images whose explanations are close
    to this one's, the share predicted as the same class.

    Matches `quantus.Sufficiency` (Quantus 0.6.0): `scipy cdist` distances between the flat maps
    (`"seuclidean"`; features equal in every map are left out), divided by their largest value, closeness = distance `<= threshold`, self
    excluded; 0 when no other map is close. It compares the images given in one call (Quantus:
    one batch).

    Args:
        maps: `(N, H, W)` attribution maps, `N >= 2`.
        model: A `Backbone` or Keras model taking pixels in `[0, 255]`.
        images: `(N, H, W, 3)` pixels.
        targets: Unused (predicted classes are compared); accepted for a uniform call.
        threshold: Closeness threshold on the normalised distance, in `[0, 1]`.
        distance_func: Any `scipy.spatial.distance.cdist` metric name.
        abs: Absolute maps first (Quantus' default).
        normalise: Divide each map by its largest absolute value first.
        batch_size: Images per compiled call.

    Returns:
        float64 `(N,)` in `[0, 1]`.

    Raises:
        ModelError, ImageError, ParameterError: Bad inputs.
    """
    inputs = model_inputs("sufficiency", maps, model, images, None)
    threshold = check_number(threshold, "threshold", low=0.0, high=1.0)
    heat = prepare_maps(inputs.maps, abs=abs, normalise=normalise).reshape(len(inputs.maps), -1)
    # Features equal in every map tell the maps apart by nothing (and give "seuclidean" a zero
    # variance: Quantus gets NaN distances there); they are left out.
    heat = heat[:, np.ptp(heat, axis=0) > 0] if len(heat) > 1 else heat
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            distances = cdist(heat, heat, distance_func)
    except ValueError as error:
        raise ParameterError(
            f"`distance_func` must be a scipy cdist metric. Received: distance_func="
            f"{distance_func!r} ({error})"
        ) from error
    distances = np.nan_to_num(distances, nan=0.0)
    peak = np.abs(distances).max()
    if peak > 0:
        distances = distances / peak
    close = (distances <= threshold) & ~np.eye(len(heat), dtype=bool)
    classes = inputs.targets
    same = classes[None, :] == classes[:, None]
    counts = close.sum(axis=1)
    return (same & close).sum(axis=1) / np.where(counts == 0, np.inf, counts)
