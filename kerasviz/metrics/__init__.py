"""Evaluate explanations the way Quantus 0.6.0 does, on Keras 3, batched and compiled.

Every metric is a function `metric(maps, *, model=, images=, targets=, masks=, method=, ...)`
returning one score per image; `evaluate` runs methods x metrics into a tidy table,
`summarize_scores` adds means, bootstrap intervals and ranks, `score_chart` draws them, and
`evaluate_to_folder` writes all three (the `kerasviz evaluate` command). Inside
`shared_work()` (which `evaluate` enters), metric calls reuse work that does not depend on the
maps, e.g. faithfulness correlation's perturbed copies for every method scored.
"""

from __future__ import annotations

from .axiomatic import completeness, input_invariance, non_sensitivity
from .catalogue import (
    FAMILIES,
    HIGHER_IS_BETTER,
    METRICS,
    QUANTUS_CLASSES,
    metric_function,
    quick_settings,
    resolve_method,
)
from .chart import score_chart
from .complexity import complexity, effective_complexity, sparseness
from .deletion import DeletionInsertion, attribution_maps, deletion_insertion, fit_maps
from .evaluate import DEFAULT_METRICS, evaluate, evaluate_to_folder
from .faithfulness_regions import region_perturbation, selectivity
from .faithfulness_sampled import faithfulness_correlation, irof, road
from .faithfulness_steps import (
    faithfulness_estimate,
    monotonicity,
    monotonicity_correlation,
    pixel_flipping,
)
from .localisation import (
    attribution_localisation,
    auc,
    focus,
    pointing_game,
    relevance_mass_accuracy,
    relevance_rank_accuracy,
    top_k_intersection,
)
from .memo import shared_work
from .randomisation import (
    efficient_mprt,
    model_parameter_randomisation,
    random_logit,
    smooth_mprt,
)
from .robustness import (
    avg_sensitivity,
    continuity,
    local_lipschitz_estimate,
    max_sensitivity,
)
from .sufficiency import sufficiency
from .summary import summarize_scores

__all__ = [
    "shared_work",
    "DEFAULT_METRICS",
    "FAMILIES",
    "HIGHER_IS_BETTER",
    "METRICS",
    "QUANTUS_CLASSES",
    "DeletionInsertion",
    "attribution_localisation",
    "attribution_maps",
    "auc",
    "avg_sensitivity",
    "completeness",
    "complexity",
    "continuity",
    "deletion_insertion",
    "effective_complexity",
    "efficient_mprt",
    "evaluate",
    "evaluate_to_folder",
    "faithfulness_correlation",
    "faithfulness_estimate",
    "fit_maps",
    "focus",
    "input_invariance",
    "irof",
    "local_lipschitz_estimate",
    "max_sensitivity",
    "metric_function",
    "model_parameter_randomisation",
    "monotonicity",
    "monotonicity_correlation",
    "non_sensitivity",
    "pixel_flipping",
    "pointing_game",
    "quick_settings",
    "random_logit",
    "region_perturbation",
    "relevance_mass_accuracy",
    "relevance_rank_accuracy",
    "resolve_method",
    "road",
    "score_chart",
    "selectivity",
    "smooth_mprt",
    "sparseness",
    "sufficiency",
    "summarize_scores",
    "top_k_intersection",
]
