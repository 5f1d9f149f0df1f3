"""Named-layer outputs of any Keras model in one call: nested models flattened, softmax stripped.

`FeatureModel(model, ["block4_conv2", "block5_conv3"])` builds one multi-output Keras model that
returns `{"block4_conv2": ..., "block5_conv3": ..., "logits": ...}`. Nested models (a Sequential
holding a Functional base, or a Backbone's preprocessing + base) are traced inline so their
inner layers are reachable; a final softmax is removed so `"logits"` is pre-softmax. Keras 3
operation nodes (`x + y`, `keras.ops.*`) are addressable by name like layers. Built models are
cached per (model, layers, input shape) in `kerasviz.compiled`, so techniques can ask for one on
every call. Graph walking itself lives in `kerasviz.graph`.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Tuple

import keras

from .compiled import cached
from .errors import ModelError
from .graph import OutputKey
from .graph_nodes import find_layer
from .graph_tracing import Tracer, trace_graph
from .model_outputs import select_output

__all__ = [
    "FeatureModel",
    "LOGITS",
]

#: Key of the pre-softmax output in a FeatureModel's result.
LOGITS = "logits"


def _build(
    model: keras.Model,
    names: Tuple[str, ...],
    logits: bool,
    input_shape: Optional[tuple],
    output: OutputKey,
) -> keras.Model:
    inputs, outputs, tracer = trace_graph(model, None, None)
    taps = tracer.taps
    missing = [n for n in names if n not in taps]
    if missing:
        find_layer(model, missing[0])  # raises LayerNotFoundError / ModelError
        raise ModelError(
            f"Node {missing[0]!r} of {model.name!r} is not on the path from the input to the "
            f"outputs, so it cannot be computed from an image. Received: layer={missing[0]!r}"
        )
    result = {name: taps[name] for name in names}
    if logits:
        result[LOGITS] = tracer.logits(select_output(model, outputs, output))
    if not result:
        raise ModelError(
            "Ask for at least one layer, or for the logits. Received: layer_names=[], logits=False"
        )
    built = keras.Model(inputs, result, name=f"{model.name}_features")
    if input_shape is not None and tuple(input_shape) != tuple(inputs.shape[1:]):
        # Re-run the pruned graph (only the nodes the outputs need) on an input of the new size.
        new_inputs = keras.Input(shape=tuple(input_shape))
        resized = Tracer(None)
        out = resized.run(built, new_inputs)
        fixed = [
            name
            for name, tensor in resized.taps.items()
            if name in taps and tensor.shape[-1] is None and taps[name].shape[-1] is not None
        ]
        if fixed:  # e.g. a Flatten feeding a Dense: its width depends on the image size
            raise ModelError(
                f"Layers {list(names)} of {model.name!r} cannot run at input shape "
                f"{tuple(input_shape)}: layer {fixed[0]!r} needs the model's own input size "
                f"{tuple(inputs.shape[1:])}. Use that size, or ask for earlier layers without "
                f"logits. Received: input_shape={tuple(input_shape)}"
            )
        built = keras.Model(new_inputs, out, name=f"{model.name}_features")
    return built


class FeatureModel:
    """All named layer outputs (plus logits) of a model in one call.

    Example:
        >>> features = FeatureModel(backbone, ["block4_conv2"])
        >>> outputs = features(images)  # {"block4_conv2": (N, h, w, c), "logits": (N, classes)}
    """

    def __init__(
        self,
        model: Any,
        layer_names: Sequence[str] = (),
        *,
        logits: bool = True,
        input_shape: Optional[Sequence[Optional[int]]] = None,
        output: OutputKey = None,
    ) -> None:
        """Build (or fetch from the cache) a multi-output model of the named layers.

        Args:
            model: A `Backbone` or a Keras model taking one image input (pixels for a Backbone).
            layer_names: Layers or operation nodes whose outputs to return, in order; nested
                models' layers too. A layer named `"logits"` can be asked for with
                `logits=False`.
            logits: Also return the pre-softmax output under the key `"logits"` (for a headless
                backbone, its feature-map output).
            input_shape: Input shape without the batch axis, e.g. `(None, None, 3)` to run the
                convolutional part at any image size; defaults to the model's own input shape.
            output: For a multi-output model with `logits=True`: which output is `"logits"`
                (an index or a name, see `select_output`).

        Raises:
            LayerNotFoundError: A name is not a layer of the model (close matches listed).
            ModelError: The model cannot be traced (e.g. subclassed: layers are hidden), the
                layers cannot run at `input_shape`, or a multi-output model without `output=`.
        """
        keras_model = getattr(model, "model", model)
        if not isinstance(keras_model, keras.Model):
            raise ModelError(
                "Expected a kerasviz Backbone or a keras.Model. Received: "
                f"model of type {type(model).__name__}"
            )
        if isinstance(layer_names, str):
            layer_names = [layer_names]
        self.layer_names: Tuple[str, ...] = tuple(layer_names)
        if len(set(self.layer_names)) != len(self.layer_names) or (
            logits and LOGITS in self.layer_names
        ):
            raise ModelError(
                f"Layer names must be unique, and not {LOGITS!r} unless `logits=False` (the "
                f"key of the model's output). Received: layer_names={list(self.layer_names)}"
            )
        shape = None if input_shape is None else tuple(input_shape)
        key = ("feature_model", self.layer_names, bool(logits), shape, output)
        self.model: keras.Model = cached(
            keras_model,
            key,
            lambda: _build(keras_model, self.layer_names, bool(logits), shape, output),
        )
        self.source = keras_model

    def __call__(self, images: Any, training: bool = False) -> Dict[str, Any]:
        """Run the model.

        Args:
            images: Tensor or array `(N, H, W, 3)` of pixels (for a Backbone) in `[0, 255]`.
            training: Passed to the layers (keep `False` for visualization).

        Returns:
            Dict of tensors: each requested layer's output and, if asked, `"logits"` `(N, C)`.
        """
        return self.model(images, training=training)
