"""Receptive fields computed from a model's layer graph.

Unit `(i, j)` of a feature map sees the input rows
`offset[0] + i * stride[0] ... offset[0] + i * stride[0] + size[0] - 1` (and likewise columns);
`offset` may be negative, where the field reaches into the zero padding.

Walking from the input to the layer, each layer with a window (Conv2D, DepthwiseConv2D,
SeparableConv2D, MaxPooling2D, AveragePooling2D) of kernel `k`, dilation `d`, stride `s` and
left/top padding `p` updates `(size, stride, offset)` as
`size += (d * (k - 1)) * stride; offset -= p * stride; stride *= s`. `"same"` padding is Keras's
(TensorFlow's): `p = max((ceil(n / s) - 1) * s + d * (k - 1) + 1 - n, 0) // 2` for an input of
`n` pixels, so offsets depend on the input size. ZeroPadding2D and Cropping2D shift the offset.
Layers and Keras 3 operation nodes that keep the spatial size (activations, normalization, Add,
Concatenate, `x + y`, ...) merge their inputs' fields: where paths branch and join, the field is
the union (the max over paths).

Only the *spatial path* is followed (`kerasviz.spatial_path.spatial_taps`): global side branches —
squeeze-and-excitation and attention gates (global pooling -> dense / 1x1 conv -> broadcast
multiply), which see the whole image through a pooled vector — are ignored, so a gated block has
the field of its convolutions alone (on EfficientNet, exactly the field with the gates removed).
Inputs of a different spatial size than the output (a broadcast gate) are ignored likewise. Any
other layer that changes the spatial size raises `ModelError`.
"""

from __future__ import annotations

import math
from typing import Any, Dict, NamedTuple, Optional, Tuple, Union

import keras

from ..backbones import as_backbone
from ..errors import ModelError, ParameterError
from ..features import FeatureModel
from ..images import parse_size
from ..spatial_path import spatial_taps
from .layer_outputs import spatial_layer

__all__ = ["ReceptiveField", "receptive_field"]

Pair = Tuple[int, int]


class ReceptiveField(NamedTuple):
    """Where a unit of a feature map looks in the input, per axis `(rows, columns)`.

    Attributes:
        size: Field height and width in input pixels.
        stride: Input pixels between neighbouring units.
        offset: Input coordinate of unit `(0, 0)`'s field's top-left pixel (may be negative).
    """

    size: Pair
    stride: Pair
    offset: Pair

    def window(self, row: int, col: int) -> Tuple[int, int, int, int]:
        """`(top, left, bottom, right)` input rectangle of unit `(row, col)` (bottom/right exclusive)."""
        top = self.offset[0] + row * self.stride[0]
        left = self.offset[1] + col * self.stride[1]
        return top, left, top + self.size[0], left + self.size[1]


# Per axis: (size, stride, offset).
_Axis = Tuple[int, int, int]
_Field = Tuple[_Axis, _Axis]


def _pair(value: Any) -> Pair:
    return (int(value), int(value)) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _same_padding(n: Optional[int], kernel: int, stride: int, layer: Any) -> int:
    if n is None:
        raise ModelError(
            f"Layer {layer.name!r} pads 'same' on an input of unknown size; pass `input_size`. "
            "Received: input_size=None"
        )
    total = max((math.ceil(n / stride) - 1) * stride + kernel - n, 0)
    return total // 2


def _window_layer(
    layer: Any, field: _Field, spatial: Tuple[Optional[int], Optional[int]]
) -> _Field:
    if isinstance(layer, keras.layers.Conv2DTranspose):
        raise ModelError(
            f"Receptive fields through transposed convolutions are not supported (layer "
            f"{layer.name!r}). Received: layer of class {type(layer).__name__}"
        )
    kernel = _pair(getattr(layer, "kernel_size", None) or layer.pool_size)
    strides = _pair(layer.strides if layer.strides is not None else kernel)
    dilation = _pair(getattr(layer, "dilation_rate", 1))
    out = []
    for axis in range(2):
        size, stride, offset = field[axis]
        extent = dilation[axis] * (kernel[axis] - 1) + 1
        pad = 0
        if layer.padding == "same":
            pad = _same_padding(spatial[axis], extent, strides[axis], layer)
        out.append((size + (extent - 1) * stride, stride * strides[axis], offset - pad * stride))
    return out[0], out[1]


def _shift_layer(layer: Any, field: _Field) -> _Field:
    if isinstance(layer, keras.layers.ZeroPadding2D):
        shifts = [-layer.padding[0][0], -layer.padding[1][0]]
    else:
        shifts = [layer.cropping[0][0], layer.cropping[1][0]]
    return tuple((s, j, o + shift * j) for (s, j, o), shift in zip(field, shifts))


def _union(fields: list) -> _Field:
    out = []
    for axis in range(2):
        starts = [f[axis][2] for f in fields]
        ends = [f[axis][2] + f[axis][0] for f in fields]
        stride = max(f[axis][1] for f in fields)
        out.append((max(ends) - min(starts), stride, min(starts)))
    return out[0], out[1]


def _spatial(tensor: Any) -> Optional[Tuple[Optional[int], Optional[int]]]:
    shape = getattr(tensor, "shape", None)
    return tuple(shape[1:3]) if shape is not None and len(shape) == 4 else None


def _fields(backbone: Any, layer: str, input_shape: tuple) -> _Field:
    # The pruned path to `layer` at that input size, as a single-output model to trace.
    path = FeatureModel(backbone, [layer], logits=False, input_shape=input_shape).model
    model = keras.Model(path.inputs, path.outputs[0])
    inputs, taps, producers, _ = spatial_taps(model, input_shape=input_shape)
    if layer not in taps:
        raise ModelError(
            f"Layer {layer!r} is not on the spatial path from the image (it is computed from "
            "globally pooled features, e.g. a squeeze-excitation gate), so its units have no "
            f"receptive field. Pick a feature map of the main path. Received: layer={layer!r}"
        )
    memo: Dict[int, _Field] = {id(inputs): ((1, 1, 0), (1, 1, 0))}

    def field_of(tensor: Any) -> _Field:  # iterative depth-first walk (deep graphs)
        stack = [tensor]
        while stack:
            current = stack[-1]
            if id(current) in memo:
                stack.pop()
                continue
            op, sources = producers[id(current)]
            pending = [t for t in sources if id(t) not in memo]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            memo[id(current)] = _apply(op, sources, current)
        return memo[id(tensor)]

    def _apply(op: Any, sources: list, output: Any) -> _Field:
        if hasattr(op, "kernel_size") or hasattr(op, "pool_size"):
            if len(sources) != 1:
                raise ModelError(f"Layer {op.name!r} has several inputs. Received: layer={layer!r}")
            return _window_layer(op, memo[id(sources[0])], _spatial(sources[0]))
        if isinstance(op, (keras.layers.ZeroPadding2D, keras.layers.Cropping2D)):
            return _shift_layer(op, memo[id(sources[0])])
        same = [t for t in sources if _spatial(t) == _spatial(output)]
        if not same:
            raise ModelError(
                f"Cannot compute a receptive field through layer {op.name!r} of class "
                f"{type(op).__name__}: it changes the spatial size without a known window. "
                f"Received: layer={layer!r}"
            )
        return _union([memo[id(t)] for t in same])

    return field_of(taps[layer])


def receptive_field(
    model: Any,
    layer: str,
    *,
    input_size: Optional[Union[int, Pair]] = None,
) -> ReceptiveField:
    """The receptive field of a layer's units: size, stride and offset in input pixels.

    See the module docstring for the rules (union over branches, `"same"` padding offsets).

    Args:
        model: A `Backbone` or a Keras classifier taking pixels.
        layer: Name of a layer with a 4-D `(N, h, w, C)` output.
        input_size: Image size `(height, width)` (or an int) the model runs at; it matters only
            for the offsets of `"same"`-padded strided layers. Default: the model's input size
            (224 x 224 for models taking any size).

    Returns:
        `ReceptiveField(size, stride, offset)`, each a `(rows, columns)` pair of ints; e.g.
        VGG16's `block3_conv3` has size `(40, 40)` and stride `(4, 4)`.

    Raises:
        LayerNotFoundError: Unknown layer.
        ModelError: The layer is not a feature map, or its path holds a layer whose field is
            unknown (e.g. a transposed convolution).
        ParameterError: Bad `input_size`.
    """
    backbone = as_backbone(model)
    spatial_layer(backbone, layer)
    size = parse_size(input_size, "input_size") or backbone.input_size or (224, 224)
    try:
        rows, cols = _fields(backbone, layer, (*size, 3))
    except ModelError:
        raise
    except ValueError as error:
        raise ParameterError(
            f"{backbone.name!r} cannot run at input size {tuple(size)} ({error}). Received: "
            f"input_size={input_size!r}"
        ) from error
    return ReceptiveField((rows[0], cols[0]), (rows[1], cols[1]), (rows[2], cols[2]))
