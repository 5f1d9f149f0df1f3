"""Feature inversion (Mahendran & Vedaldi, 2015): the image a layer's activations describe.

Start from noise and minimize the normalized feature distance
`‖Φ(x) − Φ(x₀)‖² / ‖Φ(x₀)‖²` plus a total-variation prior, with the synthesis engine. Early
layers keep enough to rebuild the photo; deep layers keep only what matters for the class, so
their reconstructions lose colour and layout — the lecture's depth trend.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..backbones import as_backbone
from ..checks import check_int, check_number
from ..images import as_image_batch, to_uint8
from .ascent_options import PLAIN, Ascent, Execution
from .objective_inputs import layer_argument
from .optimize import optimize
from .regularizers import total_variation
from .style_losses import content, content_targets

__all__ = ["invert_features"]


def invert_features(
    model: Any,
    image: Any,
    layer: str,
    *,
    steps: int = 200,
    tv_weight: float = 0.5,
    tv_power: float = 2.0,
    param: str = "pixel",
    step_size: float = 2.0,
    seed: int = 0,
    steps_per_call: int = 20,
    progress: Optional[bool] = None,
) -> np.ndarray:
    """Reconstruct an image from one layer's activations, starting from noise.

    Args:
        model: A `Backbone` or a Keras model taking pixels in `[0, 255]`.
        image: `(H, W, 3)` pixels in `[0, 255]` whose activations are inverted (the
            reconstruction has its size).
        layer: Layer name.
        steps: Adam steps.
        tv_weight: Weight of the total-variation prior, relative to the normalized feature
            distance (>= 0).
        tv_power: β of the TV prior (see `total_variation`).
        param: `"pixel"` (default), `"decorrelated"` or `"fourier"`.
        step_size: Adam learning rate (pixel levels for `"pixel"`).
        seed: Seed of the starting noise.
        steps_per_call: Steps per compiled call.
        progress: Show a progress bar (`None`: global setting).

    Returns:
        `uint8` `(H, W, 3)` reconstruction.

    Raises:
        ImageError: The image is invalid or a batch of several images.
        LayerNotFoundError: Unknown layer.
        ParameterError: Another argument is invalid.
    """
    batch, _ = as_image_batch(image, name="image")
    backbone = as_backbone(model)
    layer = layer_argument(layer)
    tv_weight = check_number(tv_weight, "tv_weight", low=0.0)
    steps = check_int(steps, "steps", low=1)
    target = content_targets(backbone, batch, [layer])[layer]
    scale = float(np.mean(np.square(target)))
    objective = -(content(layer, target) / max(scale, 1e-12))
    if tv_weight:
        objective = objective - tv_weight * total_variation(tv_power)
    result = optimize(
        backbone,
        objective,
        param=param,
        size=batch.shape[1:3],
        steps=steps,
        steps_per_call=steps_per_call,
        ascent=Ascent(optimizer="adam", step_size=step_size),
        regularization=PLAIN,
        execution=Execution(seed=seed, progress=progress, desc=f"invert {layer}"),
    )
    return to_uint8(result.images[0])
