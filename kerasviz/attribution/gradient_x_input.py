"""Gradient x input (Shrikumar et al. 2016): each pixel's gradient times its own value.

The first-order Taylor share of each pixel in the score: for a model that is linear in its
pixels (no bias), the attributions sum exactly to the score. It runs on the core's compiled
score gradient (the same trace as `saliency`), so it costs one backward pass per image.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..checks import check_int
from ..targets import TargetLike
from .core import pixel_gradients
from .inputs import prepare_inputs, squeeze

__all__ = ["gradient_x_input"]


def gradient_x_input(
    model: Any,
    images: Any,
    target: Optional[TargetLike] = None,
    *,
    batch_size: int = 32,
    jit_compile: bool = False,
) -> np.ndarray:
    """Gradient x input: `x * d score / d x` per pixel and colour, in score units.

    Pixels are in `[0, 255]`, so the attribution is relative to a black image. Wrap it in
    `smoothgrad(..., method=gradient_x_input)` for a noise-averaged version.

    Args:
        model: A `Backbone` or a `keras.Model` taking pixels in `[0, 255]` (softmax removed).
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`, at the model's input size.
        target: Class index, one index per image, callable `scores(logits) -> (N,)`, or `None`
            for each image's predicted class. Scores are logits.
        batch_size: Largest batch per compiled call, `>= 1`.
        jit_compile: Compile the gradient with XLA.

    Returns:
        float32 `(N, H, W, 3)` (or `(H, W, 3)`) raw attributions, positive where a pixel's
        value raises the score (sum over colours and take `abs` for a heatmap).

    Raises:
        ImageError: Invalid images.
        TargetError: Invalid target.
        ModelError: Unusable model or image size.
        ParameterError: Invalid `batch_size`.
    """
    batch_size = check_int(batch_size, "batch_size", low=1)
    inputs = prepare_inputs(model, images, target, batch_size, technique="gradient_x_input")
    gradients = pixel_gradients(inputs.backbone, inputs, batch_size, jit_compile=jit_compile)
    return squeeze((gradients * inputs.images).astype(np.float32), inputs.single)
