"""Concept panels: DFF concepts coloured over the bundled photos, a small activation atlas, and
CRAFT concepts of one class (`kerasviz.concepts.pictures` draws each)."""

from __future__ import annotations

from typing import Tuple

import numpy as np

from . import DemoContext, Panel

__all__ = ["PANELS"]

_ATLAS_LAYER = "block6a_expand_activation"


def _render_dff(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    from ..concepts import dff_picture

    return dff_picture(ctx.backbone, n_concepts=4)


def _render_atlas(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    from ..concepts import atlas_picture
    from ..graph_nodes import layer_names

    # Lite0's 14 x 14 expansion of block 6 draws parts (eyes, fur, cups, windows) like Lucid's mixed4c
    layer = _ATLAS_LAYER if _ATLAS_LAYER in layer_names(ctx.backbone) else None
    if ctx.quick:  # UMAP compiles for about a minute on first use: PCA and few steps in quick mode
        return atlas_picture(ctx.backbone, count=48, grid=4, steps=8, projection="pca", layer=layer)
    return atlas_picture(ctx.backbone, layer=layer)


def _render_craft(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    from ..concepts import craft_picture

    return craft_picture(ctx.backbone, target=285, n_concepts=3)


PANELS = [
    Panel("deep_feature_factorization", "Deep feature factorization: concepts shared by photos", _render_dff, family="concepts"),
    Panel("activation_atlas", "An activation atlas of the bundled photos", _render_atlas, family="concepts"),
    Panel("craft", "CRAFT: the concepts behind 'Egyptian cat'", _render_craft, family="concepts"),
]
