"""The *spatial path* of a model: feature maps that look at the image through local windows.

Receptive fields and default layers follow it; global side branches (squeeze-excitation and
attention gates, pooled heads) are off it. See `spatial_taps`.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple

import keras

from .graph import LayerCall
from .graph_tracing import Tracer, single_input_shape

__all__ = ["SpatialTrace", "is_global_reduction", "spatial_taps", "tensors_in"]


_GLOBAL_POOLING = (keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D)
_REDUCTIONS = ("Mean", "Max", "Min", "Sum")


def tensors_in(args: Any) -> Iterator[Any]:
    """The tensors in a node's (possibly nested) call arguments, in order."""
    for arg in args:
        if isinstance(arg, (list, tuple)):
            yield from tensors_in(arg)
        elif isinstance(arg, dict):
            yield from tensors_in(list(arg.values()))
        elif hasattr(arg, "shape") and hasattr(arg, "dtype"):
            yield arg


def is_global_reduction(node: Any) -> bool:
    """Whether a node pools over the whole spatial extent (global pooling, `ops.mean(axis=(1, 2))`).

    Args:
        node: A layer or operation node.

    Returns:
        True for global pooling layers (with or without `keepdims`) and spatial reductions.
    """
    if isinstance(node, _GLOBAL_POOLING):
        return True
    if isinstance(node, keras.layers.Layer) or type(node).__name__ not in _REDUCTIONS:
        return False
    axis = getattr(node, "axis", None)
    axes = {axis} if isinstance(axis, int) else set(axis or ())
    return {1, 2} <= {a % 4 for a in axes} if axes else False


class SpatialTrace(NamedTuple):
    """What `spatial_taps` returns (see there)."""

    inputs: Any
    taps: Dict[str, Any]
    producers: Dict[int, Tuple[Any, List[Any]]]
    all_taps: Dict[str, Any]


def spatial_taps(
    model: keras.Model,
    *,
    input_shape: Optional[Sequence[Optional[int]]] = None,
    call_layer: Optional[LayerCall] = None,
) -> "SpatialTrace":
    """Trace a model and keep the nodes on the *spatial path*: feature maps that look at the image.

    A tensor is on the spatial path when it is the image input, or a 4-D output of a node with a
    spatial-path input that is not a global reduction. Global side branches — squeeze-excitation
    and attention gates (global pooling -> dense / 1x1 conv -> broadcast multiply), MobileNetV3's
    pooled head — are off the path, though they may be 4-D `(N, 1, 1, C)`.

    Args:
        model: A graph model with one image input.
        input_shape: Input shape without the batch axis (default the model's own).
        call_layer: As in `trace_model` (called for every leaf node).

    Returns:
        `SpatialTrace(inputs, taps, producers, all_taps)`: the new input; `{name: tensor}` of
        spatial-path nodes (addressable names, nested ones also as `"outer/inner"`); for every
        spatial-path tensor id `(node, spatial-path input tensors)`; and every node's tensor.
    """
    producers: Dict[int, Tuple[Any, List[Any]]] = {}
    spatial = set()
    inner = call_layer or (lambda node, *a, **k: node(*a, **k))

    def record(node, *args, **kwargs):
        out = inner(node, *args, **kwargs)
        sources = [t for t in tensors_in(args) if id(t) in spatial]
        if sources and not is_global_reduction(node) and len(getattr(out, "shape", ())) == 4:
            spatial.add(id(out))
            producers[id(out)] = (node, sources)
        return out

    shape = tuple(input_shape) if input_shape is not None else single_input_shape(model)
    inputs = keras.Input(shape=shape)
    spatial.add(id(inputs))
    tracer = Tracer(record)
    tracer.run(model, inputs)
    taps = {name: t for name, t in tracer.taps.items() if id(t) in spatial}
    return SpatialTrace(inputs, taps, producers, tracer.taps)
