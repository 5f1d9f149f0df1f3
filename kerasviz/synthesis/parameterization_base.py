"""The `Parameterization` base class: variables an optimizer changes, rendered to a pixel batch.

A parameterization holds `variables` (tf.Variables, image batch first) and renders them with
`image()` to float32 pixels `(N, H, W, 3)` in `[0, 255]`, differentiably. Subclasses implement
the pure tensor methods `render` / `encode` (and optionally `project`, `constants`, `random`);
the engine calls them with the variables' values passed in, so one compiled loop serves every
image size. The subclasses are `PixelImage`, `DecorrelatedImage` and `FourierImage`.
"""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from ..errors import ParameterError
from ..images import as_image_batch

__all__ = ["Parameterization"]


def _shape(shape: Any) -> Tuple[int, int, int]:
    """Validate `(N, H, W)`."""
    try:
        n, h, w = (int(v) for v in shape)
    except (TypeError, ValueError) as error:
        raise ParameterError(f"An image shape is (N, H, W) of positive integers. Received: shape={shape!r}") from error
    if n < 1 or h < 1 or w < 1:
        raise ParameterError(f"An image shape is (N, H, W) of positive integers. Received: shape={shape!r}")
    return n, h, w


class Parameterization:
    """Base class: variables that render to a pixel batch `(N, H, W, 3)` in `[0, 255]`.

    Subclasses implement `render`, `encode`, and optionally `project` and `constants`, all on
    tensors; `key` identifies the rendering code (one compiled engine loop per key). Every
    variable has the image batch as its first axis.

    Attributes:
        variables: List of `tf.Variable` the optimizer changes.
        shape: `(N, H, W)` of the rendered batch.
        default_step_size: The engine's step size when none is given, in this
            parameterization's units (0.05 for the smooth parameterizations).
    """

    default_step_size = 0.05

    def __init__(self, images: Any = None, *, shape: Optional[Sequence[int]] = None, seed: Optional[int] = None,
                 noise: float = 0.01) -> None:
        """Start from images, or from small random noise around grey.

        Args:
            images: Optional `(H, W, 3)` / `(N, H, W, 3)` pixels in `[0, 255]` to start from.
            shape: `(N, H, W)` when starting from noise (ignored when `images` is given).
            seed: Seed of the starting noise.
            noise: Standard deviation of the starting noise in the parameter space.

        Raises:
            ImageError: `images` are not valid pixel images.
            ParameterError: Neither images nor a valid shape, or bad noise.
        """
        if images is not None:
            batch, _ = as_image_batch(images)
            values = self.encode(tf.constant(batch))
        else:
            if shape is None:
                raise ParameterError("Give the images to start from or a shape (N, H, W). Received: neither")
            if not (isinstance(noise, (int, float)) and math.isfinite(noise) and noise >= 0):
                raise ParameterError(f"`noise` must be a finite number >= 0. Received: noise={noise!r}")
            values = self.random(_shape(shape), np.random.default_rng(seed), float(noise))
        self.variables = [tf.Variable(v, dtype=tf.float32, trainable=True) for v in values]

    # -- what subclasses provide --------------------------------------------------------------
    @property
    def key(self) -> Tuple[Any, ...]:
        """Hashable identity of the rendering code (class and structural options)."""
        return (type(self).__name__,)

    def random(self, shape: Tuple[int, int, int], rng: np.random.Generator, noise: float) -> Tuple[np.ndarray, ...]:
        """Initial values for an image batch of `shape` `(N, H, W)` that renders to grey ± noise."""
        raise NotImplementedError

    def render(self, values: Sequence[tf.Tensor], constants: Sequence[tf.Tensor] = ()) -> tf.Tensor:
        """Pixels `(N, H, W, 3)` in `[0, 255]` from variable values (graph-safe, differentiable)."""
        raise NotImplementedError

    def encode(self, pixels: tf.Tensor) -> Tuple[tf.Tensor, ...]:
        """Variable values that render to `pixels` (the inverse of `render`; graph-safe)."""
        raise NotImplementedError

    def project(self, values: Sequence[tf.Tensor], constants: Sequence[tf.Tensor] = ()) -> Tuple[tf.Tensor, ...]:
        """Values moved back into the feasible set after a step (identity by default)."""
        return tuple(values)

    def constants(self) -> Tuple[np.ndarray, ...]:
        """Arrays `render` / `project` read besides the variables (e.g. pixel bounds)."""
        return ()

    # -- conveniences ---------------------------------------------------------------------------
    @property
    def shape(self) -> Tuple[int, int, int]:
        """`(N, H, W)` of the rendered batch."""
        n, h, w, _ = self.image().shape
        return int(n), int(h), int(w)

    def image(self) -> tf.Tensor:
        """The current pixels `(N, H, W, 3)` in `[0, 255]`; call it inside a GradientTape."""
        return self.render(self.variables, tuple(tf.constant(c) for c in self.constants()))

    def assign(self, values: Sequence[Any]) -> None:
        """Replace the variables (new values may have a new image size)."""
        self.variables = [tf.Variable(v, dtype=tf.float32, trainable=True) for v in values]

    def assign_image(self, pixels: Any) -> None:
        """Set the variables so the parameterization renders `pixels` (any size)."""
        self.assign(self.encode(tf.convert_to_tensor(pixels, tf.float32)))

