"""Concepts and atlases over whole image sets: activation collection (Parquet, Apache Beam),
batch attribution, Deep Feature Factorization, TCAV, activation atlases and CRAFT."""

from __future__ import annotations

from .collect import (
    CollectionResult,
    activation_matrix,
    collect_activations,
    load_activations,
)
from .dff import DFFResult, concept_overlay, deep_feature_factorization
from .explain_dataset import explain_dataset

__all__ = [
    "CollectionResult",
    "DFFResult",
    "activation_matrix",
    "collect_activations",
    "concept_overlay",
    "deep_feature_factorization",
    "explain_dataset",
    "load_activations",
]
