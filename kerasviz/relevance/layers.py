"""Keras layers of the relevance clone: the original forward pass, LRP as their gradient.

Each layer computes exactly what the node it replaces computes, inside a `tf.custom_gradient`
whose backward maps the relevance of the output to the relevance of the inputs ("relevance
travels as the gradient", Zennit's design). One backward pass of the clone is then one LRP pass.

- `LinearRule`: a convolution / dense layer (its BatchNorm merged) under a rule of `rules.py`,
  then its activation under the pass rule.
- `NodeRule`: a layer or operation node without weights under `pass` (relevance unchanged,
  element-wise layers), `norm` (Zennit's Norm: sums, means, average pooling), `gate` (a
  product: all relevance to the feature input, none to the gate), `uniform` (a product of two
  features: half to each, AttnLRP's uniform rule) or `layer_norm` (AttnLRP's rule: epsilon
  through the normalization with the standard deviation held constant).
- `RelevanceMask`: identity forward; backward multiplies relevance by a channel mask (concept
  relevance).
"""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Sequence

import keras
import tensorflow as tf

from ..canonizers import LinearOp
from .rules import STABILIZER, linear_relevance, stabilize

__all__ = ["LinearRule", "NodeRule", "RelevanceMask", "pass_activation"]


def pass_activation(activation: Optional[Callable], z: tf.Tensor) -> tf.Tensor:
    """`activation(z)` whose gradient is the identity (Zennit's Pass rule on activations).

    Args:
        activation: An element-wise function, or `None` for none.
        z: Its input.

    Returns:
        `activation(z)`; relevance passes to `z` unchanged.
    """
    if activation is None:
        return z

    @tf.custom_gradient
    def passed(x):
        def backward(upstream):
            return upstream

        return activation(x), backward

    return passed(z)


class LinearRule(keras.layers.Layer):
    """A linear layer (BatchNorm merged) whose gradient is its LRP rule's relevance."""

    def __init__(
        self,
        op: LinearOp,
        rule: str,
        *,
        epsilon: float,
        gamma: float,
        nonnegative: bool,
        activation: Optional[Callable],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.op = op
        self.inner = op.layers  # tracked: the clone owns the shared weights
        self.rule = rule
        self.epsilon = float(epsilon)
        self.gamma = float(gamma)
        self.nonnegative = bool(nonnegative)
        self.activation = activation

    def call(self, x, low=None, high=None):
        kernel, bias = self.op.parameters()
        apply = self.op.apply
        options = dict(epsilon=self.epsilon, gamma=self.gamma, nonnegative=self.nonnegative)

        @tf.custom_gradient
        def linear(inputs, kernel, bias, *bounds):
            output = apply(inputs, kernel, bias)

            def backward(relevance):
                lo, hi = bounds if bounds else (None, None)
                result = linear_relevance(
                    self.rule, apply, inputs, kernel, bias, output, relevance,
                    low=lo, high=hi, **options,
                )
                return (result, None, None) + tuple(None for _ in bounds)

            return output, backward

        bounds = () if low is None else (low, high)
        return pass_activation(self.activation, linear(x, kernel, bias, *bounds))


class NodeRule(keras.layers.Layer):
    """A node without weights (layer or `keras.ops` node) under a weightless rule."""

    def __init__(self, run: Callable[..., Any], rule: str, owner: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run = run
        self.rule = rule
        if isinstance(owner, keras.layers.Layer):
            self.inner = owner  # tracked (a LayerNormalization's scale and offset)

    def call(self, tensors: List[Any]):
        run, rule, owner = self.run, self.rule, getattr(self, "inner", None)

        @tf.custom_gradient
        def node(*inputs):
            output = run(*inputs)

            def backward(relevance, variables=None):
                grads = tuple(_node_relevance(rule, run, owner, inputs, output, relevance))
                if variables is None:
                    return grads
                return grads, [tf.zeros_like(v) for v in variables]  # relevance is not a weight gradient

            return output, backward

        return node(*tensors)


def _reduce_to(value: tf.Tensor, like: tf.Tensor) -> tf.Tensor:
    """Sum a broadcast relevance back to the shape of the input it came from."""
    if value.shape.rank == like.shape.rank and value.shape == like.shape:
        return value
    extra = value.shape.rank - like.shape.rank
    if extra > 0:
        value = tf.reduce_sum(value, axis=list(range(extra)))
    axes = [i for i, size in enumerate(like.shape) if size == 1 and value.shape[i] != 1]
    return tf.reduce_sum(value, axis=axes, keepdims=True) if axes else value


def _node_relevance(
    rule: str, run: Callable, owner: Any, inputs: Sequence[tf.Tensor], output: tf.Tensor, relevance: tf.Tensor
) -> List[tf.Tensor]:
    if rule == "pass":
        return [_reduce_to(relevance, inputs[0])] + [tf.zeros_like(t) for t in inputs[1:]]
    if rule == "gate":  # the first input is the feature, the others gates
        return [_reduce_to(relevance, inputs[0])] + [tf.zeros_like(t) for t in inputs[1:]]
    if rule == "uniform":
        return [_reduce_to(relevance / len(inputs), t) for t in inputs]
    if rule == "layer_norm":
        return [_layer_norm_relevance(owner, inputs[0], output, relevance)]
    # norm: Zennit's Norm, x_i * d output / d x_i applied to R / stab(output)
    with tf.GradientTape() as tape:
        tape.watch(list(inputs))
        recomputed = run(*inputs)
    grads = tape.gradient(
        recomputed, list(inputs), output_gradients=relevance / stabilize(output, STABILIZER)
    )
    return [x * (tf.zeros_like(x) if g is None else g) for x, g in zip(inputs, grads)]


def _layer_norm_relevance(layer: Any, x: tf.Tensor, output: tf.Tensor, relevance: tf.Tensor):
    """AttnLRP's LayerNorm rule: epsilon-LRP through the norm with its deviation held constant."""
    axes = layer.axis if isinstance(layer.axis, (list, tuple)) else [layer.axis]
    mean, variance = tf.nn.moments(x, axes=axes, keepdims=True)
    inverse = tf.stop_gradient(tf.math.rsqrt(variance + layer.epsilon))
    with tf.GradientTape() as tape:
        tape.watch(x)
        centred = (x - mean) * inverse
        if layer.scale:
            centred = centred * tf.cast(layer.gamma, x.dtype)
    grads = tape.gradient(centred, x, output_gradients=relevance / stabilize(output, STABILIZER))
    return x * grads


class RelevanceMask(keras.layers.Layer):
    """Identity forward; backward keeps only the relevance of the masked channels."""

    def call(self, x, mask):
        @tf.custom_gradient
        def masked(inputs, channel_mask):
            def backward(relevance):
                shape = [-1] + [1] * (inputs.shape.rank - 2) + [inputs.shape[-1]]
                return relevance * tf.reshape(channel_mask, shape), None

            return tf.identity(inputs), backward

        return masked(x, mask)
