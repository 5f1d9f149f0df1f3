"""Localisation metrics: does an explanation fall on the ground-truth object (masks `(N, H, W)`)?

Each function follows the Quantus 0.6.0 class named in its docstring: the same preprocessing
defaults (`abs`, `normalise`), the same formula, and NaN for an image whose mask is empty.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import auc as area_under
from sklearn.metrics import roc_curve

from ..checks import check_bool, check_int, check_number
from .inputs import check_maps, check_masks, prepare_maps

__all__ = [
    "attribution_localisation",
    "auc",
    "focus",
    "pointing_game",
    "relevance_mass_accuracy",
    "relevance_rank_accuracy",
    "top_k_intersection",
]


def _flat(maps: Any, masks: Any, metric: str, abs: bool, normalise: bool):
    heat = check_maps(maps)
    objects = check_masks(masks, heat.shape, metric)
    heat = prepare_maps(heat, abs=abs, normalise=normalise)
    return heat.reshape(len(heat), -1), objects.reshape(len(heat), -1)


def _nan_where_empty(scores: np.ndarray, objects: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores, np.float64)
    scores[objects.sum(axis=1) == 0] = np.nan
    return scores


def pointing_game(
    maps: Any, *, masks: Any = None, weighted: bool = False, abs: bool = False, normalise: bool = True
) -> np.ndarray:
    """Pointing game (Zhang et al. 2018): 1 when a maximum of the map lies inside the mask.

    Matches `quantus.PointingGame` (Quantus 0.6.0): a hit if any pixel holding the map's
    maximum value is in the mask (no tolerance; `kerasviz.pointing_game` keeps the paper's 15 px
    tolerance and boxes). With `weighted`, a hit scores `1 - mask area / image area`.

    Args:
        maps: `(N, H, W)` attribution maps.
        masks: `(N, H, W)` ground-truth masks (bool or 0 / 1).
        weighted: Weight hits by how small the object is.
        abs: Take absolute values first.
        normalise: Divide each map by its largest absolute value first.

    Returns:
        float64 `(N,)`: 1.0 hit / 0.0 miss (or the weighted hit); NaN for an empty mask.

    Raises:
        ImageError: Bad maps.
        ParameterError: Missing masks or masks that do not match the maps.
    """
    weighted = check_bool(weighted, "weighted")
    heat, objects = _flat(maps, masks, "pointing_game", abs, normalise)
    peaks = heat == heat.max(axis=1, keepdims=True)
    hits = (objects & peaks).any(axis=1).astype(np.float64)
    if weighted:
        hits = np.where(hits > 0, 1.0 - objects.sum(axis=1) / objects.shape[1], hits)
    return _nan_where_empty(hits, objects)


def attribution_localisation(
    maps: Any,
    *,
    masks: Any = None,
    weighted: bool = False,
    positive_attributions: bool = False,
    abs: bool = True,
    normalise: bool = True,
) -> np.ndarray:
    """Share of attribution inside the mask (Kohlbrenner et al. 2020).

    Matches `quantus.AttributionLocalisation` (Quantus 0.6.0): `sum(a * s) / (sum(a) + 1e-9)`,
    NaN for an empty mask or a share above 1 (possible with negative attributions when
    `abs=False`). With `weighted`, the share is multiplied by mask area / image area (Quantus
    0.6.0 divides by a miscomputed data size there; kerasviz uses H * W).

    Args:
        maps: `(N, H, W)` attribution maps.
        masks: `(N, H, W)` ground-truth masks.
        weighted: Multiply by the object's relative size.
        positive_attributions: Clip negative attributions to 0 first.
        abs: Take absolute values first (Quantus' default).
        normalise: Divide each map by its largest absolute value first.

    Returns:
        float64 `(N,)` in `[0, 1]` or NaN.

    Raises:
        ImageError: Bad maps.
        ParameterError: Missing or mismatched masks.
    """
    weighted = check_bool(weighted, "weighted")
    heat, objects = _flat(maps, masks, "attribution_localisation", abs, normalise)
    if check_bool(positive_attributions, "positive_attributions"):
        heat = np.clip(heat, 0, None)
    share = (heat * objects).sum(axis=1) / (heat.sum(axis=1) + 1e-9)
    share[share > 1] = np.nan
    if weighted:
        share = share * objects.sum(axis=1) / objects.shape[1]
    return _nan_where_empty(share, objects)


def top_k_intersection(
    maps: Any,
    *,
    masks: Any = None,
    k: int = 1000,
    concept_influence: bool = False,
    abs: bool = False,
    normalise: bool = True,
) -> np.ndarray:
    """Fraction of the `k` highest-attributed pixels inside the mask (Theiner et al. 2021).

    Matches `quantus.TopKIntersection` (Quantus 0.6.0); ties among equal values are broken by
    position (stable order), so Quantus and kerasviz agree wherever the top `k` is unambiguous.

    Args:
        maps: `(N, H, W)` attribution maps.
        masks: `(N, H, W)` ground-truth masks.
        k: Number of top pixels, `1..H*W`.
        concept_influence: Multiply by `H W / mask area`.
        abs: Take absolute values first.
        normalise: Divide each map by its largest absolute value first.

    Returns:
        float64 `(N,)` in `[0, 1]` (or scaled), NaN for an empty mask.

    Raises:
        ImageError: Bad maps.
        ParameterError: Missing or mismatched masks, or `k` out of range.
    """
    heat, objects = _flat(maps, masks, "top_k_intersection", abs, normalise)
    k = check_int(k, "k", low=1, high=heat.shape[1])
    order = np.argsort(-heat, axis=1, kind="stable")[:, :k]
    scores = np.take_along_axis(objects, order, axis=1).mean(axis=1)
    if check_bool(concept_influence, "concept_influence"):
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = scores * heat.shape[1] / objects.sum(axis=1)
    return _nan_where_empty(scores, objects)


def relevance_mass_accuracy(
    maps: Any, *, masks: Any = None, abs: bool = False, normalise: bool = True
) -> np.ndarray:
    """Share of total relevance inside the mask (Arras et al. 2021).

    Matches `quantus.RelevanceMassAccuracy` (Quantus 0.6.0): `sum(a * s) / sum(a)`.

    Args:
        maps: `(N, H, W)` attribution maps.
        masks: `(N, H, W)` ground-truth masks.
        abs: Take absolute values first.
        normalise: Divide each map by its largest absolute value first.

    Returns:
        float64 `(N,)`; NaN for an empty mask (or an all-zero map).

    Raises:
        ImageError: Bad maps.
        ParameterError: Missing or mismatched masks.
    """
    heat, objects = _flat(maps, masks, "relevance_mass_accuracy", abs, normalise)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = (heat * objects).sum(axis=1) / heat.sum(axis=1)
    return _nan_where_empty(scores, objects)


def relevance_rank_accuracy(
    maps: Any, *, masks: Any = None, abs: bool = False, normalise: bool = True
) -> np.ndarray:
    """Fraction of the `K` highest-ranked pixels inside the mask, `K` = mask area (Arras et al.).

    Matches `quantus.RelevanceRankAccuracy` (Quantus 0.6.0); ties broken by position.

    Args:
        maps: `(N, H, W)` attribution maps.
        masks: `(N, H, W)` ground-truth masks.
        abs: Take absolute values first.
        normalise: Divide each map by its largest absolute value first.

    Returns:
        float64 `(N,)` in `[0, 1]`; NaN for an empty mask.

    Raises:
        ImageError: Bad maps.
        ParameterError: Missing or mismatched masks.
    """
    heat, objects = _flat(maps, masks, "relevance_rank_accuracy", abs, normalise)
    sizes = objects.sum(axis=1)
    order = np.argsort(-heat, axis=1, kind="stable")
    ranked = np.take_along_axis(objects, order, axis=1)
    within = np.arange(heat.shape[1])[None, :] < sizes[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = (ranked & within).sum(axis=1) / sizes
    return _nan_where_empty(scores, objects)


def auc(maps: Any, *, masks: Any = None, abs: bool = False, normalise: bool = True) -> np.ndarray:
    """Area under the ROC curve of the map as a detector of mask pixels (Fawcett 2006).

    Matches `quantus.AUC` (Quantus 0.6.0: scikit-learn `roc_curve` + `auc`).

    Args:
        maps: `(N, H, W)` attribution maps.
        masks: `(N, H, W)` ground-truth masks.
        abs: Take absolute values first.
        normalise: Divide each map by its largest absolute value first.

    Returns:
        float64 `(N,)` in `[0, 1]` (0.5 = chance); NaN for an empty or full mask.

    Raises:
        ImageError: Bad maps.
        ParameterError: Missing or mismatched masks.
    """
    heat, objects = _flat(maps, masks, "auc", abs, normalise)
    scores = np.full(len(heat), np.nan)
    for i, (row, truth) in enumerate(zip(heat, objects)):
        if truth.any() and not truth.all():
            fpr, tpr, _ = roc_curve(truth, row)
            scores[i] = area_under(fpr, tpr)
    return scores


def focus(
    maps: Any, *, masks: Any = None, abs: bool = False, normalise: bool = True, share: float = 0.5
) -> np.ndarray:
    """Share of positive relevance on the target-class tiles of a 2 x 2 mosaic (Arias-Duart 2022).

    Matches `quantus.Focus` (Quantus 0.6.0), whose inputs are mosaics of four images plus, per
    mosaic, which quadrants show the target class. Here `masks` mark those tiles: a quadrant
    counts when more than `share` of its pixels are marked. Score: `sum(max(a,0) on target
    quadrants) / (sum(max(a,0)) + 1e-9)`.

    Args:
        maps: `(N, H, W)` maps of mosaics.
        masks: `(N, H, W)` marking the target-class tiles.
        abs: Take absolute values first.
        normalise: Divide each map by its largest absolute value first.
        share: Fraction of a quadrant that must be marked, in `[0, 1)`.

    Returns:
        float64 `(N,)` in `[0, 1]`.

    Raises:
        ImageError: Bad maps.
        ParameterError: Missing or mismatched masks, or a bad `share`.
    """
    share = check_number(share, "share", low=0.0, high=1.0, open_high=True)
    heat = prepare_maps(check_maps(maps), abs=abs, normalise=normalise)
    objects = check_masks(masks, heat.shape, "focus")
    half_h, half_w = heat.shape[1] // 2, heat.shape[2] // 2
    scoring = np.zeros(heat.shape)
    for rows in (slice(None, half_h), slice(half_h, None)):
        for cols in (slice(None, half_w), slice(half_w, None)):
            marked = objects[:, rows, cols].reshape(len(heat), -1).mean(axis=1) > share
            scoring[:, rows, cols] = marked[:, None, None]
    positive = np.clip(heat, 0, None).reshape(len(heat), -1)
    return (scoring.reshape(len(heat), -1) * positive).sum(axis=1) / (positive.sum(axis=1) + 1e-9)
