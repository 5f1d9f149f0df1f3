"""Choosing one output of a multi-output model: by name (dict key or layer name) or index."""

from __future__ import annotations

from typing import Any, List, Union

import keras

from .errors import ModelError

__all__ = ["OutputKey", "output_names", "select_output"]

#: How a caller names an output: `None` (the only one), an index, or a name.
OutputKey = Union[None, int, str]


def output_names(model: keras.Model) -> List[str]:
    """Names of a model's outputs, in order (dict keys, or the producing layers' names)."""
    struct = getattr(model, "_outputs_struct", None)
    if isinstance(struct, dict):
        return list(struct)
    names = getattr(model, "output_names", None)
    return list(names) if names else [f"output_{i}" for i in range(len(model.outputs))]


def select_output(model: keras.Model, outputs: Any, output: OutputKey = None) -> Any:
    """Pick one output of a traced (possibly multi-output) model.

    Args:
        model: The traced Keras model (for its output names).
        outputs: What tracing returned: one tensor, or a list / dict of them.
        output: `None` (the model must have one output), an output index, or an output name
            (a dict key or the name of the layer producing it; `model.output_names`).

    Returns:
        The chosen tensor.

    Raises:
        ModelError: Several outputs and no `output`, or an `output` that names none of them.
    """
    if not isinstance(outputs, (list, tuple, dict)):
        if output in (None, 0, -1) or output in output_names(model):
            return outputs
        flat: List[Any] = [outputs]
    else:
        flat = list(outputs.values()) if isinstance(outputs, dict) else list(outputs)
        if len(flat) == 1 and output is None:
            return flat[0]
    names = output_names(model)
    if output is None:
        raise ModelError(
            f"Model {model.name!r} has {len(flat)} outputs {names}; choose the classifier (or "
            "the output to explain) with `output=` (a name or an index), e.g. "
            f"`kerasviz.Backbone.from_model(model, output={names[0]!r})`. Received: output=None"
        )
    if isinstance(output, str) and output in names:
        return flat[names.index(output)]
    if isinstance(output, int) and not isinstance(output, bool) and -len(flat) <= output < len(flat):
        return flat[output]
    raise ModelError(
        f"`output` must be one of the names {names} or an index in [0, {len(flat) - 1}] of "
        f"model {model.name!r}'s outputs. Received: output={output!r}"
    )
