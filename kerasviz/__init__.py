"""kerasviz: visualize and understand Keras CNNs, and serve fast neural style networks.

Images go in and come out in pixel space (`[0, 255]`, channels last); see the README for the API.

`import kerasviz` is light: the public names load (with TensorFlow) the first time one is used,
so `kerasviz --help` and `kerasviz.registry` need no TensorFlow. TensorFlow's import-time lines
("oneDNN custom operations", "cuInit", "absl::InitializeLog") are hidden while kerasviz loads it,
unless you set `TF_CPP_MIN_LOG_LEVEL` yourself (e.g. `0` to see every line).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, Dict, List

from .errors import (  # noqa: F401 - public names
    ExportError,
    ImageError,
    KerasvizError,
    LayerNotFoundError,
    ModelError,
    ParameterError,
    TargetError,
    WeightsUnavailableError,
)

__version__ = "0.1.0"

#: Modules whose listed names are public.
_NAMED = {
    "kerasviz.backbones": ("Backbone", "PixelPreprocessing", "imagenet_class_names", "load_backbone"),
    "kerasviz.features": ("FeatureModel",),
    "kerasviz.graph_nodes": ("layer_names",),
    "kerasviz.images": (
        "as_image_batch", "colorize_map", "image_grid", "load_image", "normalize_map",
        "overlay_heatmap", "resize_image", "resize_map", "sample_image", "save_image", "to_uint8",
        "UnitRangeWarning",
    ),
    "kerasviz.progress": ("set_progress",),
    "kerasviz.litert_forward": ("set_forward_engine",),
    "kerasviz.attribution.technique_maps": ("technique_map",),
    "kerasviz.metrics": ("evaluate", "summarize_scores"),  # each metric: kv.metrics.<name>
}

#: Packages whose whole `__all__` is public.
_FAMILIES = (
    "kerasviz.attribution", "kerasviz.blackbox", "kerasviz.concepts", "kerasviz.faststyle",
    "kerasviz.inspect", "kerasviz.relevance", "kerasviz.serving", "kerasviz.synthesis",
)

#: Subpackages reachable as attributes (`kv.metrics.sparseness`, `kv.registry.TECHNIQUES`).
_SUBPACKAGES = ("metrics", "registry")

_ERRORS = [
    "ExportError", "ImageError", "KerasvizError", "LayerNotFoundError", "ModelError",
    "ParameterError", "TargetError", "WeightsUnavailableError",
]


def _public_names() -> Dict[str, Any]:
    """Import every family (TensorFlow with it, quietly) and collect the public names."""
    from .cli.startup import quiet_stderr

    quiet = "TF_CPP_MIN_LOG_LEVEL" not in os.environ and "tensorflow" not in sys.modules
    if quiet:
        with quiet_stderr():
            import tensorflow  # noqa: F401 - its start-up lines go to /dev/null
    names: Dict[str, Any] = {}
    for module_name, exported in _NAMED.items():
        module = importlib.import_module(module_name)
        names.update({name: getattr(module, name) for name in exported})
    for module_name in _FAMILIES:
        module = importlib.import_module(module_name)
        names.update({name: getattr(module, name) for name in module.__all__})
    return names


def __getattr__(name: str) -> Any:
    """Load the public API on first use (PEP 562)."""
    if name.startswith("__") and name != "__all__":
        raise AttributeError(name)
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    public = _public_names()
    globals().update(public)
    globals()["__all__"] = sorted(set(_ERRORS) | set(public))
    try:
        return globals()[name]
    except KeyError:
        raise AttributeError(f"module 'kerasviz' has no attribute {name!r}") from None


def __dir__() -> List[str]:
    """Every public name (loads the API)."""
    return sorted(set(globals()) | set(__getattr__("__all__")))
