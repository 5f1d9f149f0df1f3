"""What a technique is, for the registry: `Technique` (name, function, family, needs, output,
options, panel) and `Option`, and the vocabulary they use (`FAMILIES`, `NEEDS`, `OUTPUTS`).

Imports nothing heavy: functions are `"module:function"` strings resolved on first use.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Optional, Tuple

__all__ = ["FAMILIES", "FAMILY_TITLES", "NEEDS", "OUTPUTS", "Option", "Technique", "resolve"]

#: Families in the order of the README, `kerasviz --help` and the demo gallery.
FAMILIES = (
    "basics",
    "inspect",
    "attribution",
    "cams",
    "relevance",
    "blackbox",
    "metrics",
    "concepts",
    "synthesis",
    "style",
    "serving",
)

#: Each family's heading in the README's tables.
FAMILY_TITLES = {
    "basics": "basics", "inspect": "inspect", "attribution": "attribution", "cams": "CAM family",
    "relevance": "relevance (LRP)", "blackbox": "black-box (models you can only query)",
    "metrics": "evaluation", "concepts": "concepts, datasets", "synthesis": "synthesis",
    "style": "fast style", "serving": "serving",
}

#: What a technique may need from a model.
NEEDS = {
    "class_scores": "a classifier head (logits); headless models are refused",
    "layer": "a layer inside the model (subclassed models hide theirs)",
    "gradients": "the model's gradients, in this process",
    "attention": "keras.layers.MultiHeadAttention layers (a vision transformer)",
    "queries": "only the model's outputs: works through a server",
}

#: What a technique's function returns.
OUTPUTS = {
    "heatmap": "float32 (N, H, W) in [0, 1]",
    "attribution": "float32 (N, H, W, 3) signed, in score units",
    "relevance": "float32 (N, H, W) signed, summing to the explained score",
    "probability_drop": "float32 (N, H, W) signed drop of the class probability",
    "importance": "float32 (N, H, W) >= 0, larger = more important (not normalized)",
    "signed": "float32 (N, H, W) signed scores per pixel or segment (> 0: for the class)",
}


@dataclass(frozen=True)
class Option:
    """One keyword option of a technique, as the command line and the explorer offer it.

    Attributes:
        name: The function's keyword, e.g. `"samples"` (the flag is `--samples`).
        type: `int`, `float` or `str`.
        default: The value used when the option is not given.
        help: One line for `--help` and the explorer.
        choices: The allowed values, if a closed set.
        repeat: The flag may be given several times (a list), e.g. LayerCAM's `--layer`.
        quick: A small value for fast checks (the conformance matrix, quick demos), if the
            default is slow.
    """

    name: str
    type: type
    default: Any
    help: str
    choices: Optional[Tuple[Any, ...]] = None
    repeat: bool = False
    quick: Any = None

    @property
    def flag(self) -> str:
        """The command-line flag, e.g. `--ig-steps` for `ig_steps`."""
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class Technique:
    """One technique: a public function and how every front end offers it.

    Attributes:
        name: The Python name (`kv.<name>`); the command is the name with hyphens.
        title: The name people know, e.g. `"Grad-CAM++"` (labels, captions, tables).
        function: `"module:function"`, imported on first use.
        family: One of `FAMILIES`.
        summary: One line for `--help`, the explorer and the README.
        needs: Keys of `NEEDS`.
        output: A key of `OUTPUTS`: how to read the function's result.
        options: The options the command line and the explorer offer.
        targeted: Takes a class `target` (`False`: class-agnostic, e.g. Eigen-CAM).
        panel: `(title, "module:render")` of its demo panel, or `None`.
        servable: `export_explainer` can compile it into a SavedModel.
        noise_tunnel: A built-in method of `smoothgrad`.
        short_command: The subcommand when it is not the name with hyphens (e.g. `sobol`).
        batched: Takes a batch of images (`False`: one image per call, e.g. LIME; front ends
            call it once per image).
        faithfulness: Listed by `kerasviz faithfulness` and `kv.evaluate` by default.
        own_command: A CLI module writes its command (e.g. guided backprop's gradient picture)
            instead of the generic heatmap command.
    """

    name: str
    title: str
    function: str
    family: str
    summary: str
    needs: Tuple[str, ...] = ("class_scores", "gradients")
    output: str = "heatmap"
    options: Tuple[Option, ...] = ()
    targeted: bool = True
    panel: Optional[Tuple[str, str]] = None
    servable: bool = False
    noise_tunnel: bool = False
    batched: bool = True
    short_command: Optional[str] = None
    faithfulness: bool = True
    own_command: bool = False

    @property
    def command(self) -> str:
        """The subcommand, e.g. `integrated-gradients`."""
        return self.short_command or self.name.replace("_", "-")

    def load(self) -> Callable[..., Any]:
        """The technique's function (imports its module the first time).

        Returns:
            The public function.
        """
        return resolve(self.function)


def resolve(path: str) -> Any:
    """Import `"package.module:attribute"` and return the attribute.

    Args:
        path: A module path and an attribute name, separated by a colon.

    Returns:
        The attribute.
    """
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)
