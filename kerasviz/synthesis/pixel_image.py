"""`PixelImage`: the pixels themselves as the optimized variables, kept inside `[low, high]`.

The classic Simonyan / Yosinski setting. The bounds are the valid range `[0, 255]` by default,
or per-pixel arrays, e.g. an L∞ ball around an original image for adversarial examples.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
import tensorflow as tf

from ..errors import ParameterError
from .parameterization_base import Parameterization

__all__ = ["PixelImage"]


class PixelImage(Parameterization):
    """The pixels themselves, clipped to per-pixel bounds after every step."""

    #: One pixel level of mean |change| per step with normalized gradients.
    default_step_size = 1.0

    def __init__(
        self,
        images: Any = None,
        *,
        shape: Optional[Sequence[int]] = None,
        seed: Optional[int] = None,
        noise: float = 10.0,
        low: Any = 0.0,
        high: Any = 255.0,
    ) -> None:
        """Pixels in `[low, high]`.

        Args:
            images: Optional pixels `(H, W, 3)` / `(N, H, W, 3)` in `[0, 255]` to start from.
            shape: `(N, H, W)` when starting from noise.
            seed: Seed of the starting noise.
            noise: Standard deviation of the starting noise around grey (128), in pixel levels.
            low: Lower bound, a number or an array broadcastable to `(N, H, W, 3)` (e.g. the
                original image minus an L∞ budget); in `[0, 255]`.
            high: Upper bound, likewise.

        Raises:
            ParameterError: Bounds not finite, outside `[0, 255]`, or `low > high`.
        """
        super().__init__(images, shape=shape, seed=seed, noise=noise)
        bounds = []
        for name, value in (("low", low), ("high", high)):
            array = np.asarray(value, np.float32)
            if not np.all(np.isfinite(array)) or array.min() < 0 or array.max() > 255:
                raise ParameterError(f"`{name}` must be finite pixel values in [0, 255]. Received: {name} with "
                                     f"range [{array.min()}, {array.max()}]")
            bounds.append(array)
        if np.any(bounds[0] > bounds[1]):
            raise ParameterError("`low` must not exceed `high`. Received: low > high somewhere")
        self.low, self.high = bounds
        self.variables = [tf.Variable(self.project(self.variables, self.constants())[0])]

    def random(self, shape, rng, noise):
        n, h, w = shape
        return (np.clip(128.0 + noise * rng.standard_normal((n, h, w, 3)), 0, 255).astype(np.float32),)

    def render(self, values, constants=()):
        return tf.convert_to_tensor(values[0])

    def encode(self, pixels):
        return (tf.cast(pixels, tf.float32),)

    def project(self, values, constants=()):
        low, high = constants if constants else (0.0, 255.0)
        return (tf.clip_by_value(tf.convert_to_tensor(values[0]), low, high),)

    def constants(self):
        return (self.low, self.high) if hasattr(self, "low") else ()

    def assign(self, values):
        old_shape = tuple(self.variables[0].shape) if getattr(self, "variables", None) else None
        super().assign(values)
        if hasattr(self, "low") and tuple(self.variables[0].shape) != old_shape and (self.low.ndim or self.high.ndim):
            self.low, self.high = np.float32(0.0), np.float32(255.0)  # per-pixel bounds no longer fit a new size
