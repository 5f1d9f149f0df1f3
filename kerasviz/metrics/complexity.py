"""Complexity metrics: how concentrated is an explanation? (Quantus' complexity family.)"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..checks import check_number
from .inputs import check_maps, prepare_maps

__all__ = ["complexity", "effective_complexity", "sparseness"]


def sparseness(maps: Any, *, abs: bool = True, normalise: bool = True) -> np.ndarray:
    """Gini index of each map (Chalasani et al. 2020); higher is sparser.

    Matches `quantus.Sparseness` (Quantus 0.6.0): `1e-7` is added to every value, the values are
    sorted and `G = sum((2 i - n - 1) a_i) / (n sum a_i)`.

    Args:
        maps: `(N, H, W)` attribution maps.
        abs: Take absolute values first (Quantus' default, required for a Gini index).
        normalise: Divide each map by its largest absolute value first.

    Returns:
        float64 `(N,)` in `[0, 1]`.

    Raises:
        ImageError: Maps of the wrong shape or with NaN / inf.
    """
    flat = prepare_maps(check_maps(maps), abs=abs, normalise=normalise)
    flat = np.sort(flat.reshape(len(flat), -1) + 1e-7, axis=1)
    n = flat.shape[1]
    weights = 2 * np.arange(1, n + 1) - n - 1
    return (weights * flat).sum(axis=1) / (n * flat.sum(axis=1))


def complexity(maps: Any, *, abs: bool = True, normalise: bool = True) -> np.ndarray:
    """Shannon entropy of each map's share of attribution (Bhatt et al. 2020); lower is simpler.

    Matches `quantus.Complexity` (Quantus 0.6.0): `p = |a| / sum |a|`,
    `H = -sum p log(p + 1e-12)` (natural log).

    Args:
        maps: `(N, H, W)` attribution maps.
        abs: Take absolute values first (Quantus' default).
        normalise: Divide each map by its largest absolute value first.

    Returns:
        float64 `(N,)` in `[0, log(H W)]`; NaN for an all-zero map.

    Raises:
        ImageError: Maps of the wrong shape or with NaN / inf.
    """
    flat = prepare_maps(check_maps(maps), abs=abs, normalise=normalise)
    flat = flat.reshape(len(flat), -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = flat / np.abs(flat).sum(axis=1, keepdims=True)
        return -(share * np.log(share + 1e-12)).sum(axis=1)


def effective_complexity(
    maps: Any, *, eps: float = 1e-5, abs: bool = True, normalise: bool = True
) -> np.ndarray:
    """Number of features whose attribution exceeds `eps` (Nguyen and Martinez 2020).

    Matches `quantus.EffectiveComplexity` (Quantus 0.6.0). Note that the count is over pixels of
    the `(H, W)` map (Quantus counts the entries of the map it is given).

    Args:
        maps: `(N, H, W)` attribution maps.
        eps: Threshold, `>= 0`, on the (normalised, absolute) attribution.
        abs: Take absolute values first.
        normalise: Divide each map by its largest absolute value first.

    Returns:
        float64 `(N,)` counts in `[0, H W]`; lower is simpler.

    Raises:
        ImageError: Maps of the wrong shape or with NaN / inf.
        ParameterError: Negative `eps`.
    """
    eps = check_number(eps, "eps", low=0.0)
    flat = prepare_maps(check_maps(maps), abs=abs, normalise=normalise)
    return (flat.reshape(len(flat), -1) > eps).sum(axis=1).astype(np.float64)
