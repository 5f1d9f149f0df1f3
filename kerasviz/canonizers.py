"""Canonizers: linear layers as `apply(x, kernel, bias)`, with a following BatchNorm merged in.

Used by LRP (`kerasviz.relevance`, whose rules need the merged layer) and by the pixel gradients of
`kerasviz.attribution` (`merged_batch_norm_model`: the same function with one operation where there
were three, about 1.3x faster gradients on EfficientNet-Lite0).

`LinearOp` describes one linear operation of the relevance clone: a `Dense`, a convolution
(`Conv1D/2D/3D`, grouped too), a `DepthwiseConv2D`, or one half of a `SeparableConv2D` (its
depthwise and pointwise parts are two operations, as PyTorch models write them). A BatchNorm
right after it is merged the way Zennit's `MergeBatchNorm` canonizer does:
`kernel * s` and `bias * s + beta - mean * s` with `s = gamma / sqrt(var + eps)`. The merged
parameters are computed from the layers' variables inside the compiled function on every call,
so the user's layers are never changed and later training is seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import keras
import tensorflow as tf
from keras import ops

from .compiled import cached
from .graph_nodes import is_graph_model
from .graph_tracing import trace_graph

__all__ = ["LinearOp", "MergedLinear", "is_linear_layer", "linear_ops", "merged_batch_norm_model",
           "mergeable_batch_norm"]

_CONV = keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D


def is_linear_layer(layer: Any) -> bool:
    """Whether a node is a layer with an LRP rule of its own (dense or convolution)."""
    kinds = (keras.layers.Dense, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D, *_CONV)
    return isinstance(layer, kinds) and getattr(layer, "data_format", "channels_last") in (
        "channels_last", None,
    )


def mergeable_batch_norm(layer: Any, rank: int) -> bool:
    """A BatchNormalization over the last axis of a rank-`rank` input (the channels)."""
    if not isinstance(layer, keras.layers.BatchNormalization):
        return False
    axis = layer.axis
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            return False
        axis = axis[0]
    return int(axis) in (-1, rank - 1)


def _tensor(variable: Any) -> tf.Tensor:
    return tf.convert_to_tensor(ops.convert_to_tensor(variable), tf.float32)


@dataclass
class LinearOp:
    """One linear operation: `kind` in `dense`, `conv`, `depthwise`, `separable_depthwise`,
    `separable_pointwise`; `layer` its Keras layer, `norm` a merged BatchNorm (or None)."""

    kind: str
    layer: Any
    norm: Optional[Any] = None

    @property
    def layers(self) -> List[Any]:
        """The Keras layers whose variables it reads."""
        return [self.layer] + ([self.norm] if self.norm is not None else [])

    def _raw(self) -> Tuple[tf.Tensor, Optional[tf.Tensor]]:
        layer = self.layer
        if self.kind == "separable_depthwise":
            return _tensor(layer.depthwise_kernel), None
        if self.kind == "separable_pointwise":
            kernel = _tensor(layer.pointwise_kernel)
        else:
            kernel = _tensor(layer.kernel)
        bias = _tensor(layer.bias) if getattr(layer, "use_bias", False) else None
        return kernel, bias

    def parameters(self) -> Tuple[tf.Tensor, tf.Tensor]:
        """`(kernel, bias)` tensors, the BatchNorm merged; a zero bias when there is none."""
        kernel, bias = self._raw()
        outputs = self.output_channels(kernel)
        if bias is None:
            bias = tf.zeros([outputs], kernel.dtype)
        if self.norm is None:
            return kernel, bias
        norm = self.norm
        variance = _tensor(norm.moving_variance)
        scale = tf.math.rsqrt(variance + norm.epsilon)
        if norm.scale:
            scale = scale * _tensor(norm.gamma)
        shift = -_tensor(norm.moving_mean) * scale
        if norm.center:
            shift = shift + _tensor(norm.beta)
        if self.kind == "depthwise":
            kernel = kernel * tf.reshape(scale, kernel.shape[-2:])
        else:
            kernel = kernel * scale
        return kernel, bias * scale + shift

    def output_channels(self, kernel: tf.Tensor) -> int:
        """Number of output channels."""
        if self.kind in ("depthwise", "separable_depthwise"):
            return int(kernel.shape[-2] * kernel.shape[-1])
        return int(kernel.shape[-1])

    def apply(self, x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor) -> tf.Tensor:
        """The operation on `x` with the given parameters (bias added)."""
        layer = self.layer
        if self.kind == "dense":
            out = ops.matmul(x, kernel)
        elif self.kind == "conv":
            out = layer.convolution_op(x, kernel)
        elif self.kind in ("depthwise", "separable_depthwise"):
            out = ops.depthwise_conv(
                x, kernel, strides=layer.strides, padding=layer.padding,
                dilation_rate=layer.dilation_rate, data_format="channels_last",
            )
            if self.kind == "separable_depthwise":
                return out  # its bias is the pointwise part's
        else:  # separable_pointwise: a 1x1 convolution
            out = ops.conv(x, kernel, strides=1, padding="valid", data_format="channels_last")
        return tf.nn.bias_add(out, bias)  # a BiasAdd, which TensorFlow fuses into the operation


def linear_ops(layer: Any) -> List[LinearOp]:
    """The linear operations of a dense / convolution layer, in order (two for separable).

    Args:
        layer: A layer for which `is_linear_layer` holds.

    Returns:
        One `LinearOp`, or two for a `SeparableConv2D`.
    """
    if isinstance(layer, keras.layers.SeparableConv2D):
        return [LinearOp("separable_depthwise", layer), LinearOp("separable_pointwise", layer)]
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return [LinearOp("depthwise", layer)]
    if isinstance(layer, keras.layers.Dense):
        return [LinearOp("dense", layer)]
    return [LinearOp("conv", layer)]


class MergedLinear(keras.layers.Layer):
    """A linear layer and the BatchNorm after it as one operation (the merged parameters are
    computed from the shared variables on every call)."""

    def __init__(self, op: LinearOp, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.op = op
        self.inner = op.layers  # tracked: the twin reads the user's variables

    def call(self, x):
        kernel, bias = self.op.parameters()
        return self.op.apply(x, kernel, bias)


class _BatchNormMerger:
    """`Tracer` hook: a BatchNorm whose input is a linear layer's output (no activation)
    becomes one `MergedLinear` on that layer's input; every other node runs as it is."""

    def __init__(self) -> None:
        self.linear_out: Dict[int, Tuple[Any, Any]] = {}
        self.merged = 0

    def __call__(self, node: Any, *args: Any, **kwargs: Any) -> Any:
        source = self.linear_out.get(id(args[0])) if len(args) == 1 else None
        inference = kwargs.get("training") is not True and all(
            not isinstance(value, keras.KerasTensor) for value in kwargs.values())
        if source is not None and inference and mergeable_batch_norm(node, len(args[0].shape)):
            layer, x = source
            self.merged += 1
            return MergedLinear(LinearOp(linear_ops(layer)[0].kind, layer, node),
                                name=f"merged_{node.name}")(x)
        out = node(*args, **kwargs)
        linear = is_linear_layer(node) and not isinstance(node, keras.layers.SeparableConv2D)
        if linear and len(args) == 1 and not kwargs and getattr(node, "activation", None) in (
                None, keras.activations.linear):
            self.linear_out[id(out)] = (node, args[0])
        return out


def _merged(model: keras.Model) -> Optional[keras.Model]:
    merger = _BatchNormMerger()
    try:
        inputs, outputs, _ = trace_graph(model, None, merger)
    except Exception:  # noqa: BLE001 - a graph the tracer cannot rebuild keeps the model itself
        return None
    return keras.Model(inputs, outputs, name=f"{model.name}_merged") if merger.merged else None


def merged_batch_norm_model(model: Any) -> Any:
    """The model with every BatchNorm that follows a convolution or dense layer merged into it.

    The same function (outputs equal to float rounding; a gradient can differ where a ReLU or
    ReLU6 input lies within rounding of its kink), with one fused operation instead of
    convolution, multiply and add: faster forward and backward passes. Built once and cached
    with the model; the model is never changed and later training is seen.

    Args:
        model: A Keras model with one input.

    Returns:
        The merged twin, or `model` itself when nothing merges (no BatchNorm after a linear layer,
        a subclassed model, several inputs, or a graph that cannot be rebuilt).
    """
    if not isinstance(model, keras.Model) or not is_graph_model(model) or len(model.inputs) != 1:
        return model
    twin = cached(model, "merged_batch_norm_model", lambda: _merged(model))
    return model if twin is None else twin
