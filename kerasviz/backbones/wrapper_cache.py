"""`as_backbone`: the `Backbone` for whatever a technique is given, one wrapper per Keras model.

The wrappers are held weakly per (model, output), so a model passed to many techniques is traced
once and is freed with its wrappers when the caller drops it.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Dict, Union

import keras

from ..errors import ModelError

if TYPE_CHECKING:
    from .backbone import Backbone

__all__ = ["as_backbone"]


def as_backbone(model: Any, *, output: Union[None, int, str] = None) -> "Backbone":
    """A `Backbone` for a Backbone or any Keras model (taking pixels), for technique entry points.

    Headless, multi-output (with `output=`) and built subclassed models are accepted as in
    `Backbone.from_model`; the wrapper is cached per (model, output).

    Args:
        model: A `Backbone` or a `keras.Model` that takes pixels in `[0, 255]`.
        output: For a multi-output model: the output to use (name or index).

    Returns:
        The Backbone (unchanged, or wrapping the model with its softmax removed).

    Raises:
        ModelError: Anything else, or a multi-output model without `output=`.
    """
    from .backbone import Backbone  # here, not at the top: backbone.py re-exports as_backbone

    if isinstance(model, Backbone):
        return model
    if isinstance(model, keras.Model):
        per_model = _WRAPPED.setdefault(model, {})
        if output not in per_model:
            per_model[output] = Backbone.from_model(model, output=output)
        return per_model[output]
    raise ModelError(
        "Expected a kerasviz Backbone (kerasviz.load_backbone) or a keras.Model. Received: "
        f"model of type {type(model).__name__}"
    )


_WRAPPED: "weakref.WeakKeyDictionary[keras.Model, Dict[Any, Backbone]]" = (
    weakref.WeakKeyDictionary()
)
