"""Faithfulness metrics that remove square patches in the order a map ranks them (Quantus 0.6.0):
region perturbation and selectivity. Every copy goes through one cached compiled forward pass."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..checks import check_bool, check_choice, check_int
from .inputs import prepared_inputs
from .perturbation import baseline_values, copy_grid, scores_of_windows, target_scores

__all__ = ["region_perturbation", "selectivity"]


def _patch_ranks(maps: np.ndarray, patch_size: int, order: str, rng: np.random.Generator):
    """Rank of every pixel's patch `(N, H, W, 1)` (Quantus' centred padding) and patch count."""
    n, height, width = maps.shape

    def pad(dim: int):
        rest = dim % patch_size
        return 0 if rest == 0 else (patch_size - rest) // 2

    rows = (np.arange(height) + pad(height)) // patch_size
    cols = (np.arange(width) + pad(width)) // patch_size
    block_of = rows[:, None] * (cols[-1] + 1) + cols[None, :]
    count = int(block_of.max()) + 1
    sums = np.stack([np.bincount(block_of.ravel(), m.ravel(), count) for m in maps])
    if order == "random":
        ranking = np.stack([rng.permutation(count) for _ in range(n)])
    else:
        ranking = np.argsort(-sums if order == "morf" else sums, axis=1, kind="stable")
    block_rank = np.empty_like(ranking)
    np.put_along_axis(block_rank, ranking, np.arange(count)[None, :], axis=1)
    return block_rank[:, block_of][..., None], count


def _region_curves(metric, maps, model, images, targets, patch_size, order, regions, baseline,
                   softmax, abs, normalise, seed, batch_size, progress):
    inputs = prepared_inputs(metric, maps, model, images, targets, abs=abs, normalise=normalise)
    patch_size = check_int(patch_size, "patch_size", low=1, high=min(inputs.maps.shape[1:]))
    ranks, count = _patch_ranks(inputs.maps, patch_size, order, np.random.default_rng(seed))
    steps = count if regions is None else min(count, check_int(regions, "regions_evaluation", low=1))
    image, step, _ = copy_grid(len(inputs.maps), steps)
    fill = baseline_values(baseline, inputs.images, 1, np.random.default_rng(seed))[image, 0]
    curves = scores_of_windows(
        inputs, ranks, image, np.zeros_like(step), step + 1, fill, softmax=softmax,
        batch_size=check_int(batch_size, "batch_size", low=1), progress=progress, desc=metric,
    ).reshape(len(inputs.maps), steps)
    return inputs, curves


def region_perturbation(
    maps: Any,
    *,
    model: Any = None,
    images: Any = None,
    targets: Any = None,
    patch_size: int = 8,
    order: str = "morf",
    regions_evaluation: int = 100,
    perturb_baseline: Any = "black",
    softmax: bool = True,
    abs: bool = False,
    normalise: bool = True,
    seed: int = 0,
    batch_size: int = 64,
    progress: bool | None = None,
) -> np.ndarray:
    """Region perturbation (Samek et al. 2015): area under the score drop as the most relevant
    `patch_size` squares are removed one after another.

    Matches `quantus.RegionPerturbation` (Quantus 0.6.0): patches on a grid centred by padding,
    ranked by their attribution sum (`"morf"`: most relevant first, `"lerf"`, `"random"`); the
    first `regions_evaluation` are replaced cumulatively by the baseline; the curve is
    `y - y_perturbed`, the score its trapezoid area (`dx = 1`, Quantus' `get_auc_score`;
    higher is more faithful for `"morf"`).

    Args:
        maps: `(N, H, W)` attribution maps.
        model: A `Backbone` or Keras model taking pixels in `[0, 255]`.
        images: `(N, H, W, 3)` pixels.
        targets: Class per image; `None` for each predicted class.
        patch_size: Side of the square regions.
        order: `"morf"`, `"lerf"` or `"random"`.
        regions_evaluation: How many regions to remove.
        perturb_baseline: `"black"`, `"white"`, `"mean"`, `"uniform"` or a value.
        softmax: Score probabilities (Quantus' default).
        abs: Absolute maps first.
        normalise: Divide each map by its largest absolute value first.
        seed: Seed of the `"random"` order.
        batch_size: Copies per compiled call.
        progress: Progress bar setting.

    Returns:
        float64 `(N,)` areas.

    Raises:
        ModelError, ImageError, TargetError, ParameterError: Bad inputs.
    """
    check_choice(order, "order", ("morf", "lerf", "random"))
    softmax = check_bool(softmax, "softmax")
    inputs, curves = _region_curves(
        "region_perturbation", maps, model, images, targets, patch_size, order,
        regions_evaluation, perturb_baseline, softmax, abs, normalise, seed, batch_size, progress)
    original = target_scores(inputs, softmax=softmax, batch_size=batch_size)
    return np.trapezoid(original[:, None] - curves, dx=1, axis=1)


def selectivity(
    maps: Any,
    *,
    model: Any = None,
    images: Any = None,
    targets: Any = None,
    patch_size: int = 8,
    perturb_baseline: Any = "black",
    softmax: bool = True,
    abs: bool = False,
    normalise: bool = True,
    batch_size: int = 64,
    progress: bool | None = None,
) -> np.ndarray:
    """Selectivity (Montavon et al. 2018): area under the score as every patch is removed, most
    relevant first.

    Matches `quantus.Selectivity` (Quantus 0.6.0): `patch_size` squares on a padded grid,
    ranked by attribution sum, all removed cumulatively by the baseline; score = trapezoid area
    of the score curve (`dx = 1`, `get_auc_score`; lower is more faithful).

    Args:
        maps: `(N, H, W)` attribution maps.
        model: A `Backbone` or Keras model taking pixels in `[0, 255]`.
        images: `(N, H, W, 3)` pixels.
        targets: Class per image; `None` for each predicted class.
        patch_size: Side of the squares.
        perturb_baseline: `"black"`, `"white"`, `"mean"`, `"uniform"` or a value.
        softmax: Score probabilities (Quantus' default).
        abs: Absolute maps first.
        normalise: Divide each map by its largest absolute value first.
        batch_size: Copies per compiled call.
        progress: Progress bar setting.

    Returns:
        float64 `(N,)` areas.

    Raises:
        ModelError, ImageError, TargetError, ParameterError: Bad inputs.
    """
    _, curves = _region_curves(
        "selectivity", maps, model, images, targets, patch_size, "morf", None, perturb_baseline,
        check_bool(softmax, "softmax"), abs, normalise, 0, batch_size, progress)
    return np.trapezoid(curves, dx=1, axis=1)
