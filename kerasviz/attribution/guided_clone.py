"""The guided-backprop clone of a model: every ReLU's gradient guided, the user's model untouched.

`guided_model` rebuilds the model's graph with `features.trace_model(call_layer=...)`, putting a
`GuidedReLUGradient` after every ReLU-family nonlinearity (layers and `keras.ops` nodes); the
clone shares the original's weights and is cached per (model, layer).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

import keras
import numpy as np
import tensorflow as tf

from ..compiled import cached
from ..errors import ModelError
from ..graph_nodes import find_layer, opaque_models
from ..graph_tracing import trace_model

__all__ = ["GuidedModel", "GuidedReLUGradient", "guided_model", "warn_unguided"]


#: Activations whose gradient guided backprop guides (ReLU family, no negative slope).
GUIDED_ACTIVATIONS = ("relu", "relu6")
#: Activations that need no guiding (linear) or are removed (the final softmax).
PASSIVE_ACTIVATIONS = ("linear", "softmax", "identity")


@tf.custom_gradient
def _guided_identity(outputs: tf.Tensor, upper: tf.Tensor):
    """Identity forward; backward passes only positive upstream gradients where the ReLU was
    active (0 < output < upper), i.e. where its input was > 0 (and < 6 for ReLU6)."""

    def backward(upstream):
        active = tf.logical_and(outputs > 0, outputs < upper)
        keep = tf.logical_and(active, upstream > 0)
        return tf.where(keep, upstream, tf.zeros_like(upstream)), tf.zeros_like(upper)

    return tf.identity(outputs), backward


class GuidedReLUGradient(keras.layers.Layer):
    """Applied to a ReLU / ReLU6 output: forward identity, guided-backprop gradient backward."""

    def __init__(self, max_value: Optional[float] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.max_value = max_value

    def call(self, inputs):
        upper = np.inf if self.max_value is None else float(self.max_value)
        return _guided_identity(inputs, tf.constant(upper, inputs.dtype))


#: Keras 3 operation nodes (`keras.ops.*`, by class name) that are nonlinearities guided
#: backprop cannot guide (reported); other operation nodes (add, multiply, mean...) are linear.
UNGUIDED_OPERATIONS = ("elu", "gelu", "hardsigmoid", "hardsilu", "hardswish", "leakyrelu",
                       "selu", "sigmoid", "silu", "softplus", "swish", "tanh")


def _relu_max_value(layer: Any) -> Tuple[bool, Optional[float]]:
    """`(guidable, max_value)` of a leaf node's ReLU-family nonlinearity; `(False, None)` when it
    has one guided backprop cannot guide. Raises `LookupError` for a node with no nonlinearity."""
    if not isinstance(layer, keras.layers.Layer):  # an operation node, e.g. keras.ops.relu
        kind = type(layer).__name__.lower().replace("_", "")
        if kind in GUIDED_ACTIVATIONS:
            return True, 6.0 if kind == "relu6" else None
        if kind in UNGUIDED_OPERATIONS:
            return False, None
        raise LookupError(layer.name)
    if isinstance(layer, keras.layers.ReLU):
        if float(layer.negative_slope) != 0.0:
            return False, None
        return True, None if layer.max_value is None else float(layer.max_value)
    if isinstance(layer, (keras.layers.LeakyReLU, keras.layers.PReLU, keras.layers.ELU)):
        return False, None
    if isinstance(layer, keras.layers.Lambda):
        return False, None
    activation = getattr(layer, "activation", None)
    if activation is None:
        raise LookupError(layer.name)
    name = getattr(activation, "__name__", type(activation).__name__).lower()
    if name in PASSIVE_ACTIVATIONS:
        raise LookupError(layer.name)
    if name in GUIDED_ACTIVATIONS:
        return True, 6.0 if name == "relu6" else None
    return False, None


@dataclass
class GuidedModel:
    """A guided-backprop clone and what could not be guided.

    Attributes:
        model: Keras model sharing the original's weights, pixels -> logits (or the layer's
            output), whose ReLU / ReLU6 gradients are guided.
        guided: Names of the layers whose nonlinearity is guided.
        unguided: Names of layers with a nonlinearity that could not be guided.
    """

    model: keras.Model
    guided: List[str]
    unguided: List[str]


def guided_model(model: keras.Model, layer: Optional[str] = None) -> GuidedModel:
    """Build (or fetch) the guided-backprop clone of a pixels -> logits model.

    Every leaf layer whose nonlinearity is ReLU-family (`keras.layers.ReLU`, ReLU6 included;
    `Activation("relu" | "relu6")`; any layer built with `activation="relu" | "relu6"`; a
    `keras.ops.relu` / `relu6` operation node) gets a `GuidedReLUGradient` on its output.
    Nested models are inlined by `trace_model`. The user's
    model and its layers are not changed (the clone shares their weights).

    Args:
        model: The Backbone's Keras model.
        layer: Return this layer's output instead of the logits.

    Returns:
        A `GuidedModel`, cached per (model, layer).

    Raises:
        LayerNotFoundError: `layer` is not in the model.
        ModelError: The model holds subclassed models, whose nonlinearities cannot be reached.
    """
    hidden = opaque_models(model)
    if hidden:
        raise ModelError(
            f"guided_backprop changes the gradient of every ReLU inside the model, but {hidden} "
            "are subclassed models (a `call` method, no layer graph) whose layers cannot be "
            "reached. Build the network with the functional API, or use saliency, smoothgrad, "
            "integrated_gradients or gradient_x_input, which need only the output. Received: "
            f"model={model.name!r}"
        )
    if layer is not None:
        find_layer(model, layer)

    def build() -> GuidedModel:
        guided: List[str] = []
        unguided: List[str] = []

        def call_layer(leaf, *args, **kwargs):
            outputs = leaf(*args, **kwargs)
            try:
                ok, max_value = _relu_max_value(leaf)
            except LookupError:
                return outputs
            if not ok:
                unguided.append(leaf.name)
                return outputs
            guided.append(leaf.name)
            return GuidedReLUGradient(max_value, name=f"{leaf.name}_guided")(outputs)

        inputs, logits, taps = trace_model(model, call_layer=call_layer)
        output = logits if layer is None else taps[layer]
        clone = keras.Model(inputs, output, name=f"{model.name}_guided")
        return GuidedModel(clone, guided, unguided)

    return cached(model, ("guided_model", layer), build)


def warn_unguided(clone: GuidedModel) -> None:
    """Warn (once per call) naming the layers whose nonlinearity could not be guided.

    Args:
        clone: The guided clone.
    """
    if clone.unguided:
        shown = ", ".join(repr(n) for n in clone.unguided[:10])
        more = f" and {len(clone.unguided) - 10} more" if len(clone.unguided) > 10 else ""
        warnings.warn(
            f"guided_backprop could not guide the nonlinearity of layers {shown}{more} (not "
            "ReLU / ReLU6); their gradients pass through unguided.",
            stacklevel=3,
        )
