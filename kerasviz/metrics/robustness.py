"""Robustness metrics: does an explanation stay put when the input barely changes? (Quantus 0.6.0)

Each draws `nr_samples` perturbed copies of every image and recomputes the explanation with
`method(model, images, targets)`; all `N * nr_samples` copies are explained `batch_size` at a
time (the method's own compiled functions are cached per model, so no call retraces).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..checks import check_int, check_number
from ..compiled import batch_slices
from .inputs import explain, model_inputs, prepare_maps

__all__ = ["avg_sensitivity", "continuity", "local_lipschitz_estimate", "max_sensitivity"]


def _perturbed_maps(metric, inputs, method, draw, count, batch_size, progress, abs, normalise):
    """Maps `(N, count, H, W)` of `draw(image_ids, sample_ids) -> copies` and the copies' input
    distance `(N, count)` from the originals. Copies are clipped to `[0, 255]`, the pixel range
    kerasviz methods accept (Quantus does not clip; the distances are those of the clipped
    copies)."""
    n = len(inputs.images)
    image, sample = np.divmod(np.arange(n * count), count)
    maps = np.empty((n * count, *inputs.maps.shape[1:]))
    distance = np.empty(n * count)
    for rows in batch_slices(n * count, batch_size):
        copies = np.clip(draw(image[rows], sample[rows]), 0.0, 255.0).astype(np.float32)
        found = explain(method, inputs.backbone, copies, inputs.targets[image[rows]],
                        metric=metric, batch_size=batch_size, progress=False)
        maps[rows] = prepare_maps(found, abs=abs, normalise=normalise)
        delta = (copies - inputs.images[image[rows]]).reshape(len(copies), -1).astype(np.float64)
        distance[rows] = np.sqrt((delta**2).sum(axis=1))
    shape = (n, count, *inputs.maps.shape[1:])
    return maps.reshape(shape), distance.reshape(n, count)


def abs_shift_covers(shift: int, width: int) -> bool:
    """Whether a horizontal shift moves the whole image out of a frame `width` wide."""
    return shift >= width or shift <= -width


def _sensitivity(metric, maps, model, images, targets, method, nr_samples, lower_bound,
                 upper_bound, abs, normalise, seed, batch_size, progress, reduce):
    inputs = model_inputs(metric, maps, model, images, targets)
    nr_samples = check_int(nr_samples, "nr_samples", low=1)
    lower_bound = check_number(lower_bound, "lower_bound", low=0.0)
    if upper_bound is not None:
        upper_bound = check_number(upper_bound, "upper_bound", low=lower_bound, open_low=True)
    low, high = (-lower_bound, lower_bound) if upper_bound is None else (lower_bound, upper_bound)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    batch_size = check_int(batch_size, "batch_size", low=1)

    def draw(who, _):
        return inputs.images[who] + rng.uniform(low, high, inputs.images[who].shape)

    original = prepare_maps(inputs.maps, abs=abs, normalise=normalise)
    perturbed, _ = _perturbed_maps(metric, inputs, method, draw, nr_samples, batch_size,
                                   progress, abs, normalise)
    flat = original.reshape(len(original), 1, -1)
    numerator = np.linalg.norm(flat - perturbed.reshape(*perturbed.shape[:2], -1), axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = numerator / np.linalg.norm(flat, axis=-1)
    return reduce(ratios, axis=1)


def max_sensitivity(
    maps: Any,
    *,
    model: Any = None,
    images: Any = None,
    targets: Any = None,
    method: Callable[..., Any] | None = None,
    nr_samples: int = 200,
    lower_bound: float = 0.2,
    upper_bound: float | None = None,
    abs: bool = False,
    normalise: bool = False,
    seed: int = 0,
    batch_size: int = 64,
    progress: bool | None = None,
) -> np.ndarray:
    """Max-sensitivity (Yeh et al. 2019): the largest relative change of the explanation under
    uniform input noise.

    Matches `quantus.MaxSensitivity` (Quantus 0.6.0): noise `U(-lower_bound, lower_bound)` (or
    `U(lower_bound, upper_bound)`) on every colour value, in the images' own units (pixels in
    `[0, 255]` here, so the default 0.2 is a small nudge); score `max ||a - a'|| / ||a||` over
    `nr_samples` draws (Frobenius norms). Lower is more robust.

    Args:
        maps: `(N, H, W)` explanations of the images by `method`.
        model: A `Backbone` or Keras model taking pixels in `[0, 255]`.
        images: `(N, H, W, 3)` pixels.
        targets: Class per image; `None` for each predicted class.
        method: `fn(model, images, targets) -> maps`, recomputed on the noisy copies.
        nr_samples: Noisy copies per image.
        lower_bound: Noise half-width (or lower bound when `upper_bound` is set).
        upper_bound: Upper bound of the noise, or `None` for a symmetric interval.
        abs: Absolute maps first.
        normalise: Divide each map by its largest absolute value first (Quantus: off).
        seed: Seed of the noise.
        batch_size: Copies per call of `method`.
        progress: Progress bar setting.

    Returns:
        float64 `(N,)`, `>= 0`; NaN for an all-zero map.

    Raises:
        ModelError, ImageError, TargetError, ParameterError: Bad inputs (no `method`, ...).
    """
    return _sensitivity("max_sensitivity", maps, model, images, targets, method, nr_samples,
                        lower_bound, upper_bound, abs, normalise, seed, batch_size, progress,
                        np.max)


def avg_sensitivity(
    maps: Any,
    *,
    model: Any = None,
    images: Any = None,
    targets: Any = None,
    method: Callable[..., Any] | None = None,
    nr_samples: int = 200,
    lower_bound: float = 0.2,
    upper_bound: float | None = None,
    abs: bool = False,
    normalise: bool = False,
    seed: int = 0,
    batch_size: int = 64,
    progress: bool | None = None,
) -> np.ndarray:
    """Average sensitivity (Yeh et al. 2019): the mean relative change of the explanation under
    uniform input noise.

    Matches `quantus.AvgSensitivity` (Quantus 0.6.0); the same settings as `max_sensitivity`,
    averaged instead of maximised. Lower is more robust.

    Args:
        maps: `(N, H, W)` explanations of the images by `method`.
        model: A `Backbone` or Keras model taking pixels in `[0, 255]`.
        images: `(N, H, W, 3)` pixels.
        targets: Class per image; `None` for each predicted class.
        method: `fn(model, images, targets) -> maps`.
        nr_samples: Noisy copies per image.
        lower_bound: Noise half-width (or lower bound when `upper_bound` is set).
        upper_bound: Upper bound of the noise, or `None`.
        abs: Absolute maps first.
        normalise: Divide each map by its largest absolute value first (Quantus: off).
        seed: Seed of the noise.
        batch_size: Copies per call of `method`.
        progress: Progress bar setting.

    Returns:
        float64 `(N,)`, `>= 0`.

    Raises:
        ModelError, ImageError, TargetError, ParameterError: Bad inputs.
    """
    return _sensitivity("avg_sensitivity", maps, model, images, targets, method, nr_samples,
                        lower_bound, upper_bound, abs, normalise, seed, batch_size, progress,
                        np.mean)


def local_lipschitz_estimate(
    maps: Any,
    *,
    model: Any = None,
    images: Any = None,
    targets: Any = None,
    method: Callable[..., Any] | None = None,
    nr_samples: int = 200,
    perturb_mean: float = 0.0,
    perturb_std: float = 0.1,
    abs: bool = False,
    normalise: bool = True,
    seed: int = 0,
    batch_size: int = 64,
    progress: bool | None = None,
) -> np.ndarray:
    """Local Lipschitz estimate (Alvarez-Melis and Jaakkola 2018): the largest ratio of the
    explanation's change to the input's change under Gaussian noise.

    Matches `quantus.LocalLipschitzEstimate` (Quantus 0.6.0): noise `N(mean, std)` on every
    colour value (image units), maps normalised by their maximum; score
    `max ||a - a'||_2 / (||x - x'||_2 + 1e-10)` over `nr_samples` draws. Lower is more robust.

    Args:
        maps: `(N, H, W)` explanations of the images by `method`.
        model: A `Backbone` or Keras model taking pixels in `[0, 255]`.
        images: `(N, H, W, 3)` pixels.
        targets: Class per image; `None` for each predicted class.
        method: `fn(model, images, targets) -> maps`.
        nr_samples: Noisy copies per image.
        perturb_mean: Mean of the noise.
        perturb_std: Standard deviation of the noise, `>= 0`.
        abs: Absolute maps first.
        normalise: Divide each map by its largest absolute value first (Quantus: on).
        seed: Seed of the noise.
        batch_size: Copies per call of `method`.
        progress: Progress bar setting.

    Returns:
        float64 `(N,)`, `>= 0`.

    Raises:
        ModelError, ImageError, TargetError, ParameterError: Bad inputs.
    """
    inputs = model_inputs("local_lipschitz_estimate", maps, model, images, targets)
    nr_samples = check_int(nr_samples, "nr_samples", low=1)
    perturb_mean = check_number(perturb_mean, "perturb_mean")
    perturb_std = check_number(perturb_std, "perturb_std", low=0.0)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))

    def draw(who, _):
        return inputs.images[who] + rng.normal(perturb_mean, perturb_std, inputs.images[who].shape)

    original = prepare_maps(inputs.maps, abs=abs, normalise=normalise)
    perturbed, distance = _perturbed_maps(
        "local_lipschitz_estimate", inputs, method, draw, nr_samples,
        check_int(batch_size, "batch_size", low=1), progress, abs, normalise)
    flat = original.reshape(len(original), 1, -1)
    numerator = np.linalg.norm(flat - perturbed.reshape(*perturbed.shape[:2], -1), axis=-1)
    return (numerator / (distance + 1e-10)).max(axis=1)


def continuity(
    maps: Any,
    *,
    model: Any = None,
    images: Any = None,
    targets: Any = None,
    method: Callable[..., Any] | None = None,
    nr_steps: int = 28,
    abs: bool = True,
    normalise: bool = True,
    batch_size: int = 64,
    progress: bool | None = None,
) -> np.ndarray:
    """Continuity (Montavon et al. 2018): the largest change of the explanation per unit of
    input change as the image slides sideways.

    Matches `quantus.Continuity` (Quantus 0.6.0): `nr_steps` horizontal translations by
    `-W + k * ((2W + 1) // nr_steps)`, `k = 1..nr_steps`, the uncovered side filled with the
    image's minimum; score `max_k ||a - a_k||_1 / (||x - x_k||_2 + 1e-9)` on absolute maps
    normalised by their maximum. Lower is more continuous.

    Args:
        maps: `(N, H, W)` explanations of the images by `method` (validated; like Quantus, the
            reference explanation is recomputed with `method`).
        model: A `Backbone` or Keras model taking pixels in `[0, 255]`.
        images: `(N, H, W, 3)` pixels.
        targets: Class per image; `None` for each predicted class.
        method: `fn(model, images, targets) -> maps`.
        nr_steps: Number of translations, `1..2W+1`.
        abs: Absolute maps first (Quantus' default).
        normalise: Divide each map by its largest absolute value first.
        batch_size: Copies per call of `method`.
        progress: Progress bar setting.

    Returns:
        float64 `(N,)`, `>= 0`.

    Raises:
        ModelError, ImageError, TargetError, ParameterError: Bad inputs.
    """
    inputs = model_inputs("continuity", maps, model, images, targets)
    width = inputs.images.shape[2]
    nr_steps = check_int(nr_steps, "nr_steps", low=1, high=2 * width + 1)
    step = (2 * width + 1) // nr_steps
    shifts = -width + step * np.arange(1, nr_steps + 1)
    floor = inputs.images.reshape(len(inputs.images), -1).min(axis=1)

    def draw(who, which):
        copies = np.empty((len(who), *inputs.images.shape[1:]), np.float32)
        for j, (i, k) in enumerate(zip(who, which)):
            copies[j] = floor[i]
            shift = int(shifts[k])
            if abs_shift_covers(shift, width):
                continue
            if shift >= 0:
                copies[j, :, shift:] = inputs.images[i, :, : width - shift]
            else:
                copies[j, :, : width + shift] = inputs.images[i, :, -shift:]
        return copies

    # As Quantus, the reference explanation is the method's own (a deterministic method then
    # scores 0 at a zero shift); `maps` only fix the shapes.
    own = explain(method, inputs.backbone, inputs.images, inputs.targets, metric="continuity",
                  batch_size=batch_size, reuse=True)
    original = prepare_maps(own, abs=abs, normalise=normalise)
    perturbed, distance = _perturbed_maps(
        "continuity", inputs, method, draw, nr_steps,
        check_int(batch_size, "batch_size", low=1), progress, abs, normalise)
    flat = original.reshape(len(original), 1, -1)
    manhattan = np.abs(flat - perturbed.reshape(*perturbed.shape[:2], -1)).sum(axis=-1)
    return (manhattan / (distance + 1e-9)).max(axis=1)
