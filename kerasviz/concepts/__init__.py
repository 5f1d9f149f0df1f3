"""Concepts and atlases over whole image sets: activation collection (Parquet, Apache Beam),
batch attribution, Deep Feature Factorization, TCAV, activation atlases and CRAFT."""

from __future__ import annotations

from .collect import (
    CollectionResult,
    activation_matrix,
    collect_activations,
    load_activations,
)
from .explain_dataset import explain_dataset

__all__ = [
    "CollectionResult",
    "activation_matrix",
    "collect_activations",
    "explain_dataset",
    "load_activations",
]
