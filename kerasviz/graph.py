"""Walking and tracing a Keras model's graph: layers, operation nodes, nested and opaque models.

Used by `FeatureModel` (kerasviz.features): `FeatureModel(model, ["block4_conv2", "block5_conv3"])` builds one multi-output Keras model that
returns `{"block4_conv2": ..., "block5_conv3": ..., "logits": ...}`. Nested models (a Sequential
holding a Functional base, or a Backbone's preprocessing + base) are traced inline so their
inner layers are reachable; a final softmax is removed so `"logits"` is pre-softmax. Built models
are cached per (model, layers, input shape), so techniques can ask for one on every call.

The graph is walked node by node, so Keras 3 *operation nodes* (`x + y`, `keras.ops.multiply`,
... in `model.operations` but not in `model.layers`, e.g. ConvNeXt, MobileNetV3) are addressable
by their Keras name (`"add_3"`) like layers. Subclassed models (a `call` method, no graph) are
opaque: they run as one node, and asking for a layer inside one raises `ModelError`.
"""

from __future__ import annotations

import difflib
from typing import (
    Any,
    Callable,
    Dict,
    Iterator,
    List,
    Optional,
    Sequence,
    Tuple,
)

import keras

from .errors import LayerNotFoundError, ModelError
from .model_outputs import OutputKey, output_names, select_output

__all__ = [
    "Tracer",
    "find_layer",
    "is_graph_model",
    "layer_names",
    "nodes_by_name",
    "opaque_models",
    "select_output",
    "single_input_shape",
    "trace_graph",
    "trace_model",
    "output_names",
]

LayerCall = Callable[..., Any]


def _is_sequential(model: Any) -> bool:
    return isinstance(model, keras.Sequential)


def _is_functional(model: Any) -> bool:
    return isinstance(model, keras.Model) and hasattr(model, "_run_through_graph") and hasattr(
        model, "_nodes_by_depth"
    )


def is_graph_model(model: Any) -> bool:
    """Whether a model is a Functional or Sequential graph kerasviz can open (not subclassed).

    Args:
        model: Any object.

    Returns:
        True for Functional and Sequential Keras models.
    """
    return _is_sequential(model) or _is_functional(model)


def _is_softmax(function: Any) -> bool:
    return getattr(function, "__name__", "") == "softmax"


def _nodes(model: keras.Model) -> List[Any]:
    """A graph model's operations (layers and operation nodes) in graph order."""
    if _is_sequential(model):
        return list(model.layers)
    return list(getattr(model, "operations", model.layers))


def _walk(model: keras.Model) -> Iterator[Any]:
    """Every operation of a model, nested graph models opened (depth first, graph order)."""
    for operation in _nodes(model):
        yield operation
        if is_graph_model(operation):
            yield from _walk(operation)


def opaque_models(model: Any) -> List[str]:
    """Names of the subclassed models inside a model (or the model itself), whose layers are hidden.

    Args:
        model: A Keras model or a `Backbone`.

    Returns:
        Names of the models whose inner layers cannot be reached (empty for a pure graph).
    """
    model = getattr(model, "model", model)
    if not is_graph_model(model):
        return [model.name]
    return [op.name for op in _walk(model) if isinstance(op, keras.Model) and not is_graph_model(op)]


def _subclassed_error(model_name: str, hidden: Sequence[str], what: str) -> ModelError:
    return ModelError(
        f"{what} needs the layers inside model {model_name!r}, but {list(hidden)} "
        "are subclassed models (a `call` method, no layer graph), so their layers cannot be "
        "reached. Build the network with the functional API (`keras.Input` -> layers -> "
        "`keras.Model(inputs, outputs)`), or use a technique that needs only the model's output "
        f"(saliency, integrated gradients, occlusion, class visualization). Received: "
        f"model={model_name!r}"
    )


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
        if _is_sequential(model):
            x = inputs
            for layer in model.layers:
                x = self.call(layer, prefix, (x,), {})
            return x
        if _is_functional(model):
            return model._run_through_graph(
                inputs, operation_fn=lambda op: lambda *a, **k: self.call(op, prefix, a, k)
            )
        raise _subclassed_error(model.name, [model.name], "Tracing the model")

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
        raise _subclassed_error(model.name, [model.name], "Tracing the model")
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
        raise _subclassed_error(model.name, [model.name], "Tracing the model")
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


def layer_names(model: keras.Model) -> List[str]:
    """Names of every layer and operation node of a model, nested models' too, in graph order.

    Args:
        model: A Keras model or a `Backbone`.

    Returns:
        The names that `FeatureModel` accepts (operation nodes such as `"add_3"` included).
    """
    model = getattr(model, "model", model)
    if not is_graph_model(model):
        return [model.name]
    return [operation.name for operation in _walk(model)]


def _not_found(name: str, model: keras.Model) -> KeyError:
    hidden = opaque_models(model)
    if hidden:
        return _subclassed_error(model.name, hidden, f"Layer {name!r}")
    available = layer_names(model)
    close = difflib.get_close_matches(name, available, n=5, cutoff=0.5)
    hint = f"Did you mean {', '.join(map(repr, close))}? " if close else ""
    return LayerNotFoundError(
        f"No layer named {name!r} in model {model.name!r}. {hint}"
        f"`kerasviz.layer_names(model)` lists all {len(available)} layers. Received: layer={name!r}"
    )


def nodes_by_name(model: keras.Model) -> Dict[str, Any]:
    """Every layer and operation node of a graph model by name, nested models opened.

    Args:
        model: A Keras model or a `Backbone`.

    Returns:
        `{name: node}`; the first node wins where nested models reuse a name.
    """
    model = getattr(model, "model", model)
    nodes: Dict[str, Any] = {}
    if is_graph_model(model):
        for operation in _walk(model):
            nodes.setdefault(operation.name, operation)
    return nodes


def find_layer(model: keras.Model, name: str) -> Any:
    """The layer (or Keras 3 operation node) called `name`, searching nested models too.

    Args:
        model: A Keras model or a `Backbone`.
        name: The layer's or operation node's name.

    Returns:
        The `keras.layers.Layer`, or a `keras.Operation` for an operation node (no weights).

    Raises:
        LayerNotFoundError: No such layer; the message lists close matches.
        ModelError: The model hides its layers (a subclassed model), so `name` cannot be found.
    """
    model = getattr(model, "model", model)
    if is_graph_model(model):
        for operation in _walk(model):
            if operation.name == name:
                return operation
    raise _not_found(name, model)

