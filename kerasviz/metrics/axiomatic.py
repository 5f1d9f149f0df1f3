"""Axiomatic metrics: completeness, non-sensitivity and input invariance (Quantus 0.6.0)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from ..backbones import Backbone
from ..checks import check_int, check_number
from ..compiled import cached
from .inputs import explain, model_inputs, predict, prepare_maps, prepared_inputs
from .perturbation import (
    baseline_values,
    channel_first_maps,
    copy_grid,
    feature_ranks,
    fixed_fill,
    group_sums,
    scores_of_windows,
    target_scores,
)

__all__ = ["completeness", "input_invariance", "non_sensitivity", "shifted_backbone"]


def completeness(
    maps: Any,
    *,
    model: Any = None,
    images: Any = None,
    targets: Any = None,
    perturb_baseline: Any = "black",
    softmax: bool = False,
    abs: bool = False,
    normalise: bool = True,
    rtol: float = 0.0,
    atol: float = 0.0,
    return_gap: bool = False,
    batch_size: int = 64,
) -> np.ndarray:
    """Completeness (Sundararajan et al. 2017): do the attributions sum to `f(x) - f(baseline)`?

    Matches `quantus.Completeness` (Quantus 0.6.0): the baseline image has every value replaced
    by the baseline (`"black"`: the image's minimum); 1 when `sum(a) == y - y_baseline`. Quantus
    compares exactly (and normalises the maps first by default, so almost every map fails);
    `rtol` / `atol` loosen the comparison and `return_gap` returns `sum(a) - (y - y_baseline)`.

    Args:
        maps: `(N, H, W)` attribution maps.
        model: A `Backbone` or Keras model taking pixels in `[0, 255]`.
        images: `(N, H, W, 3)` pixels.
        targets: Class per image; `None` for each predicted class.
        perturb_baseline: `"black"`, `"white"`, `"mean"`, `"uniform"` or a number.
        softmax: Compare probabilities instead of logits (Quantus' default: logits).
        abs: Absolute maps first.
        normalise: Divide each map by its largest absolute value first (Quantus' default).
        rtol: Relative tolerance of the comparison.
        atol: Absolute tolerance.
        return_gap: Return the gap instead of the 0 / 1 verdict.
        batch_size: Images per compiled call.

    Returns:
        float64 `(N,)`: 1.0 complete, 0.0 not (or the gap).

    Raises:
        ModelError, ImageError, TargetError, ParameterError: Bad inputs.
    """
    inputs = model_inputs("completeness", maps, model, images, targets)
    rtol = check_number(rtol, "rtol", low=0.0)
    atol = check_number(atol, "atol", low=0.0)
    heat = prepare_maps(inputs.maps, abs=abs, normalise=normalise)
    n = len(heat)
    fill = baseline_values(perturb_baseline, inputs.images, 1, np.random.default_rng(0))
    baseline = np.broadcast_to(fill[:, 0, None, None, None], inputs.images.shape)
    rows = np.arange(n)
    reference = predict(inputs.backbone, np.ascontiguousarray(baseline, np.float32),
                        softmax=softmax, batch_size=batch_size)[rows, inputs.targets]
    difference = target_scores(inputs, softmax=softmax, batch_size=batch_size) - reference
    total = heat.reshape(n, -1).sum(axis=1)
    if return_gap:
        return total - difference
    return np.isclose(total, difference, rtol=rtol, atol=atol).astype(np.float64)


def non_sensitivity(
    maps: Any,
    *,
    model: Any = None,
    images: Any = None,
    targets: Any = None,
    eps: float = 1e-5,
    features_in_step: int = 1,
    perturb_baseline: Any = "black",
    softmax: bool = True,
    abs: bool = True,
    normalise: bool = True,
    batch_size: int = 64,
    progress: bool | None = None,
) -> np.ndarray:
    """Non-sensitivity (Nguyen and Martinez 2020): count of feature groups where "zero
    attribution" and "no effect on the score" disagree.

    Matches `quantus.NonSensitivity` (Quantus 0.6.0): groups of `features_in_step` colour
    values in index order (channel first), each replaced on its own by the baseline; a group
    has no effect when `|y' - y| < eps`, zero attribution when its attributions are `< eps`
    (Quantus 0.6.0 only runs with `features_in_step=1`, where the group is one value). Lower is
    better.

    Args:
        maps: `(N, H, W)` attribution maps.
        model: A `Backbone` or Keras model taking pixels in `[0, 255]`.
        images: `(N, H, W, 3)` pixels.
        targets: Class per image; `None` for each predicted class.
        eps: Threshold for "zero".
        features_in_step: Colour values per group.
        perturb_baseline: `"black"`, `"white"`, `"mean"`, `"uniform"` or a number.
        softmax: Score probabilities (Quantus' default).
        abs: Absolute maps first (Quantus' default).
        normalise: Divide each map by its largest absolute value first.
        batch_size: Copies per compiled call.
        progress: Progress bar setting.

    Returns:
        float64 `(N,)` counts in `[0, groups]`.

    Raises:
        ModelError, ImageError, TargetError, ParameterError: Bad inputs.
    """
    inputs = prepared_inputs("non_sensitivity", maps, model, images, targets, abs=abs,
                             normalise=normalise)
    eps = check_number(eps, "eps", low=0.0)
    flat = channel_first_maps(inputs.maps)
    n, total = flat.shape
    features_in_step = check_int(features_in_step, "features_in_step", low=1, high=total)
    steps = math.ceil(total / features_in_step)
    ranks = feature_ranks(np.tile(np.arange(total), (n, 1)), inputs.images.shape[1:])
    image, step, _ = copy_grid(n, steps)
    original = target_scores(inputs, softmax=softmax, batch_size=batch_size)
    perturbed = scores_of_windows(
        inputs, ranks, image, step * features_in_step, (step + 1) * features_in_step,
        fixed_fill(perturb_baseline, inputs.images, image), softmax=softmax,
        batch_size=check_int(batch_size, "batch_size", low=1), progress=progress,
        desc="non_sensitivity",
    ).reshape(n, steps)
    no_effect = np.abs(perturbed - original[:, None]) < eps
    # A group has zero attribution when every value in it is below eps (padding counts as zero).
    zero = group_sums((flat >= eps).astype(np.float64), features_in_step) == 0
    if eps <= 0 and total % features_in_step:
        zero[:, -1] = False  # padding (0) is not below eps = 0
    return (no_effect ^ zero).sum(axis=1).astype(np.float64)


def shifted_backbone(backbone: Backbone, input_shift: float) -> Backbone:
    """A Backbone whose model computes `f(x - input_shift)`: fed `x + input_shift`, it gives the
    original outputs (Kindermans et al.'s mean-shifted network; Quantus folds the shift into the
    first layer's bias, which is the same function).

    Args:
        backbone: The original model.
        input_shift: Shift added to every input value.

    Returns:
        A Backbone on a Keras model sharing the original's weights (made once per model and
        shift, and kept as long as the model lives).
    """
    source = backbone.model

    def build() -> Backbone:
        pixels = keras.Input(shape=tuple(source.inputs[0].shape[1:]), name="shifted_pixels")
        shifted = keras.Model(pixels, source(pixels - float(input_shift)),
                              name=f"{source.name}_shifted")
        return dataclasses.replace(backbone, model=shifted)

    # One wrapper per (model, shift): the methods' compiled functions for it are then traced once.
    return cached(source, ("shifted_backbone", float(input_shift)), build)


def input_invariance(
    maps: Any,
    *,
    model: Any = None,
    images: Any = None,
    targets: Any = None,
    method: Callable[..., Any] | None = None,
    input_shift: float | None = None,
    atol: float = 1e-4,
    abs: bool = False,
    normalise: bool = False,
    batch_size: int = 64,
    shifted_model: Any = None,
) -> np.ndarray:
    """Input invariance (Kindermans et al. 2017): is the explanation unchanged when the input and
    the model are shifted so that the model's outputs are unchanged?

    Matches `quantus.InputInvariance` (Quantus 0.6.0): the input is shifted by `input_shift`
    (Quantus: -1) and the network by the opposite shift; 1 when every value of the new
    explanation is within `atol = 1e-4` of the original. Plain gradients pass; gradient x input
    and integrated gradients with a zero baseline fail, as in the paper.

    Args:
        maps: `(N, H, W)` explanations by `method` of the original model.
        model: A `Backbone` or Keras model taking pixels in `[0, 255]`.
        images: `(N, H, W, 3)` pixels.
        targets: Class per image; `None` for each predicted class.
        method: `fn(model, images, targets) -> maps`.
        input_shift: Value added to every input, in `[-64, 64]`; `None`: Quantus' -1 when every
            image value is at least 1, else +1. kerasviz methods take pixels in `[0, 255]`: when
            the shifted images would leave that range, both explanations are computed on a copy
            squeezed into `[|shift|, 255 - |shift|]` (the given maps are then not used).
        atol: Absolute tolerance of the comparison.
        abs: Absolute maps first.
        normalise: Divide each map by its largest absolute value first (Quantus: off).
        batch_size: Images per call of `method`.
        shifted_model: The shifted network to use instead of the default wrapper (e.g. one with
            the shift folded into the first layer, so layer-based methods find their layers).

    Returns:
        float64 `(N,)`: 1.0 invariant, 0.0 not.

    Raises:
        ModelError, ImageError, TargetError, ParameterError: Bad inputs.
    """
    inputs = model_inputs("input_invariance", maps, model, images, targets)
    if input_shift is None:
        input_shift = -1.0 if inputs.images.min() >= 1.0 else 1.0
    input_shift = check_number(input_shift, "input_shift", low=-64.0, high=64.0)
    base, given = inputs.images, inputs.maps
    if (base + input_shift).min() < 0 or (base + input_shift).max() > 255:
        # Keep both inputs in the [0, 255] that kerasviz methods take: explain a copy squeezed
        # into [|shift|, 255 - |shift|] on both sides of the comparison, on a grid of 1/256 so
        # that with a whole-number shift the shifted network's `(x + shift) - shift` is exactly
        # `x` in float32 (rounding there moved a Lite0 saliency map by 7e-4 of its maximum where
        # a ReLU6 input sat on its kink).
        margin = float(np.abs(input_shift))
        squeezed = margin + inputs.images * ((255.0 - 2 * margin) / 255.0)
        base = np.clip(np.round(squeezed * 256.0) / 256.0, margin, 255.0 - margin).astype(np.float32)
        given = explain(method, inputs.backbone, base, inputs.targets, metric="input_invariance",
                        batch_size=batch_size)
    from ..backbones import as_backbone

    shifted = shifted_backbone(inputs.backbone, input_shift) if shifted_model is None else (
        as_backbone(shifted_model))
    found = explain(method, shifted, (base + np.float32(input_shift)).astype(np.float32),
                    inputs.targets, metric="input_invariance", batch_size=batch_size)
    before = prepare_maps(given, abs=abs, normalise=normalise)
    after = prepare_maps(found, abs=abs, normalise=normalise)
    close = np.isclose(before, after, atol=atol).reshape(len(before), -1).all(axis=1)
    return close.astype(np.float64)
