"""Vanilla gradient saliency (Simonyan et al. 2014): how much does each pixel move the score?"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..checks import check_int
from ..targets import TargetLike
from .core import pixel_gradients
from .inputs import AttributionInputs, prepare_inputs, scale_to_unit, squeeze

__all__ = ["saliency", "saliency_attributions"]


def saliency_attributions(
    inputs: AttributionInputs, *, batch_size: int, jit_compile: bool = False, bar: Any = None
) -> np.ndarray:
    """Raw saliency maps `max over channels |d score / d pixel|`, not normalized.

    Args:
        inputs: Validated inputs (see `core.prepare_inputs`).
        batch_size: Largest batch per compiled call.
        jit_compile: Compile the gradient with XLA.
        bar: Optional progress bar, advanced per image.

    Returns:
        float32 `(N, H, W)`, `>= 0`, in score units per pixel value.
    """
    gradients = pixel_gradients(inputs.backbone, inputs, batch_size, jit_compile=jit_compile, bar=bar)
    return np.abs(gradients).max(axis=-1)


def saliency(
    model: Any,
    images: Any,
    target: Optional[TargetLike] = None,
    *,
    batch_size: int = 32,
    jit_compile: bool = False,
) -> np.ndarray:
    """Vanilla gradient saliency: max over channels of |d score / d pixel| (Simonyan et al.).

    Args:
        model: A `Backbone` or a `keras.Model` taking pixels in `[0, 255]` (softmax removed).
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`, at the model's input size.
        target: Class index, one index per image, callable `scores(logits) -> (N,)`, or `None`
            for each image's predicted class. Scores are logits.
        batch_size: Largest batch per compiled call, `>= 1`.
        jit_compile: Compile the gradient with XLA.

    Returns:
        float32 `(N, H, W)` (or `(H, W)`) in `[0, 1]`, each map divided by its maximum.

    Raises:
        ImageError: Invalid images.
        TargetError: Invalid target.
        ModelError: Unusable model or image size.
        ParameterError: Invalid `batch_size`.
    """
    batch_size = check_int(batch_size, "batch_size", low=1)
    inputs = prepare_inputs(model, images, target, batch_size, technique="saliency")
    maps = saliency_attributions(inputs, batch_size=batch_size, jit_compile=jit_compile)
    return squeeze(scale_to_unit(maps), inputs.single)
