"""Compiled, cached forward passes to one layer: the engine of every inspect function.

`layer_function(model, layer, reduce)` returns a `tf.function` with a fixed input signature that
maps pixels `(N, H, W, 3)` to one layer's output, reduced for its use (global-average-pooled
features, one channel's map, or the whole map). Where the layers up to `layer` run at any image
size (convolutions, pooling), the signature leaves height and width free, so one trace serves
every size; otherwise it fixes the model's own input size. Token layers of vision transformers
`(N, tokens, C)` become `(N, h, w, C)` maps inside the function (`kerasviz.tokens`). Functions
are cached in `kerasviz.compiled` per (Keras model, layer, reduction, token grid), so repeated
calls never retrace.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Tuple

import keras
import tensorflow as tf

from ..backbones import Backbone
from ..compiled import cached
from ..errors import ModelError
from ..features import FeatureModel
from ..graph_nodes import find_layer, opaque_models
from ..graph_tracing import trace_model
from ..tokens import TokenGrid, is_token_shape, token_grid, tokens_to_maps

__all__ = ["LayerFunction", "layer_function", "layer_map", "penultimate_layer", "spatial_layer"]

# How a layer's output is reduced inside the compiled function.
_REDUCTIONS = ("pool", "channel", "map")


class LayerFunction:
    """A compiled pixels -> layer-output function and the input size it accepts.

    Attributes:
        fn: The `tf.function`; `fn(pixels)` (or `fn(pixels, channel)` for `"channel"`).
        input_size: `(height, width)` the function needs, or `None` when any size works.
        output_shape: The layer's output shape without the batch axis, as traced.
    """

    def __init__(self, fn: Callable, input_size: Optional[Tuple[int, int]], output_shape: tuple):
        self.fn = fn
        self.input_size = input_size
        self.output_shape = output_shape

    def check_size(self, size: Tuple[int, int], layer: str) -> None:
        """Raise `ModelError` when images of `size` cannot run through this function."""
        if self.input_size is not None and tuple(size) != tuple(self.input_size):
            raise ModelError(
                f"Layer {layer!r} can only be computed on images of size {self.input_size} (a "
                "layer on its path needs the model's own input size); resize them, e.g. "
                f"`kerasviz.load_image(path, size={self.input_size})`. Received: images of size "
                f"{tuple(size)}"
            )


def penultimate_layer(backbone: Backbone) -> str:
    """The name of the layer feeding the classifier (the layer that computes the logits).

    For Lite0 that is `top_dropout` (the pooled 1280-d vector); for VGG16 `fc2` (4096-d). For a
    headless backbone it is the layer making the output itself (its features).

    Args:
        backbone: The Backbone.

    Returns:
        A layer name accepted by `FeatureModel`.

    Raises:
        ModelError: The classifier is applied to the model input directly.
    """
    producers = {}

    def record(layer, *args, **kwargs):
        out = layer(*args, **kwargs)
        producers[id(out)] = (layer, args)
        return out

    _, logits, taps = trace_model(backbone.model, call_layer=record)
    feeding = logits
    if backbone.has_classifier:
        # Back through weightless reshaping (e.g. MobileNetV3: 1x1 conv -> Flatten) to the
        # layer with weights that computes the scores; its input is the feature.
        while id(feeding) in producers:
            layer, args = producers[id(feeding)]
            feeding = args[0] if args else None
            if getattr(layer, "weights", None):
                break
    for name, tensor in taps.items():
        if tensor is feeding and "/" not in name:
            return name
    hidden = opaque_models(backbone)
    if hidden:
        raise ModelError(
            f"The features of {backbone.name!r} are inside subclassed model(s) {hidden}, whose "
            "layers are hidden. Build the network with the functional API (keras.Input -> "
            "layers -> keras.Model) to extract its features. Received: layer=None"
        )
    raise ModelError(
        f"Cannot find the layer feeding the classifier of {backbone.name!r}; name the layer whose "
        "features you want with `layer=`. Received: layer=None"
    )


def _output_shape(backbone: Backbone, layer: str) -> tuple:
    if not isinstance(layer, str):
        raise ModelError(f"`layer` must be a layer name (str). Received: layer={layer!r}")
    find_layer(backbone.model, layer)
    return tuple(FeatureModel(backbone, [layer], logits=False).model.outputs[0].shape)


def spatial_layer(backbone: Backbone, layer: str) -> tuple:
    """Check that `layer` outputs a 4-D feature map and return its shape without the batch axis.

    Args:
        backbone: The Backbone.
        layer: Layer name.

    Returns:
        `(h, w, C)` as traced at the model's input size (entries may be `None`).

    Raises:
        LayerNotFoundError: No such layer.
        ModelError: The layer's output is not a `(N, h, w, C)` feature map (token layers
            included: their units attend to the whole image, so they have no receptive field).
    """
    shape = _output_shape(backbone, layer)
    if len(shape) != 4:
        kind = "tokens: each attends to the whole image, so" if is_token_shape(shape) else "not"
        raise ModelError(
            f"Layer {layer!r} outputs shape {shape} ({kind} a (N, h, w, C) feature map with "
            "local receptive fields); pick a convolutional layer (see "
            f"`kerasviz.layer_names(model)`). Received: layer={layer!r}"
        )
    return shape[1:]


def layer_map(
    backbone: Backbone,
    layer: str,
    *,
    grid: Optional[Any] = None,
    skip_tokens: Optional[int] = None,
) -> Tuple[tuple, Optional[TokenGrid]]:
    """The `(h, w, C)` map a layer gives: a feature map, or a token layer on its patch grid.

    Args:
        backbone: The Backbone.
        layer: Layer name.
        grid: For a token layer: `(h, w)` patch grid, or `None` to detect it.
        skip_tokens: For a token layer: leading class / register tokens, or `None` to detect.

    Returns:
        `((h, w, C), token_grid)`: `token_grid` is `None` for a feature map.

    Raises:
        LayerNotFoundError: No such layer.
        ModelError: Neither a feature map nor tokens on a square (or given) grid.
    """
    shape = _output_shape(backbone, layer)
    if len(shape) == 4 and grid is None and skip_tokens is None:
        return shape[1:], None
    found = token_grid(shape, grid=grid, skip_tokens=skip_tokens, layer=layer)
    return (found.height, found.width, shape[-1]), found


def _feature_model(backbone: Backbone, layer: str) -> Tuple[keras.Model, Optional[Tuple[int, int]]]:
    """The layer's FeatureModel at any image size if its path allows, else at the model's size."""
    try:
        model = FeatureModel(backbone, [layer], logits=False, input_shape=(None, None, 3)).model
        return model, None
    except (ValueError, TypeError):  # ModelError, or Keras refusing a size-dependent layer
        model = FeatureModel(backbone, [layer], logits=False).model
        height, width = model.inputs[0].shape[1:3]
        return model, (int(height), int(width))


def _layer_output(
    model: keras.Model, layer: str, images: tf.Tensor, grid: Optional[TokenGrid]
) -> tf.Tensor:
    output = model(images, training=False)[layer]
    return output if grid is None else tokens_to_maps(output, grid)


def _reduce(output: tf.Tensor, reduction: str, channel: Optional[tf.Tensor]) -> tf.Tensor:
    if reduction == "pool":
        if output.shape.rank == 4:
            return tf.reduce_mean(output, axis=(1, 2))
        return tf.reshape(output, (tf.shape(output)[0], -1))
    if reduction == "channel":
        return tf.gather(output, channel, axis=-1)
    return output


def layer_function(
    backbone: Backbone, layer: str, reduction: str, grid: Optional[TokenGrid] = None
) -> LayerFunction:
    """The cached compiled forward pass from pixels to `layer`, reduced.

    Args:
        backbone: The Backbone (pixels in `[0, 255]`).
        layer: Layer name (validated by the caller).
        reduction: `"pool"`: `(N, D)` features, 4-D maps global-average-pooled, other ranks
            flattened; `"channel"`: `(N, h, w)` map of one channel, given as a second int32
            argument; `"map"`: the raw `(N, h, w, C)` output.
        grid: For a token layer `(N, T, C)`: its `TokenGrid` (from `layer_map`); the tokens are
            turned into an `(N, h, w, C)` map before the reduction.

    Returns:
        A `LayerFunction`; its `fn` has a fixed input signature (no retracing across calls).
    """
    if reduction not in _REDUCTIONS:
        raise ValueError(reduction)
    key = ("inspect.layer_function", layer, reduction, grid)
    return cached(backbone.model, key, lambda: _compile(backbone, layer, reduction, grid))


def _compile(
    backbone: Backbone, layer: str, reduction: str, grid: Optional[TokenGrid]
) -> LayerFunction:
    model, size = _feature_model(backbone, layer)
    pixels = tf.TensorSpec((None, *(size or (None, None)), 3), tf.float32)
    if reduction == "channel":

        @tf.function(input_signature=[pixels, tf.TensorSpec((), tf.int32)], jit_compile=False)
        def fn(images, channel):
            return _reduce(_layer_output(model, layer, images, grid), reduction, channel)

    else:

        @tf.function(input_signature=[pixels], jit_compile=False)
        def fn(images):
            return _reduce(_layer_output(model, layer, images, grid), reduction, None)

    shape = tuple(model.outputs[0].shape[1:])
    if grid is not None:
        shape = (grid.height, grid.width, shape[-1])
    return LayerFunction(fn, size, shape)
