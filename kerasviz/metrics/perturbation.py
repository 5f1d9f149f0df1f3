"""The perturbation engine shared by the faithfulness and axiomatic metrics.

A metric describes its copies as a rank per feature `(N, H, W, 3)` (0 = perturbed first) and,
per copy, an image, a window `[low, high)` of ranks to replace and a fill value; the engine
builds the copies a chunk at a time and scores them through the model's one compiled forward
pass (`score_copies`), so thousands of copies cost a few large calls and no retrace.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ParameterError
from .inputs import MetricInputs, from_features, score_copies, to_features

__all__ = ["baseline_values", "feature_ranks", "scores_of_windows", "similarity_rows"]

_BASELINES = ("black", "white", "mean", "uniform")


def baseline_values(
    value: Any, images: np.ndarray, count: int, rng: np.random.Generator
) -> np.ndarray:
    """Quantus' `perturb_baseline` as one fill value per image and draw `(N, count)`.

    Args:
        value: `"black"` (each image's minimum), `"white"` (maximum), `"mean"`, `"uniform"`
            (a fresh U(0, 1) value per image and perturbation, as Quantus draws it) or a number.
        images: `(N, H, W, 3)` images.
        count: Draws per image.
        rng: Random generator for `"uniform"`.

    Returns:
        float32 `(N, count)`.

    Raises:
        ParameterError: Unknown baseline.
    """
    n = len(images)
    flat = images.reshape(n, -1)
    if isinstance(value, str) and value in _BASELINES:
        if value == "uniform":
            return rng.uniform(0.0, 1.0, (n, count)).astype(np.float32)
        per_image = {"black": flat.min, "white": flat.max, "mean": flat.mean}[value](axis=1)
        return np.repeat(per_image[:, None], count, axis=1).astype(np.float32)
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return np.full((n, count), float(value), np.float32)
    raise ParameterError(
        f"`perturb_baseline` must be one of {list(_BASELINES)} or a number. "
        f"Received: perturb_baseline={value!r}"
    )


def feature_ranks(order: np.ndarray, shape: tuple) -> np.ndarray:
    """Rank of every feature `(N, H, W, 3)` from a channel-first feature order `(N, 3*H*W)`."""
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(order.shape[1])[None, :], axis=1)
    return from_features(ranks, shape)


def scores_of_windows(
    inputs: MetricInputs,
    ranks: np.ndarray,
    image: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    fill: np.ndarray,
    *,
    softmax: bool,
    batch_size: int,
    progress: bool | None,
    desc: str,
    inside_is_original: bool = False,
) -> np.ndarray:
    """Score copies that replace the features ranked in `[low, high)` by `fill`.

    Args:
        inputs: Validated model, images, targets.
        ranks: `(N, H, W, 3)` int ranks (or `(N, H, W, 1)`, shared by the colours).
        image: `(M,)` image of each copy.
        low: `(M,)` first replaced rank.
        high: `(M,)` end of the replaced ranks.
        fill: `(M,)` value written into replaced features.
        softmax: Score probabilities instead of logits.
        batch_size: Copies per compiled call.
        progress: Progress bar setting.
        desc: Progress label.
        inside_is_original: Reverse the roles: start from `fill` everywhere and copy the
            original features ranked in the window back in (monotonicity).

    Returns:
        `(M,)` target-class scores.
    """

    def build(rows: slice):
        who = image[rows]
        r = ranks[who]
        inside = (r >= low[rows, None, None, None]) & (r < high[rows, None, None, None])
        value = fill[rows, None, None, None].astype(np.float32)
        originals = inputs.images[who]
        copies = np.where(inside, originals, value) if inside_is_original else np.where(
            inside, value, originals
        )
        return copies.astype(np.float32), inputs.targets[who]

    return score_copies(
        inputs.backbone, len(image), build, softmax=softmax, batch_size=batch_size,
        progress=progress, desc=desc,
    )


def similarity_rows(kind: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Pearson or Spearman correlation `(N,)` (NaN for a constant row), as Quantus'
    `correlation_pearson` / `correlation_spearman`."""
    from scipy import stats

    out = np.full(len(a), np.nan)
    for i, (x, y) in enumerate(zip(a, b)):
        if np.ptp(x) > 0 and np.ptp(y) > 0:
            out[i] = (stats.pearsonr if kind == "pearson" else stats.spearmanr)(x, y)[0]
    return out


def channel_first_maps(maps: np.ndarray) -> np.ndarray:
    """Maps `(N, H, W)` broadcast over 3 colours as Quantus' flat features `(N, 3*H*W)`."""
    return to_features(np.repeat(maps[..., None], 3, axis=-1))


__all__ += ["channel_first_maps"]
