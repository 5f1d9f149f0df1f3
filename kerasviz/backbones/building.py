"""Turning a user's Keras model into what a `Backbone` holds: a pixels -> logits model and fields.

`classifier_from_model` traces the model (nested models opened, subclassed ones wrapped as one
node), removes a final softmax and puts the preprocessing in front; `backbone_fields` checks the
class names and chooses the default layer of each technique family. Used by `Backbone.from_model`
and `load_backbone`.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Sequence, Union

import keras

from ..errors import ModelError, ParameterError
from ..graph_nodes import is_graph_model
from ..graph_tracing import trace_model
from ..model_outputs import OutputKey
from .defaults import default_layers, functional_wrapper, is_classifier_output
from .preprocessing import PixelPreprocessing

__all__ = ["Preprocess", "backbone_fields", "classifier_from_model", "preprocessing_layer"]

#: What maps pixels in `[0, 255]` to a model's input: nothing, a mode, a layer or a callable.
Preprocess = Union[None, str, keras.layers.Layer, Callable[[Any], Any]]


def preprocessing_layer(preprocess: Preprocess) -> keras.layers.Layer:
    """The Keras layer that applies `preprocess` to pixels.

    Args:
        preprocess: A mode `"caffe" | "tf" | "torch"`, a Keras layer (returned as is), or a
            callable on tensors (wrapped in a `Lambda` layer named `"preprocess"`).

    Returns:
        A layer taking `(N, H, W, 3)` pixels in `[0, 255]`.

    Raises:
        ParameterError: `preprocess` is none of these.
    """
    if isinstance(preprocess, str):
        return PixelPreprocessing(preprocess)
    if isinstance(preprocess, keras.layers.Layer):
        return preprocess
    if callable(preprocess):
        return keras.layers.Lambda(preprocess, name="preprocess")
    raise ParameterError(
        "preprocess must be None, a mode ('caffe', 'tf', 'torch'), a Keras layer or a callable. "
        f"Received: preprocess={preprocess!r}"
    )


def classifier_from_model(
    model: Any,
    preprocess: Preprocess = None,
    *,
    output: OutputKey = None,
    input_shape: Optional[Sequence[Optional[int]]] = None,
) -> keras.Model:
    """A new Keras model from pixels to logits (or features) around a user's model.

    The user's model is never modified: it is traced on a fresh input, a final softmax is
    removed, and the preprocessing (if any) runs first.

    Args:
        model: A `keras.Model` with one RGB image input (graph or subclassed; see
            `Backbone.from_model`).
        preprocess: `None` (the model takes pixels) or what `preprocessing_layer` accepts.
        output: Which output of a multi-output model to use (name or index); `None` for a
            single-output model.
        input_shape: `(H, W, 3)` of one image: required for a subclassed model never built; for
            a graph model it fixes (or frees, with `None` sides) the input size.

    Returns:
        A Functional model `(N, H, W, 3)` -> `(N, C)` logits, or a headless model's features
        `(N, h, w, C)` / `(N, T, C)`; named after the user's model (`"<name>_logits"` without
        preprocessing).

    Raises:
        ModelError: Not a `keras.Model`, cannot be traced, no RGB image input, an output that is
            neither class scores nor features, several outputs and no `output=`, or a subclassed
            model whose input shape is unknown.
        ParameterError: `preprocess` is not a mode, layer or callable.
    """
    if not isinstance(model, keras.Model):
        raise ModelError(
            "Backbone.from_model needs a keras.Model. Received: model of type "
            f"{type(model).__name__}"
        )
    if not is_graph_model(model):
        model = functional_wrapper(model, input_shape)
        input_shape = None
    inputs, logits, _ = trace_model(model, input_shape=input_shape, output=output)
    if len(inputs.shape) != 4 or inputs.shape[-1] != 3:
        raise ModelError(
            "kerasviz needs a model taking RGB images (N, H, W, 3). Received: a model with "
            f"input shape {tuple(inputs.shape)}"
        )
    if len(logits.shape) not in (2, 3, 4):
        raise ModelError(
            "kerasviz needs a classifier with output (N, classes), or a headless model "
            "whose output is a feature map (N, h, w, C) or tokens (N, T, C). Received: a "
            f"model with output shape {tuple(logits.shape)}"
        )
    classifier = keras.Model(inputs, logits, name=f"{model.name}_logits")
    if preprocess is not None:
        pixels = keras.Input(shape=tuple(inputs.shape[1:]), name="pixels")
        layer = preprocessing_layer(preprocess)
        classifier = keras.Model(pixels, classifier(layer(pixels)), name=model.name)
    return classifier


def backbone_fields(
    model: keras.Model, class_names: Optional[Sequence[str]], **layers: Any
) -> Dict[str, Any]:
    """The `Backbone` fields besides `model` and `name`: input size, class names, default layers.

    Args:
        model: The backbone's model, `(N, H, W, 3)` pixels in `[0, 255]` -> logits or features.
        class_names: One name per output class, or `None`.
        **layers: Overrides for `gradcam_layer`, `content_layers`, `style_layers`,
            `dream_layers`, `first_conv_layer` (`None` keeps the default).

    Returns:
        `{"input_size": (H, W) or None, "class_names": list or None, "gradcam_layer": ...,
        ...}`: keyword arguments for `Backbone(model=..., name=..., **fields)`.

    Raises:
        ParameterError: An unknown layer override, class names for a headless model, or a
            number of class names other than the model's number of classes.
    """
    height, width = model.inputs[0].shape[1:3]
    input_size = (int(height), int(width)) if height and width else None
    defaults = default_layers(model)
    unknown = set(layers) - set(defaults)
    if unknown:
        raise ParameterError(
            f"Unknown layer defaults {sorted(unknown)}; use {sorted(defaults)}. "
            f"Received: {sorted(layers)}"
        )
    defaults.update({k: v for k, v in layers.items() if v is not None})
    if class_names is not None:
        if not is_classifier_output(model):
            raise ParameterError(
                "class_names need a classifier; this model is headless (output shape "
                f"{tuple(model.outputs[0].shape)}). Received: {len(class_names)} names"
            )
        class_names = list(class_names)
        if len(class_names) != int(model.outputs[0].shape[-1]):
            raise ParameterError(
                f"class_names has {len(class_names)} names but the model has "
                f"{model.outputs[0].shape[-1]} classes. Received: {len(class_names)} names"
            )
    return dict(input_size=input_size, class_names=class_names, **defaults)
