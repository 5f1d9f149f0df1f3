"""Inspect: what a CNN sees — filters, activation maps, nearest neighbours, 2-D maps of features,
maximally activating patches with their receptive fields (the lecture's first half)."""

from .activations import activation_maps
from .embeddings import (
    embed_2d,
    embedding_plot,
    extract_features,
    nearest_neighbors,
    neighbors_grid,
)
from .filters import first_layer_filters, layer_filters
from .patches import ActivatingPatches, max_activating_patches
from .receptive_field import ReceptiveField, receptive_field
from .sources import SkippedImageWarning

__all__ = [
    "ActivatingPatches",
    "ReceptiveField",
    "SkippedImageWarning",
    "activation_maps",
    "embed_2d",
    "embedding_plot",
    "extract_features",
    "first_layer_filters",
    "layer_filters",
    "max_activating_patches",
    "nearest_neighbors",
    "neighbors_grid",
    "receptive_field",
]
