"""Integrated gradients (Sundararajan et al. 2017): gradients averaged along a path from a baseline."""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple, Optional, Tuple

import numpy as np

from ..checks import check_choice, check_int, check_number
from ..compiled import batch_slices
from ..errors import ParameterError
from ..images import as_image_batch
from ..progress import progress_bar
from ..targets import TargetLike
from .core import score_gradient
from .inputs import AttributionInputs, prepare_inputs, sum_by_image, target_indices

__all__ = ["IntegratedGradients", "integrate", "integrated_gradients", "path_weights"]

RIEMANN_RULES = ("trapezoid", "right")
PATH_SPACINGS = ("quadratic", "uniform")


class IntegratedGradients(NamedTuple):
    """Integrated-gradients result (unpacks as `attributions, error, difference`).

    Attributes:
        attributions: float32 `(N, H, W, 3)` in score units per pixel (sum ~ score difference).
        completeness_error: `(N,)` `sum(attributions) - (f(x) - f(baseline))`.
        score_difference: `(N,)` `f(x) - f(baseline)`.
    """

    attributions: np.ndarray
    completeness_error: np.ndarray
    score_difference: np.ndarray


def path_weights(steps: int, rule: str, spacing: str) -> Tuple[np.ndarray, np.ndarray]:
    """Path points `alpha_k`, k = 0..steps (always from 0 to 1), and their quadrature weights.

    The integral over `alpha` is taken as an integral over `t = k / steps` with `alpha = t`
    (uniform) or `alpha = t**2` (quadratic: `d alpha = 2 t dt`, points denser near the
    baseline, where Lite0's score changes fastest), by the trapezoid or right Riemann rule in
    `t`. The `alpha = 0` point always runs, supplying `f(baseline)` even where its weight is 0.

    Args:
        steps: Number of intervals, `>= 1`.
        rule: `"trapezoid"` or `"right"`.
        spacing: `"quadratic"` or `"uniform"`.

    Returns:
        float32 `(alphas (steps + 1,), weights (steps + 1,))`.
    """
    t = np.linspace(0.0, 1.0, steps + 1)
    weights = np.full(steps + 1, 1.0 / steps)
    if rule == "trapezoid":
        weights[[0, -1]] = 0.5 / steps
    else:
        weights[0] = 0.0
    if spacing == "quadratic":
        return (t**2).astype(np.float32), (weights * 2.0 * t).astype(np.float32)
    return t.astype(np.float32), weights.astype(np.float32)


def integrate(
    inputs: AttributionInputs,
    baselines: np.ndarray,
    *,
    steps: int,
    rule: str = "trapezoid",
    spacing: str = "quadratic",
    batch_size: int,
    jit_compile: bool = False,
    bar: Any = None,
) -> IntegratedGradients:
    """Integrated gradients of validated inputs: (image, path point) pairs in bounded batches.

    Args:
        inputs: Validated inputs (see `core.prepare_inputs`).
        baselines: float32 `(N, H, W, 3)`, one per image.
        steps: Path intervals, `>= 1`.
        rule: `"trapezoid"` or `"right"`.
        spacing: `"quadratic"` or `"uniform"`.
        batch_size: Largest batch of path points per compiled call.
        jit_compile: Compile the gradient with XLA.
        bar: Optional progress bar, advanced per path point.

    Returns:
        `IntegratedGradients` with a batch axis.
    """
    grad = score_gradient(inputs.backbone, inputs.target, jit_compile=jit_compile)
    images, indices = inputs.images, target_indices(inputs)
    alphas, weights = path_weights(steps, rule, spacing)
    n_points = steps + 1
    image_of = np.repeat(np.arange(len(images)), n_points)
    point_of = np.tile(np.arange(n_points), len(images))
    summed = np.zeros(images.shape, np.float64)
    scores = np.zeros((len(images), n_points), np.float64)
    for part in batch_slices(len(image_of), batch_size):
        who, where = image_of[part], point_of[part]
        alpha = alphas[where][:, None, None, None]
        points = baselines[who] + alpha * (images[who] - baselines[who])
        s, g = grad(points, indices[who])
        scores[who, where] = s
        sum_by_image(summed, who, g * weights[where][:, None, None, None])
        if bar is not None:
            bar.update(part.stop - part.start)
    attributions = (summed * (images - baselines)).astype(np.float32)
    difference = scores[:, -1] - scores[:, 0]
    error = attributions.reshape(len(images), -1).sum(axis=1, dtype=np.float64) - difference
    return IntegratedGradients(attributions, error.astype(np.float32), difference.astype(np.float32))


def _baselines(baseline: Any, batch: np.ndarray) -> np.ndarray:
    if baseline is None:
        return np.zeros_like(batch)
    if isinstance(baseline, numbers.Real) and not isinstance(baseline, bool):
        level = check_number(baseline, "baseline", low=0.0, high=255.0)
        return np.full_like(batch, level)
    values, _ = as_image_batch(baseline, name="baseline")
    if values.shape[1:] != batch.shape[1:] or len(values) not in (1, len(batch)):
        raise ParameterError(
            "`baseline` must be None (black), a gray level in [0, 255], one image shaped like "
            f"the inputs {batch.shape[1:]}, or one per image. Received: baseline with shape "
            f"{np.shape(baseline)}"
        )
    return np.ascontiguousarray(np.broadcast_to(values, batch.shape), np.float32)


def integrated_gradients(
    model: Any,
    images: Any,
    target: Optional[TargetLike] = None,
    *,
    baseline: Any = None,
    steps: int = 64,
    rule: str = "trapezoid",
    spacing: str = "quadratic",
    batch_size: int = 32,
    progress: Optional[bool] = None,
    jit_compile: bool = False,
) -> IntegratedGradients:
    """Integrated gradients (Sundararajan et al.) along the straight path from a baseline.

    `attributions = (x - baseline) * mean over the path of d score / d pixel`, both in pixel
    units, so `sum(attributions) ~ f(x) - f(baseline)` (completeness). The path integral uses
    `steps` intervals of `t` in `[0, 1]`, by the trapezoid rule (default; end points weighted
    1/2) or the right Riemann rule, with path points `alpha = t**2` (`spacing="quadratic"`,
    default) or `alpha = t` (`"uniform"`, the paper's). Quadratic spacing puts more points near
    the baseline, where the score of a real network changes fastest: on Lite0 (black baseline,
    chelsea / coffee / a half-and-half image) it measured a completeness error of 0-4 % at 128
    steps against 8-23 % for uniform spacing. All `N * (steps + 1)` path points go through
    the model in batches of at most `batch_size`.

    Args:
        model: A `Backbone` or a `keras.Model` taking pixels in `[0, 255]`.
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`.
        target: Class index, one per image, callable on logits, or `None` (predicted class).
        baseline: `None` (black image), a gray level in `[0, 255]`, or an image `(H, W, 3)` /
            one per image `(N, H, W, 3)` in `[0, 255]`.
        steps: Number of path intervals, `>= 1`.
        rule: `"trapezoid"` or `"right"`.
        spacing: `"quadratic"` (`alpha = t**2`) or `"uniform"` (`alpha = t`).
        batch_size: Largest batch of path points per compiled call.
        progress: Show a progress bar (`None`: global setting).
        jit_compile: Compile the gradient with XLA.

    Returns:
        `IntegratedGradients(attributions, completeness_error, score_difference)`: float32
        `(N, H, W, 3)` attributions and `(N,)` errors / differences (for a single image:
        `(H, W, 3)` and scalars).

    Raises:
        ImageError: Invalid images or baseline image.
        TargetError: Invalid target.
        ModelError: Unusable model or image size.
        ParameterError: Bad `steps`, `rule`, `spacing`, `baseline` or `batch_size`.
    """
    steps = check_int(steps, "steps", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    check_choice(rule, "rule", RIEMANN_RULES)
    check_choice(spacing, "spacing", PATH_SPACINGS)
    inputs = prepare_inputs(model, images, target, batch_size, technique="integrated_gradients")
    baselines = _baselines(baseline, inputs.images)
    total = len(inputs.images) * (steps + 1)
    with progress_bar(total=total, desc="integrated gradients", progress=progress) as bar:
        result = integrate(
            inputs, baselines, steps=steps, rule=rule, spacing=spacing, batch_size=batch_size,
            jit_compile=jit_compile, bar=bar,
        )
    if inputs.single:
        return IntegratedGradients(
            result.attributions[0], result.completeness_error[0], result.score_difference[0]
        )
    return result
