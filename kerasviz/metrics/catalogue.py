"""The metric catalogue: names, families, directions, and name resolution (metrics and methods)."""

from __future__ import annotations

import difflib
import inspect
import math
from collections.abc import Callable
from typing import Any

from ..errors import ParameterError
from . import (
    axiomatic,
    complexity,
    faithfulness_regions,
    faithfulness_sampled,
    faithfulness_steps,
    localisation,
    randomisation,
    robustness,
    sufficiency,
)

__all__ = [
    "FAMILIES",
    "HIGHER_IS_BETTER",
    "METRICS",
    "QUANTUS_CLASSES",
    "accepted_arguments",
    "metric_function",
    "quick_settings",
    "resolve_method",
]

#: family -> metric names, in Quantus' order.
FAMILIES: dict[str, tuple[str, ...]] = {
    "faithfulness": (
        "faithfulness_correlation", "faithfulness_estimate", "pixel_flipping",
        "region_perturbation", "monotonicity", "monotonicity_correlation", "selectivity", "irof",
        "road", "sufficiency",
    ),
    "robustness": ("max_sensitivity", "avg_sensitivity", "local_lipschitz_estimate", "continuity"),
    "localisation": (
        "pointing_game", "attribution_localisation", "top_k_intersection",
        "relevance_mass_accuracy", "relevance_rank_accuracy", "auc", "focus",
    ),
    "complexity": ("sparseness", "complexity", "effective_complexity"),
    "randomisation": (
        "model_parameter_randomisation", "smooth_mprt", "efficient_mprt", "random_logit",
    ),
    "axiomatic": ("completeness", "non_sensitivity", "input_invariance"),
}

_MODULES = (axiomatic, complexity, faithfulness_regions, faithfulness_sampled, faithfulness_steps,
            localisation, randomisation, robustness, sufficiency)

#: metric name -> function.
METRICS: dict[str, Callable[..., Any]] = {
    name: next(getattr(m, name) for m in _MODULES if hasattr(m, name))
    for names in FAMILIES.values() for name in names
}

#: metric name -> the Quantus 0.6.0 class it follows.
QUANTUS_CLASSES: dict[str, str] = {
    "faithfulness_correlation": "FaithfulnessCorrelation", "faithfulness_estimate":
    "FaithfulnessEstimate", "pixel_flipping": "PixelFlipping", "region_perturbation":
    "RegionPerturbation", "monotonicity": "Monotonicity", "monotonicity_correlation":
    "MonotonicityCorrelation", "selectivity": "Selectivity", "irof": "IROF", "road": "ROAD",
    "sufficiency": "Sufficiency", "max_sensitivity": "MaxSensitivity", "avg_sensitivity":
    "AvgSensitivity", "local_lipschitz_estimate": "LocalLipschitzEstimate", "continuity":
    "Continuity", "pointing_game": "PointingGame", "attribution_localisation":
    "AttributionLocalisation", "top_k_intersection": "TopKIntersection",
    "relevance_mass_accuracy": "RelevanceMassAccuracy", "relevance_rank_accuracy":
    "RelevanceRankAccuracy", "auc": "AUC", "focus": "Focus", "sparseness": "Sparseness",
    "complexity": "Complexity", "effective_complexity": "EffectiveComplexity",
    "model_parameter_randomisation": "MPRT", "smooth_mprt": "SmoothMPRT", "efficient_mprt":
    "EfficientMPRT", "random_logit": "RandomLogit", "completeness": "Completeness",
    "non_sensitivity": "NonSensitivity", "input_invariance": "InputInvariance",
}

#: metric name -> whether a higher score is better (the direction used for ranks).
HIGHER_IS_BETTER: dict[str, bool] = {name: True for name in METRICS}
HIGHER_IS_BETTER.update({
    name: False for name in (
        "pixel_flipping", "selectivity", "road", "max_sensitivity", "avg_sensitivity",
        "local_lipschitz_estimate", "continuity", "complexity", "effective_complexity",
        "model_parameter_randomisation", "smooth_mprt", "random_logit", "non_sensitivity",
    )
})


def metric_function(name: Any) -> Callable[..., Any]:
    """The metric function for a name (the names of `kerasviz.metrics`).

    Args:
        name: A metric name such as `"pixel_flipping"`.

    Returns:
        The function.

    Raises:
        ParameterError: Unknown name (close matches are listed).
    """
    if isinstance(name, str) and name in METRICS:
        return METRICS[name]
    close = difflib.get_close_matches(str(name), list(METRICS), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ParameterError(
        f"Unknown metric {name!r}.{hint} Known metrics: {', '.join(METRICS)}. "
        f"Received: metric={name!r}"
    )


def resolve_method(name: Any) -> Callable[..., Any]:
    """An attribution method: a callable as is, or a technique of `kerasviz.registry` by name.

    The one place names become methods: any registered technique (gradients, CAMs, LRP,
    black-box) is `fn(model, images, targets) -> maps` here; class-agnostic ones ignore the
    targets and one-image ones (LIME, Kernel SHAP) are called per image.

    Args:
        name: `fn(model, images, targets) -> maps`, or a technique name such as `"gradcam"`.

    Returns:
        The callable (the technique's own function when it takes a batch and a target).

    Raises:
        ParameterError: Neither callable nor a registered technique (close matches listed).
    """
    if callable(name):
        return name
    from ..attribution.technique_maps import run_technique
    from ..registry import get_technique

    try:
        technique = get_technique(name)
    except ParameterError as error:
        raise ParameterError(
            f"Unknown attribution method {name!r}: {error} Pass a registered technique's name or any "
            f"callable fn(model, images, targets) -> maps. Received: method={name!r}"
        ) from None
    if technique.batched and technique.targeted:
        return technique.load()

    def method(model: Any, images: Any, targets: Any) -> Any:
        return run_technique(technique, model, images, targets)

    method.__name__ = technique.name
    return method


def accepted_arguments(function: Callable[..., Any]) -> tuple[str, ...]:
    """The keyword arguments a metric function accepts.

    Args:
        function: A metric function.

    Returns:
        Argument names.
    """
    return tuple(inspect.signature(function).parameters)


def quick_settings(name: str, height: int, width: int) -> dict[str, Any]:
    """Settings `kerasviz.evaluate` uses by default: Quantus' definitions at a cost that fits a
    method comparison (tens of model calls per image instead of thousands).

    Args:
        name: Metric name.
        height: Image height.
        width: Image width.

    Returns:
        Keyword arguments for the metric (empty: Quantus' defaults).
    """
    step64 = 3 * math.ceil(height * width / 64)
    return {
        "pixel_flipping": {"features_in_step": step64},
        "faithfulness_estimate": {"features_in_step": step64},
        "monotonicity": {"features_in_step": step64},
        "monotonicity_correlation": {"features_in_step": 3 * math.ceil(height * width / 16),
                                     "nr_samples": 4},
        "non_sensitivity": {"features_in_step": step64},
        # Quantus' own settings (100 runs of 224 values): one evaluate call scores these copies
        # once for all methods. (Subsets of 10 % of the values rank a smooth random map above
        # Grad-CAM on Lite0: -0.009 vs -0.074 over 16 photos.)
        "faithfulness_correlation": {"nr_runs": 100, "subset_size": min(224, 3 * height * width)},
        "selectivity": {"patch_size": max(1, min(height, width) // 8)},
        "region_perturbation": {"regions_evaluation": 32,
                                "patch_size": max(1, min(height, width) // 16)},
        "road": {"percentages": list(range(5, 100, 10))},
        "max_sensitivity": {"nr_samples": 8},
        "avg_sensitivity": {"nr_samples": 8},
        "local_lipschitz_estimate": {"nr_samples": 8},
        "continuity": {"nr_steps": 8},
        "model_parameter_randomisation": {"skip_layers": True},
        "smooth_mprt": {"nr_samples": 4},
        "top_k_intersection": {"k": max(1, min(1000, height * width // 10))},
    }.get(name, {})
