"""Inspect: what a CNN sees — filters, activation maps, nearest neighbours, 2-D maps of features,
maximally activating patches with their receptive fields (the lecture's first half)."""

from ..images.folders import SkippedImageWarning
from .activations import activation_maps
from .embedding_maps import embed_2d, embedding_plot
from .embeddings import extract_features
from .filters import first_layer_filters, layer_filters
from .neighbors import nearest_neighbors, neighbors_grid
from .patches import ActivatingPatches, max_activating_patches
from .receptive_field import ReceptiveField, receptive_field

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
