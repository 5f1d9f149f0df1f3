"""Random views of a training batch for the loss network: the same shift or flips of the stylized
images and their content crops, so the transform network cannot park blobs where the loss network
does not look (its borders, fixed spots of its stride-2 "same" padding)."""

from __future__ import annotations

from typing import Tuple

import tensorflow as tf

__all__ = ["random_window", "random_flips"]


def random_window(jitter: int, *images: tf.Tensor, seed: tf.Tensor) -> Tuple[tf.Tensor, ...]:
    """Crop every batch to the same random window, `jitter` pixels smaller in height and width.

    Args:
        jitter: Pixels, >= 1; the window's top-left corner is drawn from `[0, jitter]²`.
        *images: `(N, H, W, C)` batches of the same height and width (> `jitter`).
        seed: int `(2,)` stateless seed (e.g. `(seed, step)`: a resumed run draws the same).

    Returns:
        The batches cropped alike to `(N, H − jitter, W − jitter, C)`.
    """
    offset = tf.random.stateless_uniform([2], seed, 0, jitter + 1, tf.int32)
    size = tf.shape(images[0])[1:3] - jitter
    return tuple(tf.slice(batch, [0, offset[0], offset[1], 0], [-1, size[0], size[1], -1]) for batch in images)


def random_flips(*images: tf.Tensor, seed: tf.Tensor) -> Tuple[tf.Tensor, ...]:
    """Flip every batch the same way: up-down and left-right, each with probability 1/2.

    Args:
        *images: `(N, H, W, C)` batches.
        seed: int `(2,)` stateless seed (e.g. `(seed, step)`: a resumed run draws the same).

    Returns:
        The batches, flipped alike.
    """
    flip = tf.random.stateless_uniform([2], seed, 0, 2, tf.int32) > 0
    flipped = []
    for batch in images:
        batch = tf.where(flip[0], tf.reverse(batch, [1]), batch)
        flipped.append(tf.where(flip[1], tf.reverse(batch, [2]), batch))
    return tuple(flipped)
