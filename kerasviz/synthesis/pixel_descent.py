"""Minimizing a loss objective over one image's pixels: SciPy L-BFGS-B on the engine's compiled
value-and-gradient, or Adam on the engine's loop. Shared by style transfer and texture synthesis."""

from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np
import tensorflow as tf

from ..progress import progress_bar
from .ascent_options import PLAIN, Ascent, Execution
from .engine import bind, value_and_gradient
from .objective_type import Objective
from .optimize import optimize

__all__ = ["minimize_pixels", "noise_image"]


def noise_image(shape: Tuple[int, int], seed: Optional[int], spread: float = 40.0) -> np.ndarray:
    """Mid-grey Gaussian noise `(H, W, 3)` float32 in [0, 255]: the `init="noise"` start of style
    transfer (`spread=40`) and the start of texture synthesis (`spread=8`).

    Args:
        shape: `(height, width)`.
        seed: Random seed.
        spread: Standard deviation in pixel levels (>= 0).

    Returns:
        float32 pixels.
    """
    rng = np.random.default_rng(seed)
    return np.clip(127.5 + spread * rng.standard_normal((*shape, 3)), 0.0, 255.0).astype(np.float32)


def _run_lbfgs(backbone, loss: Objective, start: np.ndarray, steps: int, progress, desc) -> np.ndarray:
    """SciPy L-BFGS-B over pixels / 255 in [0, 1]: its first step has unit norm, which in pixel
    units would move a whole image by one grey level and stall in float32 round-off."""
    from scipy.optimize import minimize

    bound = bind(backbone, loss)
    shape = (1, *start.shape)

    def function(flat: np.ndarray):
        scores, gradient = value_and_gradient(bound, loss, tf.constant(255.0 * flat.reshape(shape), tf.float32))
        return float(scores[0]), 255.0 * gradient.numpy().astype(np.float64).ravel()

    with progress_bar(total=steps, desc=desc, progress=progress, unit="step") as bar:
        result = minimize(
            function, start.astype(np.float64).ravel() / 255.0, jac=True, method="L-BFGS-B",
            bounds=[(0.0, 1.0)] * start.size, callback=lambda _: bar.update(1),
            options=dict(maxiter=steps, maxfun=2 * steps + 10, ftol=0.0, gtol=0.0, maxcor=20),
        )
    return 255.0 * result.x.reshape(start.shape).astype(np.float32)


def minimize_pixels(
    backbone: Any, start: np.ndarray, loss: Objective, *, steps: int, optimizer: str, learning_rate: float,
    seed: Optional[int], progress: Optional[bool], desc: str,
) -> np.ndarray:
    """Minimize a loss objective over the pixels of `start` (style transfer and texture synthesis).

    Args:
        backbone: The backbone.
        start: `(H, W, 3)` float32 starting pixels in [0, 255].
        loss: The (transformed, weighted) loss objective.
        steps: L-BFGS iterations or Adam steps.
        optimizer: `"lbfgs"` (the engine's `value_and_gradient`) or `"adam"` (the engine's
            `optimize`: no transforms, raw gradients, several steps per compiled call).
        learning_rate: Adam's step in pixel units.
        seed: Seed passed to the engine.
        progress: Progress bar switch.
        desc: Progress bar label.

    Returns:
        `(H, W, 3)` float32 pixels in [0, 255].
    """
    if optimizer == "lbfgs":
        return _run_lbfgs(backbone, loss, start, steps, progress, desc)
    result = optimize(
        backbone, -loss, images=start, steps=steps, ascent=Ascent(optimizer="adam", step_size=learning_rate,
                                                                  normalize_grad=False),
        regularization=PLAIN, execution=Execution(seed=seed, progress=progress, desc=desc),
    )
    return result.images[0]


