"""Running a Keras model's graph again on a fresh `keras.Input`, node by node.

`Tracer` calls every node (layers and Keras 3 operation nodes alike) through a hook, inlines nested
Functional / Sequential models so their inner nodes' tensors are reachable by name, and finds the
pre-softmax tensor behind a softmax output without modifying the user's model. `trace_model` and
`trace_graph` trace a whole one-input model; subclassed models run as one opaque node.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import keras

from .errors import ModelError
from .graph_nodes import (
    is_functional_model,
    is_graph_model,
    is_sequential_model,
    subclassed_model_error,
)
from .model_outputs import OutputKey, select_output

__all__ = ["LayerCall", "Tracer", "single_input_shape", "trace_graph", "trace_model"]

#: A hook `call_layer(node, *args, **kwargs)` that runs one node and returns what it returns.
LayerCall = Callable[..., Any]


def _is_softmax(function: Any) -> bool:
    return getattr(function, "__name__", "") == "softmax"


class _WithoutActivation(keras.layers.Layer):
    """Calls a layer with a linear activation, without ever changing the user's layer.

    It runs `call` of a shallow copy of the layer whose `activation` is linear: the copy shares the
    kernel and bias objects (no weights are copied), and the user's layer is never modified, so
    other threads using the original model at the same time still get probabilities.
    """

    def __init__(self, layer: keras.layers.Layer, **kwargs) -> None:
        super().__init__(name=f"{layer.name}_logits", **kwargs)
        self.inner = layer  # tracked, so the feature model owns the shared weights
        linear = object.__new__(type(layer))  # not copy.copy: Keras rebuilds layers from config
        linear.__dict__.update(layer.__dict__)
        object.__setattr__(linear, "activation", keras.activations.linear)  # on the copy only
        object.__setattr__(self, "_linear", linear)  # untracked: its weights are `inner`'s

    def call(self, *args, **kwargs):
        return self._linear.call(*args, **kwargs)


def _is_softmax_node(operation: Any) -> bool:
    """A softmax layer or a `keras.ops.softmax` operation node."""
    if isinstance(operation, keras.layers.Softmax):
        return True
    if isinstance(operation, keras.layers.Activation):
        return _is_softmax(operation.activation)
    return not isinstance(operation, keras.layers.Layer) and type(operation).__name__ == "Softmax"


class Tracer:
    """Runs a model's graph on new symbolic inputs, inlining nested Functional / Sequential models.

    Every node is called through `call_layer`: layers and Keras 3 operation nodes alike.
    """

    def __init__(self, call_layer: Optional[LayerCall]) -> None:
        self.call_layer = call_layer or (lambda layer, *args, **kwargs: layer(*args, **kwargs))
        self.taps: Dict[str, Any] = {}
        self.producers: Dict[int, Tuple[Any, tuple, dict]] = {}

    def run(self, model: keras.Model, inputs: Any, prefix: str = "") -> Any:
        if is_sequential_model(model):
            x = inputs
            for layer in model.layers:
                x = self.call(layer, prefix, (x,), {})
            return x
        if is_functional_model(model):
            return model._run_through_graph(
                inputs, operation_fn=lambda op: lambda *a, **k: self.call(op, prefix, a, k)
            )
        raise subclassed_model_error(model.name, [model.name], "Tracing the model")

    def call(self, layer: Any, prefix: str, args: tuple, kwargs: dict) -> Any:
        if is_graph_model(layer):
            inner = args[0] if len(args) == 1 else list(args)
            out = self.run(layer, inner, prefix=f"{prefix}{layer.name}/")
        else:
            out = self.call_layer(layer, *args, **kwargs)
        for key in (layer.name, f"{prefix}{layer.name}"):
            self.taps.setdefault(key, out)
        self.producers.setdefault(id(out), (layer, args, kwargs))  # innermost producer wins
        return out

    def logits(self, output: Any) -> Any:
        """The pre-softmax tensor behind `output` (itself when no softmax ends the model)."""
        layer, args, kwargs = self.producers.get(id(output), (None, (), {}))
        if layer is not None and _is_softmax_node(layer) and args:
            return args[0]
        if layer is not None and _is_softmax(getattr(layer, "activation", None)):
            return _WithoutActivation(layer)(*args, **kwargs)
        return output


def single_input_shape(model: keras.Model) -> Tuple[Optional[int], ...]:
    """Shape of a graph model's one input without the batch axis.

    Args:
        model: A Keras model.

    Returns:
        e.g. `(224, 224, 3)` or `(None, None, 3)`.

    Raises:
        ModelError: Subclassed, no input, or several inputs.
    """
    if not is_graph_model(model):
        raise subclassed_model_error(model.name, [model.name], "Tracing the model")
    inputs = getattr(model, "inputs", None)
    if not inputs:
        raise ModelError(
            "The model has no defined input: build it with `keras.Input(shape=...)` or call it "
            f"once on data before visualizing it. Received: model={getattr(model, 'name', model)!r}"
        )
    if len(inputs) != 1:
        raise ModelError(
            "kerasviz visualizes models with one image input. Received: a model with "
            f"{len(inputs)} inputs"
        )
    return tuple(inputs[0].shape[1:])


def trace_graph(
    model: keras.Model,
    input_shape: Optional[Sequence[Optional[int]]],
    call_layer: Optional[LayerCall],
) -> Tuple[Any, Any, "Tracer"]:
    """Run a graph model on a fresh `keras.Input`: `(inputs, raw outputs, tracer)` (see trace_model).

    Args:
        model: A Functional or Sequential model with one image input.
        input_shape: Input shape without the batch axis, or `None` for the model's own.
        call_layer: As in `trace_model`.

    Returns:
        `(inputs, outputs, tracer)`: outputs as the model returns them (one tensor, list or
        dict); `tracer.taps` maps node names to tensors, `tracer.logits(t)` strips a softmax.

    Raises:
        ModelError: Subclassed model, no input or several inputs.
    """
    shape = tuple(input_shape) if input_shape is not None else single_input_shape(model)
    if not is_graph_model(model):
        raise subclassed_model_error(model.name, [model.name], "Tracing the model")
    inputs = keras.Input(shape=shape)
    tracer = Tracer(call_layer)
    return inputs, tracer.run(model, inputs), tracer


def trace_model(
    model: keras.Model,
    *,
    input_shape: Optional[Sequence[Optional[int]]] = None,
    call_layer: Optional[LayerCall] = None,
    output: OutputKey = None,
) -> Tuple[Any, Any, Dict[str, Any]]:
    """Trace a model on a fresh input with nested models inlined.

    Args:
        model: A Functional or Sequential Keras model with one image input (nested Functional /
            Sequential models inside it are opened; subclassed ones run as one opaque node).
        input_shape: Shape of one input without the batch axis, e.g. `(None, None, 3)`; defaults
            to the model's own. Only layers that accept that shape may lie on the traced path.
        call_layer: Optional `call_layer(node, *args, **kwargs)` used instead of
            `node(*args, **kwargs)` for every leaf node — layers *and* Keras 3 operation nodes
            (`keras.Operation` instances such as `Add` from `x + y`, which have a `name` but no
            weights or `activation`) — e.g. to swap activations for guided backprop. It must
            return what the node returns.
        output: Which output to return for a multi-output model: an index or a name (see
            `select_output`); `None` for a single-output model.

    Returns:
        `(inputs, logits, taps)`: the new `keras.Input`, the pre-softmax output tensor (the
        output itself when no softmax ends it, e.g. a feature map) and a dict of every node's
        output tensor by name (nested nodes also as `"outer/inner"`).

    Raises:
        ModelError: The model has no input, several inputs, several outputs and no `output`,
            or is subclassed (no graph to trace).
    """
    inputs, outputs, tracer = trace_graph(model, input_shape, call_layer)
    return inputs, tracer.logits(select_output(model, outputs, output)), tracer.taps
