"""Running a transform network: validate the style mix, compile the call once, stylize batches."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ..checks import check_int
from ..compiled import cached
from ..errors import ImageError, ParameterError
from ..images import as_image_batch, to_uint8
from .network import IMAGES, MIN_SIZE, STYLE_WEIGHTS, transform_net_config

__all__ = ["check_style_weights", "compiled_stylize", "stylize"]


def check_style_weights(style_weights: Any, n_styles: int, n_images: int) -> np.ndarray:
    """Validate a convex style mix and broadcast it to one row per image.

    Args:
        style_weights: `None` (style 0 only), one mix `(n_styles,)`, or one per image
            `(n_images, n_styles)`; each row non-negative, finite and summing to 1.
        n_styles: Styles of the network.
        n_images: Images to stylize.

    Returns:
        float32 `(n_images, n_styles)`.

    Raises:
        ParameterError: Wrong length or shape, negative or non-finite values, rows not summing
            to 1 (within 1e-3).
    """
    if style_weights is None:
        weights = np.zeros((n_styles,), np.float32)
        weights[0] = 1.0
    else:
        try:
            weights = np.asarray(style_weights, dtype=np.float32)
        except (TypeError, ValueError) as error:
            raise ParameterError(f"`style_weights` must be numbers. Received: style_weights={style_weights!r}") from error
    if weights.ndim == 1:
        weights = np.broadcast_to(weights, (n_images,) + weights.shape)
    if weights.ndim != 2 or weights.shape != (n_images, n_styles):
        raise ParameterError(
            f"`style_weights` needs {n_styles} weights (one per style), or one such row per image "
            f"({n_images} images). Received: style_weights with shape {np.shape(style_weights)}"
        )
    if not np.all(np.isfinite(weights)) or (weights < 0).any() or np.abs(weights.sum(axis=1) - 1).max() > 1e-3:
        raise ParameterError(
            "`style_weights` must be a convex mix: non-negative, finite, each row summing to 1. "
            f"Received: style_weights={np.asarray(style_weights).tolist()}"
        )
    return np.ascontiguousarray(weights, dtype=np.float32)


def compiled_stylize(net: keras.Model, n_styles: int) -> Any:
    """The network's one compiled call (cached per network in `kerasviz.compiled`; never retraces per size).

    Args:
        net: A transform network.
        n_styles: Its number of styles.

    Returns:
        A `tf.function` `(images float32 (N, H, W, 3), style_weights float32 (N, n_styles)) ->
        float32 (N, H, W, 3)`, with a fixed input signature.
    """

    def build():
        images = tf.TensorSpec((None, None, None, 3), tf.float32)
        weights = tf.TensorSpec((None, n_styles), tf.float32)

        @tf.function(input_signature=(images, weights), reduce_retracing=True)
        def run(x, w):
            inputs = x if n_styles == 1 else {IMAGES: x, STYLE_WEIGHTS: w}
            return tf.cast(net(inputs, training=False), tf.float32)

        return run

    return cached(net, ("faststyle.stylize", n_styles), build)


def stylize(net: keras.Model, images: Any, style_weights: Any = None, batch_size: int = 8) -> np.ndarray:
    """Stylize images with a transform network (one compiled call per batch).

    Args:
        net: A network from `build_transform_net` (trained by `train_style_network`).
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`, uint8 or float, `H, W >= 4`.
        style_weights: For a multi-style network, a convex mix `(n_styles,)` or one per image
            `(N, n_styles)`; `None` means style 0. Ignored (must be `None` or `[1]`) for one style.
        batch_size: Images per compiled call, >= 1.

    Returns:
        uint8 `(H, W, 3)` or `(N, H, W, 3)`, matching the input.

    Raises:
        ImageError: Invalid images, or smaller than 4×4.
        ModelError: `net` is not a transform network.
        ParameterError: Bad `style_weights` or `batch_size`.
    """
    config = transform_net_config(net)
    batch, single = as_image_batch(images)
    if min(batch.shape[1:3]) < MIN_SIZE:
        raise ImageError(f"Images must be at least {MIN_SIZE}×{MIN_SIZE}. Received: images with shape {batch.shape}")
    batch_size = check_int(batch_size, "batch_size", low=1, high=1 << 16)
    weights = check_style_weights(style_weights, config["n_styles"], len(batch))
    run = compiled_stylize(net, config["n_styles"])
    parts = [
        run(tf.constant(batch[i : i + batch_size]), tf.constant(weights[i : i + batch_size])).numpy()
        for i in range(0, len(batch), batch_size)
    ]
    result = to_uint8(np.concatenate(parts))
    return result[0] if single else result
