"""The relevance clone: the model's graph rebuilt with LRP rules as its layers' gradients.

`relevance_model` traces the model (nested models inlined) and replaces every node by its
relevance twin (`layers.py`): linear layers by `LinearRule` (a following BatchNorm merged),
weightless nodes by `NodeRule` or themselves (`gradient` kind). Its plain backward pass, seeded
with the target logit, is one LRP pass. The clone shares the user's weights and is cached per
(model, composite, overrides, parameters, concept layer); the user's model is never modified.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Set, Tuple

import keras
from keras import ops

from ..canonizers import LinearOp, is_linear_layer, linear_ops, mergeable_batch_norm
from ..compiled import cached
from ..errors import ModelError, ParameterError
from ..graph_nodes import find_layer, opaque_models
from ..graph_tracing import Tracer, single_input_shape
from ..model_outputs import select_output
from .composites import Composite, rules_key
from .layers import LinearRule, NodeRule, RelevanceMask
from .node_kinds import RELU_NAMES, activation_name, node_kind

__all__ = ["RelevanceClone", "relevance_model"]

_GATING = {"sigmoid", "hardsigmoid", "softmax", "tanh"}


class RelevanceClone:
    """Builds the clone during tracing: the `call_layer` hook of a `Tracer`."""

    def __init__(self, composite: Composite, epsilon: float, gamma: float, low: float,
                 high: float, pixels: Any, concept_layer: Optional[str], mask: Any) -> None:
        self.composite = composite
        self.options = dict(epsilon=epsilon, gamma=gamma)
        self.low, self.high = low, high
        self.pixels = pixels
        self.nonnegative: Set[int] = {id(pixels)}  # pixels are validated to [0, 255]
        self.raw: Set[int] = {id(pixels)}  # reached from the pixels through weightless nodes
        self.gating: Set[int] = set()  # outputs of sigmoid-like activations
        self.linear_out: Dict[int, Tuple[LinearOp, Any, str, bool]] = {}
        self.softmax_out: List[int] = []
        self.concept_layer, self.mask = concept_layer, mask
        self.concept_tensor: Any = None
        self.masked: Set[int] = set()
        self.rules_used: Dict[str, str] = {}
        self.count = 0

    def _name(self, node: Any) -> str:
        self.count += 1
        return f"lrp{self.count}_{node.name}"

    # ---------------------------------------------------------------- the hook

    def __call__(self, node: Any, *args: Any, **kwargs: Any) -> Any:
        out = self._relevance_node(node, args, kwargs)
        if self.concept_layer is not None and node.name == self.concept_layer:
            out = self._mask(out)
        return out

    def _mask(self, out: Any) -> Any:
        """Keep only the concept channels' relevance at `out` (a BatchNorm merged later keeps it)."""
        self.count += 1
        masked = RelevanceMask(name=f"lrp{self.count}_concept")(out, self.mask)
        if id(out) in self.linear_out:
            self.linear_out[id(masked)] = self.linear_out[id(out)]
        self.masked.add(id(masked))
        self.concept_tensor = masked
        return masked

    def _relevance_node(self, node: Any, args: tuple, kwargs: dict) -> Any:
        layer, activation = node, getattr(node, "activation", None)
        if hasattr(node, "inner") and hasattr(node, "_linear"):  # kerasviz's softmax-free copy
            layer, activation = node.inner, None
        if is_linear_layer(layer):
            return self._linear(layer, args[0], activation)
        tensors = [t for t in keras.tree.flatten((args, kwargs)) if isinstance(t, keras.KerasTensor)]
        if isinstance(node, keras.layers.BatchNormalization) and tensors:
            merged = self.linear_out.get(id(tensors[0]))
            if merged is not None and mergeable_batch_norm(node, len(tensors[0].shape)):
                op, x, rule, nonnegative = merged
                self.rules_used[node.name] = f"merged into {op.layer.name}"
                out = self._apply_linear(LinearOp(op.kind, op.layer, node), x, rule, nonnegative,
                                         None, node)
                return self._mask(out) if id(tensors[0]) in self.masked else out
        kind = node_kind(node)
        if kind == "layer_norm" and not isinstance(node.axis, int) and len(node.axis) != 1:
            kind = None
        if kind == "product":
            kind = "pass" if len(tensors) == 1 else "product"  # a scaling by a constant: exact
        rule = self.composite.node_rule(node, None if kind == "softmax" else kind)
        if kind == "softmax" and rule is None:
            return self._strip_softmax(node, tensors)
        if rule is None:
            raise ModelError(
                f"LRP has no rule for node {node.name!r} ({type(node).__name__}): its relevance "
                "would be wrong, so no map is made. Give it one with `rules={"
                f"{node.name!r}: 'pass' | 'norm' | 'gradient'}}` if one of them fits (see the "
                "LRP section of the README), or explain the model with a gradient technique. "
                f"Received: model with layer {node.name!r}"
            )
        self.rules_used[node.name] = rule
        if rule == "gradient":
            out = node(*args, **kwargs)
        else:
            out = self._weightless(node, args, kwargs, tensors, rule)
        self._track(node, tensors, out, rule)
        return out

    # ---------------------------------------------------------------- linear layers

    def _linear(self, layer: Any, x: Any, activation: Any) -> Any:
        first = id(x) in self.raw
        dense = isinstance(layer, keras.layers.Dense)
        rule = self.composite.linear_rule(layer, dense, first)
        self.rules_used[layer.name] = rule
        parts = linear_ops(layer)
        nonnegative = id(x) in self.nonnegative
        for op in parts[:-1]:  # the depthwise half of a separable convolution
            x = self._apply_linear(op, x, rule, nonnegative, None, layer)
            nonnegative = False
        return self._apply_linear(parts[-1], x, rule, nonnegative, activation, layer)

    def _apply_linear(self, op: LinearOp, x: Any, rule: str, nonnegative: bool,
                      activation: Any, node: Any) -> Any:
        name = activation_name(activation)
        if name == "softmax":
            function = None
        else:
            function = None if name == "linear" else activation
        bounds = self._bounds(x) if rule == "zbox" else ()
        twin = LinearRule(op, rule, nonnegative=nonnegative, activation=function,
                          name=self._name(node), **self.options)
        out = twin(x, *bounds)
        if name == "softmax":
            self.softmax_out.append(id(out))
        if function is None:
            self.linear_out[id(out)] = (op, x, rule, nonnegative)
        if name in RELU_NAMES:
            self.nonnegative.add(id(out))
        if name in _GATING:
            self.gating.add(id(out))
        return out

    def _bounds(self, x: Any) -> Tuple[Any, Any]:
        """ZBox bounds in the space of `x`: the pixel bounds run through the layers before it."""
        low = ops.full_like(self.pixels, self.low)
        high = ops.full_like(self.pixels, self.high)
        if x is self.pixels:
            return low, high
        if id(x) not in self.raw:
            raise ParameterError(
                "The zbox rule needs pixel bounds, so it only fits a layer fed by the pixels "
                "through weightless layers (the first layer). Received: a zbox rule on a deeper "
                "layer"
            )
        prefix = keras.Model(self.pixels, x)
        return prefix(low), prefix(high)

    # ---------------------------------------------------------------- weightless nodes

    def _weightless(self, node: Any, args: tuple, kwargs: dict, tensors: List[Any], rule: str):
        flat = keras.tree.flatten((args, kwargs))
        slots = [i for i, value in enumerate(flat) if isinstance(value, keras.KerasTensor)]
        order = list(range(len(tensors)))
        if rule == "product":
            rule = self._product_rule(tensors, order)
        if rule == "pass" and len(tensors) > 1:
            raise ParameterError(
                f"The pass rule fits nodes with one input; {node.name!r} has {len(tensors)}. "
                f"Use 'norm' or 'gradient'. Received: rules[{node.name!r}]='pass'"
            )

        def run(*inputs):
            values = list(flat)
            for position, slot in enumerate(slots):
                values[slot] = inputs[order.index(position)]
            a, k = keras.tree.pack_sequence_as((args, kwargs), values)
            return node(*a, **k)

        ordered = [tensors[i] for i in order]
        return NodeRule(run, rule, owner=node, name=self._name(node))(ordered)

    def _product_rule(self, tensors: List[Any], order: List[int]) -> str:
        """A product's rule: `gate` (feature input first in `order`) or AttnLRP's `uniform`."""
        sizes = [sum(1 for d in t.shape if d != 1) for t in tensors]
        shapes = [tuple(t.shape) for t in tensors]
        feature: Optional[int] = None
        if len(set(shapes)) > 1:  # a broadcast gate (squeeze-excitation)
            feature = max(range(len(tensors)), key=lambda i: (sizes[i], -i))
        else:
            gates = [i for i, t in enumerate(tensors) if id(t) in self.gating]
            if len(gates) == len(tensors) - 1:
                feature = next(i for i in range(len(tensors)) if i not in gates)
        if feature is None:
            return "uniform"
        order.remove(feature)
        order.insert(0, feature)
        return "gate"

    def _strip_softmax(self, node: Any, tensors: List[Any]) -> Any:
        self.rules_used[node.name] = "removed (final softmax)"
        self.softmax_out.append(id(tensors[0]))
        return tensors[0]

    def _track(self, node: Any, tensors: List[Any], out: Any, rule: str) -> None:
        ids = [id(t) for t in tensors]
        if rule == "gradient" and ids and all(i in self.nonnegative for i in ids):
            self.nonnegative.add(id(out))
        if rule in ("gradient", "pass") and ids and any(i in self.raw for i in ids):
            self.raw.add(id(out))
        name = activation_name(getattr(node, "activation", None))
        op_name = type(node).__name__.lower().replace("_", "")
        plain_relu = isinstance(node, keras.layers.ReLU) and not float(node.negative_slope) and float(
            node.threshold) >= 0
        if rule == "pass" and (name in RELU_NAMES or op_name in RELU_NAMES or plain_relu):
            self.nonnegative.add(id(out))
        if rule == "pass" and (name in _GATING or op_name in _GATING):
            self.gating.add(id(out))


def _check_model(model: keras.Model) -> None:
    hidden = opaque_models(model)
    if hidden:
        raise ModelError(
            f"LRP rebuilds the model layer by layer, but {hidden} are subclassed models (a "
            "`call` method, no layer graph) whose layers cannot be reached. Build the network "
            "with the functional API, or use a gradient technique. Received: "
            f"model={model.name!r}"
        )


def relevance_model(
    model: keras.Model,
    composite: Composite,
    *,
    epsilon: float,
    gamma: float,
    low: float,
    high: float,
    concept_layer: Optional[str] = None,
) -> Tuple[keras.Model, Dict[str, str]]:
    """Build (or fetch) the relevance clone of a pixels -> logits model.

    Args:
        model: The Backbone's Keras model (pixels in `[0, 255]` -> logits or probabilities).
        composite: Rule selection (named composite + overrides).
        epsilon: Epsilon rule stabilizer.
        gamma: Gamma rule parameter.
        low: Lowest pixel value (ZBox).
        high: Highest pixel value (ZBox).
        concept_layer: Also take a channel mask `(N, C)` as a second input and keep only the
            relevance of those channels of this layer (concept relevance).

    Returns:
        `(clone, rules)`: the clone `pixels -> logits` (or `[pixels, mask] -> logits`) and the
        rule each node got, by name.

    Raises:
        ModelError: Subclassed parts, a node without a rule, a softmax inside the network.
        ParameterError: An override that does not fit its layer, or names no layer.
        LayerNotFoundError: `concept_layer` is not in the model.
    """
    _check_model(model)
    if concept_layer is not None:
        find_layer(model, concept_layer)
    key = ("lrp_clone", composite.name, rules_key(composite.overrides), float(epsilon),
           float(gamma), float(low), float(high), concept_layer)

    def build() -> Tuple[keras.Model, Dict[str, str]]:
        pixels = keras.Input(shape=single_input_shape(model), name="pixels")
        mask = None
        if concept_layer is not None:
            width = find_layer(model, concept_layer).output.shape[-1]
            mask = keras.Input(shape=(width,), name="channel_mask")
        hook = RelevanceClone(composite, epsilon, gamma, low, high, pixels, concept_layer, mask)
        output = select_output(model, Tracer(hook).run(model, pixels), None)
        inner = [i for i in hook.softmax_out if i != id(output)]
        if inner:
            raise ModelError(
                "LRP has no rule for a softmax inside the network (only a final softmax is "
                f"removed). Received: model={model.name!r}"
            )
        unused = composite.unused()
        if unused:
            raise ParameterError(
                f"`rules` names {unused}, which match no layer of {model.name!r}. Received: "
                f"rules keys {list(composite.overrides)}"
            )
        inputs = pixels if mask is None else [pixels, mask]
        return keras.Model(inputs, output, name=f"{model.name}_lrp"), dict(hook.rules_used)

    return cached(model, key, build)
