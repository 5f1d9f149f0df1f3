"""Attribution overlays and activation grids of fixed images, as the training callbacks show them
(`attribution_pictures`), and writing one picture to TensorBoard.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Sequence, Union

import keras
import numpy as np
import tensorflow as tf

from ..checks import check_names
from ..compiled import cached
from ..errors import ParameterError
from ..features import FeatureModel
from ..images import (
    image_grid,
    normalize_map,
    overlay_heatmap,
)
from ..metrics.deletion import attribution_maps

__all__ = [
    "Method",
    "Methods",
    "activation_grid_function",
    "attribution_pictures",
    "channel_grid",
    "resolve_methods",
    "write_image_summary",
]

Method = Callable[..., Any]
Methods = Union[str, Sequence[str], Mapping[str, Method]]


def resolve_methods(methods: Methods) -> Dict[str, Method]:
    """`{name: fn}` from attribution function names (e.g. `"gradcam"`) or a `{name: fn}` dict."""
    from .. import attribution

    if isinstance(methods, Mapping):
        resolved = dict(methods)
        bad = [name for name, fn in resolved.items() if not callable(fn)]
        if not resolved or bad:
            raise ParameterError(
                "`methods` must map names to attribution functions fn(model, images, target). "
                f"Received: methods={methods!r}"
            )
        return resolved
    names = check_names(methods, "methods")
    resolved = {}
    for name in names:
        fn = getattr(attribution, name, None)
        if name not in attribution.__all__ or not callable(fn) or isinstance(fn, type):
            raise ParameterError(
                f"Unknown attribution method {name!r}; use a function name from "
                "kerasviz.attribution (e.g. 'gradcam', 'saliency', 'integrated_gradients') or "
                f"a dict {{name: fn(model, images, target)}}. Received: methods={methods!r}"
            )
        resolved[name] = fn
    return resolved


def activation_grid_function(model: keras.Model, layers: tuple) -> Any:
    """The cached compiled forward pass from pixels to the named layers' activations."""
    """The cached compiled forward pass `pixels -> {layer: activations}` of a model."""

    def build():
        features = FeatureModel(model, list(layers), logits=False).model
        shape = tuple(model.inputs[0].shape[1:])

        @tf.function(input_signature=[tf.TensorSpec((None, *shape), tf.float32)])
        def activations(images):
            return features(images, training=False)

        return activations

    return cached(model, ("callback_activations", layers), build)


def channel_grid(activations: np.ndarray, max_channels: int, tile: int) -> np.ndarray:
    """The first `max_channels` channels of one image's `(h, w, K)` (or token) activations."""
    if activations.ndim != 3:  # dense / token outputs: one row of values
        activations = activations.reshape(1, -1, 1) if activations.ndim == 1 else activations[None]
    channels = np.moveaxis(activations[..., :max_channels], -1, 0)
    labels = [str(k) for k in range(len(channels))]
    return image_grid(normalize_map(channels) * 255.0, labels=labels, tile_size=tile)


def attribution_pictures(
    model: keras.Model,
    images: np.ndarray,
    methods: Mapping[str, Method],
    target: Any = None,
    *,
    activation_layers: Sequence[str] = (),
    max_channels: int = 16,
    tile_size: int = 96,
) -> Dict[str, np.ndarray]:
    """One picture per method (overlays of every image) and per activation layer.

    Args:
        model: A pixels-in `keras.Model` (or `Backbone`).
        images: float32 `(N, H, W, 3)` pixels in `[0, 255]`.
        methods: `{name: fn(model, images, target)}`; outputs as `attribution_maps` takes them
            (per-colour attributions are shown as their absolute value summed over colours).
        target: Class index, one per image, callable, or `None` (predicted classes).
        activation_layers: Layers whose channels of the first image to show.
        max_channels: Channels per activation grid.
        tile_size: Side of each tile in pixels.

    Returns:
        `{"attribution/NAME": uint8 (H, W, 3), "activations/LAYER": uint8 (H, W, 3)}`.
    """
    pictures = {}
    for name, fn in methods.items():
        result = fn(model, images, target)
        raw = np.asarray(getattr(result, "attributions", result))
        maps = attribution_maps(np.abs(raw) if raw.ndim == 4 else raw)
        maps = normalize_map(np.abs(maps[None] if maps.ndim == 2 else maps))
        overlays = overlay_heatmap(images, maps)
        pictures[f"attribution/{name}"] = image_grid(
            list(overlays), ncols=len(images), tile_size=tile_size
        )
    if activation_layers:
        keras_model = getattr(model, "model", model)
        outputs = activation_grid_function(keras_model, tuple(activation_layers))(
            tf.constant(images[:1], tf.float32)
        )
        for layer in activation_layers:
            pictures[f"activations/{layer}"] = channel_grid(
                outputs[layer].numpy()[0], max_channels, max(tile_size // 2, 16)
            )
    return pictures


def write_image_summary(tag: str, picture: np.ndarray, step: int) -> None:
    """Write one uint8 `(H, W, 3)` picture as a TensorBoard image summary to the default writer.

    The summary is what `tf.summary.image` writes (plugin `"images"`, tensor `[width, height,
    PNG]`), built with core TensorFlow so that the `tensorboard` package is not needed to log.

    Args:
        tag: Summary tag, e.g. `"attribution/gradcam"`.
        picture: uint8 `(H, W, 3)`.
        step: Step (epoch) of the summary.
    """
    metadata = tf.compat.v1.SummaryMetadata()
    metadata.plugin_data.plugin_name = "images"
    height, width = picture.shape[:2]
    png = tf.io.encode_png(tf.constant(picture, tf.uint8))
    tensor = tf.stack([tf.as_string(width), tf.as_string(height), png])
    tf.summary.write(tag, tensor, step=step, metadata=metadata)
