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
from .inputs import model_inputs, prepare_maps
from .perturbation import (
    baseline_values,
    channel_first_maps,
    feature_ranks,
    scores_of_windows,
    similarity_rows,
)

__all__ = [
    "faithfulness_estimate",
    "monotonicity",
    "monotonicity_correlation",
    "pixel_flipping",
]


def _steps(inputs, features_in_step: int, descending: bool):
    """Feature ranks, the step count and the flat maps for a step-wise metric."""
    flat = channel_first_maps(inputs.maps)
    order = np.argsort(-flat if descending else flat, axis=1, kind="stable")
    total = flat.shape[1]
    features_in_step = check_int(features_in_step, "features_in_step", low=1, high=total)
    return feature_ranks(order, inputs.images.shape[1:]), math.ceil(total / features_in_step), flat, order


def _grid(n: int, steps: int, repeats: int = 1):
    image, step, rep = (a.ravel() for a in np.meshgrid(
        np.arange(n), np.arange(steps), np.arange(repeats), indexing="ij"))
    return image, step, rep


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
    inputs = model_inputs("pixel_flipping", maps, model, images, targets)
    inputs.maps = prepare_maps(inputs.maps, abs=abs, normalise=normalise)
    ranks, steps, _, _ = _steps(inputs, features_in_step, True)
    image, step, _ = _grid(len(inputs.maps), steps)
    fill = baseline_values(perturb_baseline, inputs.images, 1, np.random.default_rng(0))[image, 0]
    curves = scores_of_windows(
        inputs, ranks, image, np.zeros_like(step), (step + 1) * features_in_step, fill,
        softmax=check_bool(softmax, "softmax"), batch_size=check_int(batch_size, "batch_size", low=1),
        progress=progress, desc="pixel_flipping",
    ).reshape(len(inputs.maps), steps)
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
    inputs = model_inputs("faithfulness_estimate", maps, model, images, targets)
    inputs.maps = prepare_maps(inputs.maps, abs=abs, normalise=normalise)
    ranks, steps, flat, order = _steps(inputs, features_in_step, True)
    n = len(inputs.maps)
    image, step, _ = _grid(n, steps)
    fill = baseline_values(perturb_baseline, inputs.images, 1, np.random.default_rng(0))[image, 0]
    batch_size = check_int(batch_size, "batch_size", low=1)
    softmax = check_bool(softmax, "softmax")
    from .inputs import predict

    original = predict(inputs.backbone, inputs.images, softmax=softmax, batch_size=batch_size)
    original = original[np.arange(n), inputs.targets]
    perturbed = scores_of_windows(
        inputs, ranks, image, step * features_in_step, (step + 1) * features_in_step, fill,
        softmax=softmax, batch_size=batch_size, progress=progress, desc="faithfulness_estimate",
    ).reshape(n, steps)
    sorted_attr = np.take_along_axis(flat, order, axis=1)
    padded = np.zeros((n, steps * features_in_step))
    padded[:, : flat.shape[1]] = sorted_attr
    sums = padded.reshape(n, steps, features_in_step).sum(axis=2)
    return similarity_rows("pearson", sums, original[:, None] - perturbed)


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
    inputs = model_inputs("monotonicity", maps, model, images, targets)
    inputs.maps = prepare_maps(inputs.maps, abs=abs, normalise=normalise)
    ranks, steps, _, _ = _steps(inputs, features_in_step, False)
    image, step, _ = _grid(len(inputs.maps), steps)
    fill = baseline_values(perturb_baseline, inputs.images, 1, np.random.default_rng(0))[image, 0]
    curves = scores_of_windows(
        inputs, ranks, image, np.zeros_like(step), (step + 1) * features_in_step, fill,
        softmax=check_bool(softmax, "softmax"), batch_size=check_int(batch_size, "batch_size", low=1),
        progress=progress, desc="monotonicity", inside_is_original=True,
    ).reshape(len(inputs.maps), steps)
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
    inputs = model_inputs("monotonicity_correlation", maps, model, images, targets)
    inputs.maps = prepare_maps(inputs.maps, abs=abs, normalise=normalise)
    ranks, steps, flat, order = _steps(inputs, features_in_step, False)
    nr_samples = check_int(nr_samples, "nr_samples", low=1)
    eps = check_number(eps, "eps", low=0.0)
    n = len(inputs.maps)
    image, step, _ = _grid(n, steps, nr_samples)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    fill = baseline_values(perturb_baseline, inputs.images, steps * nr_samples, rng).reshape(-1)
    softmax = check_bool(softmax, "softmax")
    batch_size = check_int(batch_size, "batch_size", low=1)
    from .inputs import predict

    original = predict(inputs.backbone, inputs.images, softmax=softmax, batch_size=batch_size)
    original = original[np.arange(n), inputs.targets]
    inverse = np.ones(n)
    big = np.abs(original) >= eps
    inverse[big] = 1.0 / np.abs(original[big])
    perturbed = scores_of_windows(
        inputs, ranks, image, step * features_in_step, (step + 1) * features_in_step, fill,
        softmax=softmax, batch_size=batch_size, progress=progress, desc="monotonicity_correlation",
    ).reshape(n, steps, nr_samples)
    variances = ((perturbed - original[:, None, None]) ** 2).mean(axis=2) * inverse[:, None] ** 2
    padded = np.zeros((n, steps * features_in_step))
    padded[:, : flat.shape[1]] = np.take_along_axis(flat, order, axis=1)
    sums = padded.reshape(n, steps, features_in_step).sum(axis=2)
    return similarity_rows("spearman", sums, variances)
