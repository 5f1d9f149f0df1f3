"""Concepts and atlases over whole image sets: activation collection (Parquet, Apache Beam),
batch attribution, Deep Feature Factorization, TCAV, activation atlases and CRAFT."""

from __future__ import annotations

from .atlas import AtlasResult, activation_atlas
from .atlas_page import save_atlas, write_atlas_page
from .atlas_quality import colorfulness, direction_cosines, high_frequency_ratio
from .atlas_render import render_directions
from .beam_pipeline import threads_per_worker
from .collect import (
    CollectionResult,
    activation_matrix,
    collect_activations,
    load_activations,
)
from .craft import CraftResult, craft
from .dff import DFFResult, concept_overlay, deep_feature_factorization
from .explain_dataset import explain_dataset
from .pictures import atlas_picture, craft_picture, dff_picture
from .tcav import TCAVResult, concept_activation_vector, tcav

__all__ = [
    "AtlasResult",
    "CraftResult",
    "activation_atlas",
    "atlas_picture",
    "craft_picture",
    "dff_picture",
    "save_atlas",
    "write_atlas_page",
    "colorfulness",
    "direction_cosines",
    "high_frequency_ratio",
    "render_directions",
    "threads_per_worker",
    "CollectionResult",
    "DFFResult",
    "TCAVResult",
    "activation_matrix",
    "collect_activations",
    "concept_activation_vector",
    "concept_overlay",
    "craft",
    "deep_feature_factorization",
    "explain_dataset",
    "load_activations",
    "tcav",
]
