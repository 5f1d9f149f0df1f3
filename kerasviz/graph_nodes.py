"""Finding the layers and operation nodes of a Keras model's graph, nested models opened.

Which models are graphs (Functional, Sequential) and which are opaque (subclassed), walking every
node depth first, and looking nodes up by name. Keras 3 *operation nodes* (`x + y`,
`keras.ops.multiply`, ... in `model.operations` but not in `model.layers`) are found like layers.
"""

from __future__ import annotations

import difflib
from typing import Any, Dict, Iterator, List, Sequence

import keras

from .errors import LayerNotFoundError, ModelError

__all__ = [
    "find_layer",
    "is_functional_model",
    "is_graph_model",
    "is_sequential_model",
    "layer_names",
    "nodes_by_name",
    "opaque_models",
    "subclassed_model_error",
]


def is_sequential_model(model: Any) -> bool:
    """Whether a model is a `keras.Sequential` (its layers run one after the other).

    Args:
        model: Any object.

    Returns:
        True for Sequential Keras models.
    """
    return isinstance(model, keras.Sequential)


def is_functional_model(model: Any) -> bool:
    """Whether a model is a Functional Keras model, whose node graph can be run node by node.

    Args:
        model: Any object.

    Returns:
        True for Functional Keras models (Sequential ones are told by `is_sequential_model`).
    """
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
    return is_sequential_model(model) or is_functional_model(model)


def _nodes(model: keras.Model) -> List[Any]:
    """A graph model's operations (layers and operation nodes) in graph order."""
    if is_sequential_model(model):
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


def subclassed_model_error(model_name: str, hidden: Sequence[str], what: str) -> ModelError:
    """The error for a request that needs layers hidden inside subclassed models.

    Args:
        model_name: Name of the model the request was made on.
        hidden: Names of the subclassed models inside it (or itself) whose layers are hidden.
        what: What needed the layers, for the message, e.g. `"Tracing the model"`.

    Returns:
        A `ModelError` (not raised) whose message says how to build a graph model instead, or
        which techniques need only the model's output.
    """
    return ModelError(
        f"{what} needs the layers inside model {model_name!r}, but {list(hidden)} "
        "are subclassed models (a `call` method, no layer graph), so their layers cannot be "
        "reached. Build the network with the functional API (`keras.Input` -> layers -> "
        "`keras.Model(inputs, outputs)`), or use a technique that needs only the model's output "
        f"(saliency, integrated gradients, occlusion, class visualization). Received: "
        f"model={model_name!r}"
    )


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
        return subclassed_model_error(model.name, hidden, f"Layer {name!r}")
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
