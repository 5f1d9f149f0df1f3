"""Faithfulness metrics that perturb features in the order a map ranks them (Quantus 0.6.0);
region perturbation and selectivity, which rank square patches, are in `faithfulness_regions`.

Features are Quantus' `3 * H * W` colour values (the map broadcast over colours, channel
first); ties are broken by position (stable sort), so with `features_in_step` a multiple of 3
every step replaces whole pixels and the result does not depend on how ties fall. Every copy of
every step of every image is scored through one cached compiled forward pass, `batch_size`
copies a call.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..checks import check_bool, check_int, check_number
from .inputs import prepared_inputs
from .perturbation import (
    baseline_values,
    channel_first_maps,
    copy_grid,
    feature_ranks,
    fixed_fill,
    group_sums,
    scores_of_windows,
    similarity_rows,
    target_scores,
)

__all__ = [
    "faithfulness_estimate",
    "monotonicity",
    "monotonicity_correlation",
    "pixel_flipping",
]


def _step_curves(metric, inputs, features_in_step, descending, baseline, softmax, batch_size,
                 progress, *, cumulative, repeats=1, fill=None, inside_is_original=False):
    """Scores `(N, steps, repeats)` of copies whose features are replaced `features_in_step` at
    a time in map order (cumulatively from the first rank, or one group alone), and the flat
    maps `(N, F)` in that order.

    The fill is `fixed_fill(baseline)` per copy unless `fill` `(N * steps * repeats,)` is given.
    """
    flat = channel_first_maps(inputs.maps)
    order = np.argsort(-flat if descending else flat, axis=1, kind="stable")
    total = flat.shape[1]
    features_in_step = check_int(features_in_step, "features_in_step", low=1, high=total)
    steps = math.ceil(total / features_in_step)
    n = len(inputs.maps)
    image, step, _ = copy_grid(n, steps, repeats)
    fill = fixed_fill(baseline, inputs.images, image) if fill is None else fill
    low = np.zeros_like(step) if cumulative else step * features_in_step
    scores = scores_of_windows(
        inputs, feature_ranks(order, inputs.images.shape[1:]), image, low,
        (step + 1) * features_in_step, fill, softmax=check_bool(softmax, "softmax"),
        batch_size=check_int(batch_size, "batch_size", low=1), progress=progress, desc=metric,
        inside_is_original=inside_is_original,
    ).reshape(n, steps, repeats)
    return scores, np.take_along_axis(flat, order, axis=1)


def pixel_flipping(
    maps: Any,
    *,
    model: Any = None,
    images: Any = None,
    targets: Any = None,
    features_in_step: int = 1,
    perturb_baseline: Any = "black",
    softmax: bool = True,
    abs: bool = False,
    normalise: bool = True,
    batch_size: int = 64,
    progress: bool | None = None,
    return_curves: bool = False,
) -> np.ndarray:
    """Pixel flipping (Bach et al. 2015): area under the score as top features are removed.

    Matches `quantus.PixelFlipping` with `return_auc_per_sample=True` (Quantus 0.6.0): features
    are replaced cumulatively, `features_in_step` at a time, most relevant first, by the
    baseline; the curve holds the target score after each step and the score is its trapezoid
    area with `dx = 1` (lower is more faithful).

    Args:
        maps: `(N, H, W)` attribution maps.
        model: A `Backbone` or Keras model taking pixels in `[0, 255]`.
        images: `(N, H, W, 3)` pixels.
        targets: Class per image (or one for all); `None` for each predicted class.
        features_in_step: Colour values replaced per step (Quantus default 1: 3 H W steps;
            use a multiple of 3, e.g. `3 * H * W // 64`).
        perturb_baseline: `"black"` (image minimum), `"white"`, `"mean"`, `"uniform"` or a value.
        softmax: Score probabilities (Quantus' default) instead of logits.
        abs: Absolute maps first.
        normalise: Divide each map by its largest absolute value first.
        batch_size: Copies per compiled call.
        progress: Progress bar (`None`: global setting).
        return_curves: Return the curves `(N, steps)` instead of their areas.

    Returns:
        float64 `(N,)` areas (or `(N, steps)` curves).

    Raises:
        ModelError, ImageError, TargetError, ParameterError: Bad inputs.
    """
    inputs = prepared_inputs("pixel_flipping", maps, model, images, targets, abs=abs,
                             normalise=normalise)
    curves = _step_curves("pixel_flipping", inputs, features_in_step, True, perturb_baseline,
                          softmax, batch_size, progress, cumulative=True)[0][..., 0]
    return curves if return_curves else np.trapezoid(curves, dx=1, axis=1)


def faithfulness_estimate(
    maps: Any,
    *,
    model: Any = None,
    images: Any = None,
    targets: Any = None,
    features_in_step: int = 1,
    perturb_baseline: Any = "black",
    softmax: bool = False,
    abs: bool = False,
    normalise: bool = True,
    batch_size: int = 64,
    progress: bool | None = None,
) -> np.ndarray:
    """Faithfulness estimate (Alvarez-Melis and Jaakkola 2018): Pearson correlation between the
    attribution of each group of features and the score drop when only that group is removed.

    Matches `quantus.FaithfulnessEstimate` (Quantus 0.6.0): groups of `features_in_step`
    features in decreasing attribution order, each replaced on its own by the baseline.

    Args:
        maps: `(N, H, W)` attribution maps.
        model: A `Backbone` or Keras model taking pixels in `[0, 255]`.
        images: `(N, H, W, 3)` pixels.
        targets: Class per image; `None` for each predicted class.
        features_in_step: Colour values per group (a multiple of 3 keeps whole pixels).
        perturb_baseline: `"black"`, `"white"`, `"mean"`, `"uniform"` or a value.
        softmax: Score probabilities instead of logits (Quantus' default: logits).
        abs: Absolute maps first.
        normalise: Divide each map by its largest absolute value first.
        batch_size: Copies per compiled call.
        progress: Progress bar setting.

    Returns:
        float64 `(N,)` in `[-1, 1]` (higher is more faithful; NaN for a constant map).

    Raises:
        ModelError, ImageError, TargetError, ParameterError: Bad inputs.
    """
    inputs = prepared_inputs("faithfulness_estimate", maps, model, images, targets, abs=abs,
                             normalise=normalise)
    perturbed, ordered = _step_curves("faithfulness_estimate", inputs, features_in_step, True,
                                      perturb_baseline, softmax, batch_size, progress,
                                      cumulative=False)
    original = target_scores(inputs, softmax=softmax, batch_size=batch_size)
    return similarity_rows("pearson", group_sums(ordered, features_in_step),
                           original[:, None] - perturbed[..., 0])


def monotonicity(
    maps: Any,
    *,
    model: Any = None,
    images: Any = None,
    targets: Any = None,
    features_in_step: int = 1,
    perturb_baseline: Any = "black",
    softmax: bool = True,
    abs: bool = True,
    normalise: bool = True,
    batch_size: int = 64,
    progress: bool | None = None,
) -> np.ndarray:
    """Monotonicity (Arya et al. 2019): starting from the baseline image, add features back in
    increasing order of attribution; 1 when the score never falls.

    Follows `quantus.Monotonicity` (Quantus 0.6.0) in order, steps, baseline and the test
    `all(diff(scores) >= 0)`. Quantus 0.6.0 re-inserts the *baseline* value (its perturbation
    reads the baseline array, so its curve is flat and every map passes); kerasviz inserts the
    original features, as the paper describes.

    Args:
        maps: `(N, H, W)` attribution maps.
        model: A `Backbone` or Keras model taking pixels in `[0, 255]`.
        images: `(N, H, W, 3)` pixels.
        targets: Class per image; `None` for each predicted class.
        features_in_step: Colour values added per step.
        perturb_baseline: The starting image's value: `"black"`, `"white"`, `"mean"`, or a number.
        softmax: Score probabilities (Quantus' default).
        abs: Absolute maps first (Quantus' default).
        normalise: Divide each map by its largest absolute value first.
        batch_size: Copies per compiled call.
        progress: Progress bar setting.

    Returns:
        float64 `(N,)`: 1.0 monotonic, 0.0 not.

    Raises:
        ModelError, ImageError, TargetError, ParameterError: Bad inputs.
    """
    inputs = prepared_inputs("monotonicity", maps, model, images, targets, abs=abs,
                             normalise=normalise)
    curves = _step_curves("monotonicity", inputs, features_in_step, False, perturb_baseline,
                          softmax, batch_size, progress, cumulative=True,
                          inside_is_original=True)[0][..., 0]
    return np.all(np.diff(curves, axis=1) >= 0, axis=1).astype(np.float64)


def monotonicity_correlation(
    maps: Any,
    *,
    model: Any = None,
    images: Any = None,
    targets: Any = None,
    features_in_step: int = 1,
    nr_samples: int = 100,
    eps: float = 1e-5,
    perturb_baseline: Any = "uniform",
    softmax: bool = True,
    abs: bool = True,
    normalise: bool = True,
    seed: int = 0,
    batch_size: int = 64,
    progress: bool | None = None,
) -> np.ndarray:
    """Monotonicity correlation (Nguyen and Martinez 2020): Spearman correlation between each
    group's attribution and the variance its removal causes in the score.

    Matches `quantus.MonotonicityCorrelation` (Quantus 0.6.0): groups of `features_in_step`
    features in increasing attribution order; each is replaced `nr_samples` times by the
    baseline (`"uniform"`: a fresh U(0, 1) value per image and draw, as Quantus draws it);
    variance `mean((y' - y)^2) / y^2` (`1 / y^2` only where `|y| >= eps`).

    Args:
        maps: `(N, H, W)` attribution maps.
        model: A `Backbone` or Keras model taking pixels in `[0, 255]`.
        images: `(N, H, W, 3)` pixels.
        targets: Class per image; `None` for each predicted class.
        features_in_step: Colour values per group.
        nr_samples: Draws per group, `>= 1`.
        eps: Scores below this are not inverted.
        perturb_baseline: `"uniform"`, `"black"`, `"white"`, `"mean"` or a number.
        softmax: Score probabilities (Quantus' default).
        abs: Absolute maps first (Quantus' default).
        normalise: Divide each map by its largest absolute value first.
        seed: Seed of the baseline draws.
        batch_size: Copies per compiled call.
        progress: Progress bar setting.

    Returns:
        float64 `(N,)` in `[-1, 1]` (higher is more faithful).

    Raises:
        ModelError, ImageError, TargetError, ParameterError: Bad inputs.
    """
    inputs = prepared_inputs("monotonicity_correlation", maps, model, images, targets, abs=abs,
                             normalise=normalise)
    nr_samples = check_int(nr_samples, "nr_samples", low=1)
    eps = check_number(eps, "eps", low=0.0)
    total = inputs.maps[0].size * 3
    steps = math.ceil(total / check_int(features_in_step, "features_in_step", low=1, high=total))
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    fill = baseline_values(perturb_baseline, inputs.images, steps * nr_samples, rng).reshape(-1)
    original = target_scores(inputs, softmax=softmax, batch_size=batch_size)
    inverse = np.ones(len(original))
    big = np.abs(original) >= eps
    inverse[big] = 1.0 / np.abs(original[big])
    perturbed, ordered = _step_curves("monotonicity_correlation", inputs, features_in_step, False,
                                      perturb_baseline, softmax, batch_size, progress,
                                      cumulative=False, repeats=nr_samples, fill=fill)
    variances = ((perturbed - original[:, None, None]) ** 2).mean(axis=2) * inverse[:, None] ** 2
    return similarity_rows("spearman", group_sums(ordered, features_in_step), variances)
