"""Image parameterizations: what the optimizer changes, and how it becomes a pixel image.

Each parameterization holds `variables` (tf.Variables) and renders them with `image()` to a
float32 batch `(N, H, W, 3)` in `[0, 255]`, differentiably, so it can be called inside a
`tf.GradientTape`. The engine uses the pure methods `render(values)` / `encode(pixels)` /
`project(values)` on tensors (graph-safe, with the variables' values passed in), so one compiled
loop serves every image size.

- `PixelImage`: the pixels themselves (the classic Simonyan / Yosinski setting), kept inside
  `[low, high]` bounds (the valid range, or an L∞ ball for adversarial examples).
- `DecorrelatedImage`: pixels in a decorrelated colour space squashed by a sigmoid (Olah et al.,
  "Feature Visualization", 2017): steps move along ImageNet's principal colour axes, scaled by
  their spread, so optimization does not fight the strong correlation of R, G and B.
- `FourierImage`: the image's 2-D Fourier spectrum, each frequency scaled by `1 / f^decay`
  (Olah et al.'s "fft" parameterization): gradient steps change low frequencies as much as
  high ones, which gives smoother, more natural images; decorrelated colour on top by default.
"""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from ..errors import ParameterError
from ..images import as_image_batch

__all__ = [
    "Parameterization",
    "PixelImage",
    "DecorrelatedImage",
    "FourierImage",
    "COLOR_CORRELATION_SQRT",
    "make_parameterization",
]

# ImageNet RGB covariance in its principal axes, as published with AlexNet's "PCA colour
# augmentation" (Krizhevsky et al., 2012; the values fb.resnet.torch and many others ship) for
# pixels in [0, 1]: eigenvalues and eigenvectors (columns).
_IMAGENET_EIGENVALUES = np.array([0.2175, 0.0188, 0.0045])
_IMAGENET_EIGENVECTORS = np.array(
    [
        [-0.5675, 0.7192, 0.4009],
        [-0.5808, -0.0045, -0.8140],
        [-0.5836, -0.6948, 0.4203],
    ]
)

#: A square root of ImageNet's colour covariance, `V · diag(√λ)`, scaled so its largest column
#: has unit norm: multiplying a white (uncorrelated, unit-variance) colour vector by it gives
#: colours with ImageNet's correlations. Row i gives channel (R, G, B)[i].
COLOR_CORRELATION_SQRT = (
    _IMAGENET_EIGENVECTORS * np.sqrt(_IMAGENET_EIGENVALUES)[None, :]
) / np.max(np.linalg.norm(_IMAGENET_EIGENVECTORS * np.sqrt(_IMAGENET_EIGENVALUES)[None, :], axis=0))
COLOR_CORRELATION_SQRT = COLOR_CORRELATION_SQRT.astype(np.float32)

_EPS = 1e-3  # keeps the logit of saturated pixels finite when encoding an image


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


def _to_colors(decorrelated: tf.Tensor) -> tf.Tensor:
    """Decorrelated colour space -> correlated RGB logits (per pixel `x @ M^T`)."""
    return tf.tensordot(decorrelated, tf.constant(COLOR_CORRELATION_SQRT.T), axes=1)


def _from_colors(rgb: tf.Tensor) -> tf.Tensor:
    return tf.tensordot(rgb, tf.constant(np.linalg.inv(COLOR_CORRELATION_SQRT).T.astype(np.float32)), axes=1)


def _logit(pixels: tf.Tensor) -> tf.Tensor:
    p = tf.clip_by_value(tf.cast(pixels, tf.float32) / 255.0, _EPS, 1.0 - _EPS)
    return tf.math.log(p) - tf.math.log1p(-p)


class DecorrelatedImage(Parameterization):
    """Pixels in ImageNet's decorrelated colour space, squashed into `[0, 255]` by a sigmoid."""

    def random(self, shape, rng, noise):
        n, h, w = shape
        return ((noise * rng.standard_normal((n, h, w, 3))).astype(np.float32),)

    def render(self, values, constants=()):
        return 255.0 * tf.sigmoid(_to_colors(values[0]))

    def encode(self, pixels):
        return (_from_colors(_logit(pixels)),)


class FourierImage(Parameterization):
    """An image as its 2-D spectrum, frequencies scaled by `1 / f^decay_power`, then colour and sigmoid."""

    def __init__(
        self,
        images: Any = None,
        *,
        shape: Optional[Sequence[int]] = None,
        seed: Optional[int] = None,
        noise: float = 0.01,
        decay_power: float = 1.0,
        decorrelate: bool = True,
    ) -> None:
        """A Fourier-space image.

        Args:
            images: Optional pixels `(H, W, 3)` / `(N, H, W, 3)` in `[0, 255]` to start from.
            shape: `(N, H, W)` when starting from noise.
            seed: Seed of the starting noise.
            noise: Standard deviation of the starting spectrum.
            decay_power: Exponent of the `1 / f` frequency scaling (0 = plain pixels, 1 = the
                natural-image spectrum, larger = smoother).
            decorrelate: Also use the decorrelated colour space.

        Raises:
            ParameterError: `decay_power` not finite or negative.
        """
        if not (isinstance(decay_power, (int, float)) and math.isfinite(decay_power) and decay_power >= 0):
            raise ParameterError(f"`decay_power` must be a finite number >= 0. Received: decay_power={decay_power!r}")
        self.decay_power = float(decay_power)
        self.decorrelate = bool(decorrelate)
        super().__init__(images, shape=shape, seed=seed, noise=noise)

    @property
    def key(self):
        return (type(self).__name__, self.decay_power, self.decorrelate)

    def _scale(self, height: tf.Tensor, width: tf.Tensor) -> tf.Tensor:
        """`(H, W//2+1)` factors `√(HW) / max(f, 1/max(H, W))^decay` of each frequency."""
        h = tf.cast(height, tf.float32)
        w = tf.cast(width, tf.float32)
        fy = tf.cast(tf.range(height), tf.float32)
        fy = tf.where(fy > h / 2, fy - h, fy) / h  # like numpy.fft.fftfreq
        fx = tf.cast(tf.range(width // 2 + 1), tf.float32) / w  # like numpy.fft.rfftfreq
        frequency = tf.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)
        floor = 1.0 / tf.maximum(h, w)
        return tf.sqrt(h * w) / tf.pow(tf.maximum(frequency, floor), self.decay_power)

    def random(self, shape, rng, noise):
        n, h, w = shape
        self.width = w
        # real and imaginary parts of each channel's spectrum: (N, 2, 3, H, W//2+1)
        return ((noise * rng.standard_normal((n, 2, 3, h, w // 2 + 1))).astype(np.float32),)

    def constants(self):
        # the image width: W//2+1 stored frequencies alone do not say whether W is odd
        return (np.int32(self.width),)

    def render(self, values, constants=()):
        spectrum = tf.convert_to_tensor(values[0])
        height = tf.shape(spectrum)[3]
        width = tf.convert_to_tensor(constants[0] if constants else self.width, tf.int32)
        scale = self._scale(height, width)
        complex_spectrum = tf.complex(spectrum[:, 0] * scale, spectrum[:, 1] * scale)
        spatial = tf.signal.irfft2d(complex_spectrum, fft_length=tf.stack([height, width]))  # (N, 3, H, W)
        logits = tf.transpose(spatial, (0, 2, 3, 1))
        if self.decorrelate:
            logits = _to_colors(logits)
        return 255.0 * tf.sigmoid(logits)

    def encode(self, pixels):
        logits = _logit(pixels)
        if self.decorrelate:
            logits = _from_colors(logits)
        spatial = tf.transpose(logits, (0, 3, 1, 2))
        height, width = tf.shape(spatial)[2], tf.shape(spatial)[3]
        if tf.executing_eagerly():
            self.width = int(width)
        spectrum = tf.signal.rfft2d(spatial, fft_length=tf.stack([height, width])) / tf.cast(
            self._scale(height, width), tf.complex64
        )
        return (tf.stack([tf.math.real(spectrum), tf.math.imag(spectrum)], axis=1),)


_KINDS = {"pixel": PixelImage, "decorrelated": DecorrelatedImage, "fourier": FourierImage}


def make_parameterization(
    param: Any, *, images: Any = None, shape: Optional[Sequence[int]] = None, seed: Optional[int] = None
) -> Parameterization:
    """A parameterization from a name (`"pixel"`, `"decorrelated"`, `"fourier"`) or an instance.

    Args:
        param: A name or a `Parameterization` (returned as is).
        images: Pixels to start from (for a name).
        shape: `(N, H, W)` to start from noise (for a name, when `images` is None).
        seed: Seed of the starting noise.

    Returns:
        A `Parameterization`.

    Raises:
        ParameterError: Unknown name or wrong type.
    """
    if isinstance(param, Parameterization):
        return param
    if isinstance(param, str) and param in _KINDS:
        return _KINDS[param](images, shape=shape, seed=seed)
    raise ParameterError(
        f"`param` must be one of {sorted(_KINDS)} or a Parameterization instance. Received: param={param!r}"
    )
