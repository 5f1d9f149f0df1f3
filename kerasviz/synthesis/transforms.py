"""Image-space operations of the gradient-ascent engine, batched and graph-safe.

- `Transforms`: random jitter, scale and rotation applied to the image inside the tape every
  step (Mordvintsev et al.'s "transformation robustness"), as ONE random affine warp per image
  (vectorized on the batch, reflect padding, bilinear sampling, differentiable).
- `gaussian_blur`: the periodic blur of Yosinski et al. (2015).
- `clip_small_pixels`: Yosinski et al.'s clipping of pixels with a small norm or a small
  contribution (|pixel · gradient|) to the objective, set back to grey.
- `tiles` / `random_roll`: cut an image into a batch of tiles (DeepDream on large images).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Tuple

import numpy as np
import tensorflow as tf

from ..errors import ParameterError

__all__ = ["Transforms", "random_affine", "gaussian_blur", "clip_small_pixels", "tiles", "untile", "GREY"]

#: The neutral pixel value small pixels are clipped to (the centre of `[0, 255]`).
GREY = 127.5


@dataclass(frozen=True)
class Transforms:
    """Random transforms applied to the image before the model sees it, each step.

    Attributes:
        jitter: Largest random shift in pixels (uniform in `[-jitter, jitter]` per axis).
        scale: `(low, high)` range of the random zoom factor.
        degrees: Largest random rotation in degrees (uniform in `[-degrees, degrees]`).
    """

    jitter: float = 8.0
    scale: Tuple[float, float] = (0.9, 1.1)
    degrees: float = 10.0

    def __post_init__(self) -> None:
        values = (self.jitter, self.degrees, *tuple(self.scale))
        if len(tuple(self.scale)) != 2 or not all(
            isinstance(v, (int, float, np.floating, np.integer)) and math.isfinite(v) for v in values
        ):
            raise ParameterError(
                "Transforms need finite numbers: jitter, degrees and scale=(low, high). "
                f"Received: jitter={self.jitter!r}, scale={self.scale!r}, degrees={self.degrees!r}"
            )
        low, high = self.scale
        if self.jitter < 0 or self.degrees < 0 or not 0 < low <= high:
            raise ParameterError(
                "Transforms need jitter >= 0, degrees >= 0 and 0 < scale[0] <= scale[1]. "
                f"Received: jitter={self.jitter!r}, scale={self.scale!r}, degrees={self.degrees!r}"
            )

    @property
    def is_identity(self) -> bool:
        """Whether the transforms leave images unchanged."""
        return self.jitter == 0 and self.degrees == 0 and tuple(self.scale) == (1.0, 1.0)

    def values(self) -> np.ndarray:
        """`[jitter, scale_low, scale_high, degrees]` float32, the engine's tensor input."""
        return np.array([self.jitter, self.scale[0], self.scale[1], self.degrees], np.float32)


def random_affine(images: tf.Tensor, settings: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """One random shift + zoom + rotation per image, about the image centre.

    Args:
        images: `(N, H, W, C)` float32.
        settings: `[jitter, scale_low, scale_high, degrees]` (see `Transforms.values`).
        seed: `(2,)` int32 stateless-random seed.

    Returns:
        Warped images, same shape; borders filled by reflection.
    """
    n = tf.shape(images)[0]
    height = tf.cast(tf.shape(images)[1], tf.float32)
    width = tf.cast(tf.shape(images)[2], tf.float32)
    draws = tf.random.stateless_uniform((4, n), seed=seed, minval=-1.0, maxval=1.0)
    jitter, scale_low, scale_high, degrees = settings[0], settings[1], settings[2], settings[3]
    shift_x, shift_y = draws[0] * jitter, draws[1] * jitter
    zoom = scale_low + (draws[2] + 1.0) / 2.0 * (scale_high - scale_low)
    angle = draws[3] * degrees * (math.pi / 180.0)
    cos, sin = tf.cos(angle) / zoom, tf.sin(angle) / zoom
    cx, cy = (width - 1.0) / 2.0, (height - 1.0) / 2.0
    # output (x, y) samples input (a0 x + a1 y + a2, b0 x + b1 y + b2)
    transform = tf.stack(
        [
            cos,
            -sin,
            cx - cos * cx + sin * cy + shift_x,
            sin,
            cos,
            cy - sin * cx - cos * cy + shift_y,
            tf.zeros_like(cos),
            tf.zeros_like(cos),
        ],
        axis=1,
    )
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transform,
        output_shape=tf.shape(images)[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="REFLECT",
    )


def gaussian_blur(images: tf.Tensor, sigma: tf.Tensor) -> tf.Tensor:
    """Separable Gaussian blur of every channel, reflect-padded (graph-safe, dynamic sigma).

    Args:
        images: `(N, H, W, C)` float32.
        sigma: Standard deviation in pixels (> 0); the kernel spans ±⌈3σ⌉.

    Returns:
        Blurred images, same shape.
    """
    sigma = tf.cast(sigma, tf.float32)
    channels = tf.shape(images)[3]
    radius = tf.cast(tf.math.ceil(3.0 * sigma), tf.int32)
    # the reflect padding must stay smaller than the image
    radius = tf.maximum(tf.minimum(radius, tf.minimum(tf.shape(images)[1], tf.shape(images)[2]) - 1), 0)
    offsets = tf.cast(tf.range(-radius, radius + 1), tf.float32)
    kernel = tf.exp(-0.5 * tf.square(offsets / sigma))
    kernel = kernel / tf.reduce_sum(kernel)
    padded = tf.pad(images, [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode="REFLECT")
    along_y = tf.tile(tf.reshape(kernel, (-1, 1, 1, 1)), tf.stack([1, 1, channels, 1]))
    along_x = tf.tile(tf.reshape(kernel, (1, -1, 1, 1)), tf.stack([1, 1, channels, 1]))
    out = tf.nn.depthwise_conv2d(padded, along_y, strides=[1, 1, 1, 1], padding="VALID")
    return tf.nn.depthwise_conv2d(out, along_x, strides=[1, 1, 1, 1], padding="VALID")


def _below_percentile(values: tf.Tensor, percentile: tf.Tensor) -> tf.Tensor:
    """Mask `(N, H, W)` of entries strictly below each image's `percentile` (0..100)."""
    n = tf.shape(values)[0]
    flat = tf.reshape(values, (n, -1))
    count = tf.shape(flat)[1]
    rank = tf.cast(tf.floor(percentile / 100.0 * tf.cast(count - 1, tf.float32)), tf.int32)
    threshold = tf.gather(tf.sort(flat, axis=1), rank, axis=1)
    return values < threshold[:, None, None]


def clip_small_pixels(
    images: tf.Tensor, gradients: tf.Tensor, norm_percentile: tf.Tensor, contribution_percentile: tf.Tensor
) -> tf.Tensor:
    """Set pixels with a small norm or a small contribution to grey (Yosinski et al., 2015).

    Args:
        images: `(N, H, W, 3)` pixels in `[0, 255]`.
        gradients: `(N, H, W, 3)` gradient of the objective with respect to the pixels.
        norm_percentile: Pixels whose colour distance from grey is below this percentile (0..100)
            of the image's pixels are set to grey; 0 disables.
        contribution_percentile: Pixels whose |Σ_channels (pixel - grey) · gradient| is below
            this percentile are set to grey; 0 disables.

    Returns:
        The clipped images.
    """
    centred = images - GREY
    small = tf.zeros(tf.shape(images)[:3], tf.bool)
    small = tf.logical_or(
        small,
        tf.logical_and(norm_percentile > 0, _below_percentile(tf.norm(centred, axis=-1), norm_percentile)),
    )
    contribution = tf.abs(tf.reduce_sum(centred * gradients, axis=-1))
    small = tf.logical_or(
        small,
        tf.logical_and(contribution_percentile > 0, _below_percentile(contribution, contribution_percentile)),
    )
    return tf.where(small[..., None], tf.fill(tf.shape(images), GREY), images)


def tiles(images: tf.Tensor, tile_size: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
    """Cut images into a batch of square tiles (the last row / column reflect-padded).

    Args:
        images: `(N, H, W, C)`.
        tile_size: Tile side in pixels; clipped to the image's smaller side.

    Returns:
        `(batch, count)`: tiles `(N * count, T, T, C)` (image-major order) and tiles per image.
    """
    shape = tf.shape(images)
    tile = tf.minimum(tf.cast(tile_size, tf.int32), tf.minimum(shape[1], shape[2]))
    pad_y, pad_x = (-shape[1]) % tile, (-shape[2]) % tile
    padded = tf.pad(images, [[0, 0], [0, pad_y], [0, pad_x], [0, 0]], mode="REFLECT")
    rows, cols = (shape[1] + pad_y) // tile, (shape[2] + pad_x) // tile
    grid = tf.reshape(padded, tf.stack([shape[0], rows, tile, cols, tile, shape[3]]))
    grid = tf.transpose(grid, (0, 1, 3, 2, 4, 5))
    return tf.reshape(grid, tf.stack([shape[0] * rows * cols, tile, tile, shape[3]])), rows * cols


def untile(values: tf.Tensor, count: tf.Tensor) -> tf.Tensor:
    """Mean of per-tile scores `(N * count,)` per image -> `(N,)`."""
    return tf.reduce_mean(tf.reshape(values, tf.stack([-1, count])), axis=1)
