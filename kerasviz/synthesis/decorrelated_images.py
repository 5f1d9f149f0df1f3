"""Olah et al.'s decorrelated parameterizations ("Feature Visualization", 2017), sigmoid-squashed.

- `DecorrelatedImage`: pixels in a decorrelated colour space: steps move along ImageNet's
  principal colour axes (`COLOR_CORRELATION_SQRT`), scaled by their spread, so optimization
  does not fight the strong correlation of R, G and B.
- `FourierImage`: the image's 2-D Fourier spectrum, each frequency scaled by `1 / f^decay`
  (the "fft" parameterization): gradient steps change low frequencies as much as high ones,
  which gives smoother, more natural images; decorrelated colour on top by default.

Both render `255 * sigmoid(logits)`, so pixels stay in `[0, 255]` without clipping.
"""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np
import tensorflow as tf

from ..errors import ParameterError
from .parameterization_base import Parameterization

__all__ = ["DecorrelatedImage", "FourierImage", "COLOR_CORRELATION_SQRT"]

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

