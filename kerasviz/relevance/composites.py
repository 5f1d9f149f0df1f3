"""Composites: which rule each linear layer gets, by name, with Zennit 0.5.1's layer mapping.

Zennit's layer map: convolutions (`torch.nn.Conv*`, here `Conv1D/2D/3D`, `DepthwiseConv2D`
and both parts of `SeparableConv2D`) get the composite's convolution rule, fully connected
layers (`torch.nn.Linear`, here `Dense`) the Epsilon rule, and a "first layer" (here: every
linear layer fed by the pixels through weightless layers only, e.g. after the preprocessing)
may get a special rule. Activations get Pass, sums and average pooling Norm, an unmerged
BatchNorm Pass (`layer_map_base`). `rules={layer name or layer class: rule}` overrides all.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Tuple

import keras

from ..checks import check_choice
from ..errors import ParameterError
from .rules import LINEAR_RULES, NODE_RULES, RULE_NAMES

__all__ = ["COMPOSITES", "Composite", "check_rules", "rules_key"]

#: name -> (convolution rule, dense rule, first-layer rule or None, first rule also for Dense).
COMPOSITES: Dict[str, Tuple[str, str, Optional[str], bool]] = {
    "epsilon": ("epsilon", "epsilon", None, False),
    "epsilon_plus": ("zplus", "epsilon", None, False),
    "epsilon_plus_flat": ("zplus", "epsilon", "flat", True),
    "epsilon_gamma_box": ("gamma", "epsilon", "zbox", False),
    "epsilon_alpha2_beta1": ("alpha2beta1", "epsilon", None, False),
    "epsilon_alpha2_beta1_flat": ("alpha2beta1", "epsilon", "flat", True),
}

RulesLike = Optional[Mapping[Any, str]]


def check_rules(rules: RulesLike) -> Dict[Any, str]:
    """Validate a `rules=` override mapping.

    Args:
        rules: `None`, or a mapping from a layer name (str) or a layer class to a rule name.

    Returns:
        A plain dict.

    Raises:
        ParameterError: Not a mapping, a key neither a name nor a layer class, or an unknown
            rule name (the valid names are listed).
    """
    if rules is None:
        return {}
    if not isinstance(rules, Mapping):
        raise ParameterError(
            "`rules` must be a dict {layer name or layer class: rule name}. Received: "
            f"rules={rules!r}"
        )
    checked: Dict[Any, str] = {}
    for key, rule in rules.items():
        if not (isinstance(key, str) or (isinstance(key, type) and issubclass(key, keras.Operation))):
            raise ParameterError(
                "Each key of `rules` must be a layer name or a Keras layer class. Received: "
                f"rules key {key!r}"
            )
        check_choice(rule, f"rules[{key!r}]", RULE_NAMES)
        checked[key] = rule
    return checked


def rules_key(rules: Dict[Any, str]) -> Tuple:
    """A hashable, order-free description of the overrides (for the clone cache)."""
    return tuple(sorted(((str(k), k if isinstance(k, str) else id(k), v) for k, v in rules.items()),
                        key=lambda item: (item[0], str(item[1]))))


class Composite:
    """Rule selection of one LRP call: a named composite plus overrides."""

    def __init__(self, name: str, overrides: Dict[Any, str]) -> None:
        """Args:
            name: A key of `COMPOSITES`.
            overrides: Checked `rules=` mapping.

        Raises:
            ParameterError: Unknown composite (the valid names are listed).
        """
        check_choice(name, "composite", tuple(COMPOSITES))
        self.name = name
        self.conv, self.dense, self.first, self.first_dense = COMPOSITES[name]
        self.overrides = overrides
        self.used: set = set()

    def override(self, node: Any) -> Optional[str]:
        """The overriding rule of a node (by its name first, then by its class), or None."""
        name = getattr(node, "name", None)
        if name in self.overrides:
            self.used.add(name)
            return self.overrides[name]
        for key, rule in self.overrides.items():
            if isinstance(key, type) and isinstance(node, key):
                self.used.add(key)
                return rule
        return None

    def linear_rule(self, layer: Any, dense: bool, first: bool) -> str:
        """The rule of a linear layer.

        Raises:
            ParameterError: An override maps it to a rule for layers without weights.
        """
        rule = self.override(layer)
        if rule is not None:
            if rule not in LINEAR_RULES:
                raise ParameterError(
                    f"Layer {layer.name!r} ({type(layer).__name__}) has weights: give it one of "
                    f"{list(LINEAR_RULES)}. Received: rules[{layer.name!r}]={rule!r}"
                )
            return rule
        if first and self.first is not None and (self.first_dense or not dense):
            return self.first
        return self.dense if dense else self.conv

    def node_rule(self, node: Any, default: Optional[str]) -> Optional[str]:
        """The rule of a weightless node: its override, else `default` (None: no rule known).

        Raises:
            ParameterError: An override maps it to a rule for layers with weights.
        """
        rule = self.override(node)
        if rule is None:
            return default
        if rule not in NODE_RULES:
            raise ParameterError(
                f"Node {node.name!r} ({type(node).__name__}) has no weights: give it one of "
                f"{list(NODE_RULES)}. Received: rules[{node.name!r}]={rule!r}"
            )
        return rule

    def unused(self) -> list:
        """Override keys that matched no node of the model."""
        return [key for key in self.overrides if key not in self.used]
