"""The perturbation engine shared by the faithfulness and axiomatic metrics.

A metric describes its copies as a rank per feature `(N, H, W, 3)` (0 = perturbed first) and,
per copy, an image, a window `[low, high)` of ranks to replace and a fill value; the engine
builds the copies a chunk at a time and scores them through the model's one compiled forward
pass (`score_copies`), so thousands of copies cost a few large calls and no retrace.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..checks import check_bool, check_int
from ..errors import ParameterError
from .inputs import MetricInputs, from_features, predict, score_copies, to_features
from .memo import digest, identity, remembered

__all__ = [
    "baseline_values",
    "channel_first_maps",
    "copy_grid",
    "feature_ranks",
    "fixed_fill",
    "group_sums",
    "scores_of_windows",
    "similarity_rows",
    "target_scores",
]

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
    ranks = np.empty(order.shape, np.int32)
    np.put_along_axis(ranks, order, np.arange(order.shape[1], dtype=np.int32)[None, :], axis=1)
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

    ranks = ranks.astype(np.int32, copy=False)  # ranks < 3 H W; half the memory traffic
    width = (high - low).astype(np.uint32)

    def build(rows: slice):
        who = image[rows]
        offset = ranks[who] - low[rows, None, None, None].astype(np.int32)
        inside = offset.view(np.uint32) < width[rows, None, None, None]  # low <= rank < high
        copies = inputs.images[who]
        np.copyto(copies, fill[rows, None, None, None].astype(np.float32),
                  where=~inside if inside_is_original else inside)
        return copies, inputs.targets[who]

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


def fixed_fill(value: Any, images: np.ndarray, image: np.ndarray) -> np.ndarray:
    """The baseline value of each copy `(M,)` for copies of `image` `(M,)` (one draw per image;
    `"uniform"` draws with seed 0, as the step-wise metrics always did).

    Args:
        value: A `perturb_baseline` (see `baseline_values`).
        images: `(N, H, W, 3)` images.
        image: `(M,)` image index of each copy.

    Returns:
        float32 `(M,)`.

    Raises:
        ParameterError: Unknown baseline.
    """
    return baseline_values(value, images, 1, np.random.default_rng(0))[image, 0]


def copy_grid(n: int, steps: int, repeats: int = 1) -> tuple[np.ndarray, ...]:
    """Image, step and repeat index `(n * steps * repeats,)` of every copy, image-major.

    Args:
        n: Images.
        steps: Steps per image.
        repeats: Draws per step.

    Returns:
        `(image, step, repeat)` int arrays.
    """
    grids = np.meshgrid(np.arange(n), np.arange(steps), np.arange(repeats), indexing="ij")
    return tuple(a.ravel() for a in grids)


def group_sums(values: np.ndarray, group: int) -> np.ndarray:
    """Sums of consecutive groups of `group` values per row, the last group zero-padded.

    Args:
        values: `(N, F)` values (e.g. attributions in perturbation order).
        group: Group length, `>= 1`.

    Returns:
        `(N, ceil(F / group))` sums.
    """
    n, total = values.shape
    steps = -(-total // group)
    padded = np.zeros((n, steps * group))
    padded[:, :total] = values
    return padded.reshape(n, steps, group).sum(axis=2)


def target_scores(inputs: MetricInputs, *, softmax: bool, batch_size: int = 64) -> np.ndarray:
    """The model's score `(N,)` of each unperturbed image for its target class (computed once
    per `memo.shared_work()` block).

    Args:
        inputs: Validated model, images, targets.
        softmax: Probabilities instead of logits.
        batch_size: Images per compiled call.

    Returns:
        float64 `(N,)`.
    """
    softmax = check_bool(softmax, "softmax")
    batch_size = check_int(batch_size, "batch_size", low=1)
    key = ("target_scores", identity(inputs.backbone.model), digest(inputs.images, inputs.targets),
           bool(softmax))

    def compute() -> np.ndarray:
        outputs = predict(inputs.backbone, inputs.images, softmax=softmax, batch_size=batch_size)
        return outputs[np.arange(len(outputs)), inputs.targets]

    return remembered(key, compute)
