"""LRP rules as relevance maps of one linear operation, equal to Zennit 0.5.1's definitions.

A linear operation is `apply(x, kernel, bias)` (a convolution, depthwise convolution or matrix
product plus bias). Every rule follows Zennit's `BasicHook`: it builds modified inputs and
parameters, runs the operation on each, divides the upper relevance by a stabilized sum of the
outputs (the *gradient mapper*), takes the gradient of the outputs with respect to the modified
inputs with those divided relevances as output gradients, and reduces inputs x gradients. The
stabilizer is Zennit's: `z + (1[z == 0] + sign(z)) * eps` (zero counts as positive).

Rules (Zennit class in brackets): `epsilon` (Epsilon, bias kept), `zplus` (ZPlus: positive
weights on positive inputs with the positive bias, negative weights on negative inputs without
bias), `gamma` (Gamma, the generalized form for inputs of both signs), `alpha2beta1` /
`alpha1beta0` (AlphaBeta), `flat` (Flat: ones for inputs and weights, no bias), `wsquare`
(WSquare: squared weights and bias), `zbox` (ZBox with pixel bounds). Node rules that need no
weights (`pass`, `norm`, `gradient`) live in `layers.py`.
"""

from __future__ import annotations

from typing import Callable, List, Optional, Sequence, Tuple

import tensorflow as tf

__all__ = [
    "LINEAR_RULES",
    "NODE_RULES",
    "RULE_NAMES",
    "STABILIZER",
    "linear_relevance",
    "stabilize",
]

#: Rules for layers with weights (convolutions, dense layers).
LINEAR_RULES = ("epsilon", "zplus", "gamma", "alpha2beta1", "alpha1beta0", "flat", "wsquare", "zbox")
#: Rules for layers without weights: `pass` (relevance unchanged, element-wise layers), `norm`
#: (Zennit's Norm: sums and average pooling split relevance by each input's share), `gradient`
#: (the plain gradient, which routes relevance for max pooling, padding, reshapes, slices).
NODE_RULES = ("pass", "norm", "gradient")
RULE_NAMES = LINEAR_RULES + NODE_RULES
#: Zennit's default stabilizer of every rule except Epsilon (whose epsilon is the parameter).
STABILIZER = 1e-6

Apply = Callable[[tf.Tensor, tf.Tensor, tf.Tensor], tf.Tensor]
Term = Tuple[tf.Tensor, tf.Tensor, tf.Tensor]  # (input, kernel, bias)


def stabilize(values: tf.Tensor, epsilon: float) -> tf.Tensor:
    """Zennit's stabilizer: add `epsilon` with each entry's sign, zero counting as positive.

    Args:
        values: Any tensor (the denominators).
        epsilon: Non-negative shift.

    Returns:
        `values + (1[values == 0] + sign(values)) * epsilon`.
    """
    sign = tf.cast(tf.equal(values, 0.0), values.dtype) + tf.sign(values)
    return values + sign * epsilon


def _positive(t: tf.Tensor) -> tf.Tensor:
    return tf.maximum(t, 0.0)


def _negative(t: tf.Tensor) -> tf.Tensor:
    return tf.minimum(t, 0.0)


def _run_terms(apply: Apply, terms: Sequence[Term]) -> Tuple[tf.GradientTape, List, List]:
    """Outputs of `apply` on each term, recorded on a tape for the gradients afterwards."""
    inputs = [term[0] for term in terms]
    with tf.GradientTape(persistent=False) as tape:
        tape.watch(inputs)
        outputs = [apply(x, kernel, bias) for x, kernel, bias in terms]
    return tape, inputs, outputs


def _group(
    apply: Apply, terms: Sequence[Term], relevance: tf.Tensor, mask: Optional[tf.Tensor]
) -> List[tf.Tensor]:
    """Zennit's mapper + gradient for terms sharing one denominator: the list of input x grads."""
    tape, inputs, outputs = _run_terms(apply, terms)
    mapped = relevance / stabilize(tf.add_n(outputs), STABILIZER)
    if mask is not None:
        mapped = mapped * mask
    grads = tape.gradient(outputs, inputs, output_gradients=[mapped] * len(outputs))
    return [x * g for x, g in zip(inputs, grads)]


def _signed_terms(
    x: tf.Tensor, first: Tuple[tf.Tensor, tf.Tensor], second: Tuple[tf.Tensor, tf.Tensor],
    nonnegative: bool,
) -> List[Term]:
    """`[(x+, first kernel, first bias), (x-, second kernel, 0)]`; the x- term dropped when x >= 0."""
    terms = [(_positive(x), first[0], first[1])]
    if not nonnegative:
        terms.append((_negative(x), second[0], tf.zeros_like(second[1])))
    return terms


def _alpha_beta(apply, x, kernel, bias, relevance, alpha, beta, nonnegative) -> tf.Tensor:
    wp, wn, bp, bn = _positive(kernel), _negative(kernel), _positive(bias), _negative(bias)
    result = tf.add_n(_group(apply, _signed_terms(x, (wp, bp), (wn, bn), nonnegative), relevance, None))
    if alpha != 1.0:
        result = alpha * result
    if beta:
        negative = _group(apply, _signed_terms(x, (wn, bn), (wp, bp), nonnegative), relevance, None)
        result = result - beta * tf.add_n(negative)
    return result


def _gamma_nonnegative(apply, x, kernel, bias, relevance, output, gamma) -> tf.Tensor:
    """Zennit's Gamma for `x >= 0`, with one extra convolution instead of two.

    With `p = apply(x, W+, 0)` and `z` the output: Zennit's positive-output term is
    `z + gamma (p + b+)`, its negative-output term `z + gamma (z - b - p + b-)`, and the
    relevance `x * [W^T (gA + (1 + gamma) gB) + gamma W+^T (gA - gB)]` (the same algebra).
    """
    zero = tf.zeros_like(bias)
    positive_kernel = _positive(kernel)
    with tf.GradientTape() as tape:
        tape.watch(x)
        plain = apply(x, kernel, zero)  # only its gradient is used
        p = apply(x, positive_kernel, zero)
    up = output + gamma * (p + _positive(bias))
    down = output + gamma * (output - bias - p + _negative(bias))
    g_up = tf.cast(output > 0.0, output.dtype) * relevance / stabilize(up, STABILIZER)
    g_down = tf.cast(output < 0.0, output.dtype) * relevance / stabilize(down, STABILIZER)
    grads = tape.gradient(
        [plain, p], x, output_gradients=[g_up + (1.0 + gamma) * g_down, gamma * (g_up - g_down)]
    )
    return x * grads


def _gamma(apply, x, kernel, bias, relevance, output, gamma, nonnegative) -> tf.Tensor:
    if nonnegative:
        return _gamma_nonnegative(apply, x, kernel, bias, relevance, output, gamma)
    up = (kernel + gamma * _positive(kernel), bias + gamma * _positive(bias))
    down = (kernel + gamma * _negative(kernel), bias + gamma * _negative(bias))
    positive_out = tf.cast(output > 0.0, output.dtype)
    negative_out = tf.cast(output < 0.0, output.dtype)
    parts = _group(apply, _signed_terms(x, up, down, nonnegative), relevance, positive_out)
    parts += _group(apply, _signed_terms(x, down, up, nonnegative), relevance, negative_out)
    return tf.add_n(parts)


def _zbox(apply, x, kernel, bias, relevance, low, high) -> tf.Tensor:
    low = tf.broadcast_to(tf.cast(low, x.dtype), tf.shape(x))
    high = tf.broadcast_to(tf.cast(high, x.dtype), tf.shape(x))
    terms = [
        (x, kernel, bias),
        (low, _positive(kernel), _positive(bias)),
        (high, _negative(kernel), _negative(bias)),
    ]
    tape, inputs, outputs = _run_terms(apply, terms)
    mapped = relevance / stabilize(outputs[0] - outputs[1] - outputs[2], STABILIZER)
    grads = tape.gradient(outputs, inputs, output_gradients=[mapped] * 3)
    return inputs[0] * grads[0] - inputs[1] * grads[1] - inputs[2] * grads[2]


def _ones_input(apply, x, kernel, bias, relevance) -> tf.Tensor:
    """Flat / WSquare: the input replaced by ones, the result is the gradient itself."""
    ones = tf.ones_like(x)
    with tf.GradientTape() as tape:
        tape.watch(ones)
        output = apply(ones, kernel, bias)
    return tape.gradient(output, ones, output_gradients=relevance / stabilize(output, STABILIZER))


def linear_relevance(
    rule: str,
    apply: Apply,
    x: tf.Tensor,
    kernel: tf.Tensor,
    bias: tf.Tensor,
    output: tf.Tensor,
    relevance: tf.Tensor,
    *,
    epsilon: float,
    gamma: float,
    low: Optional[tf.Tensor] = None,
    high: Optional[tf.Tensor] = None,
    nonnegative: bool = False,
) -> tf.Tensor:
    """Relevance of the input of one linear operation under a rule (Zennit 0.5.1's definition).

    Args:
        rule: A name in `LINEAR_RULES`.
        apply: `apply(x, kernel, bias) -> output` (bias included).
        x: The operation's input `(N, ...)`.
        kernel: Its kernel (after any BatchNorm merge).
        bias: Its bias (zeros when the layer has none).
        output: `apply(x, kernel, bias)` from the forward pass (reused, not recomputed).
        relevance: Relevance of the output, shaped like `output`.
        epsilon: The Epsilon rule's stabilizer (>= 0).
        gamma: The Gamma rule's weight of the positive (or negative) parameters (>= 0).
        low: ZBox lower bound of `x` (broadcastable to it).
        high: ZBox upper bound of `x`.
        nonnegative: `x >= 0` is known from the graph (after a ReLU), so the terms of negative
            inputs, which are exactly zero, are skipped.

    Returns:
        Relevance of `x`, shaped like `x`.
    """
    if rule == "epsilon":
        with tf.GradientTape() as tape:
            tape.watch(x)
            recomputed = apply(x, kernel, bias)  # only its gradient is used: pruned by grappler
        return x * tape.gradient(
            recomputed, x, output_gradients=relevance / stabilize(output, epsilon)
        )
    if rule == "zplus" or rule == "alpha1beta0":
        return _alpha_beta(apply, x, kernel, bias, relevance, 1.0, 0.0, nonnegative)
    if rule == "alpha2beta1":
        return _alpha_beta(apply, x, kernel, bias, relevance, 2.0, 1.0, nonnegative)
    if rule == "gamma":
        return _gamma(apply, x, kernel, bias, relevance, output, gamma, nonnegative)
    if rule == "zbox":
        return _zbox(apply, x, kernel, bias, relevance, low, high)
    if rule == "flat":
        return _ones_input(apply, x, tf.ones_like(kernel), tf.zeros_like(bias), relevance)
    if rule == "wsquare":
        return _ones_input(apply, x, tf.square(kernel), tf.square(bias), relevance)
    raise ValueError(f"not a linear rule: {rule!r}")  # names are validated at the boundary
