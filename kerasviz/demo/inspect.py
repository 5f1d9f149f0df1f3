"""Inspect panels: filters, activation maps, neighbours, a t-SNE grid and activating patches.

The neighbour, embedding and patch panels need many images: they share one pool of random crops
(scales, flips) of every bundled photo, run once through `vgg16_hed` (`demo.crop_pool`).
"""

from __future__ import annotations

from typing import List, Tuple

import numpy as np

from . import DemoContext, Panel
from .crop_pool import (
    FEATURE_LAYER,
    PATCH_LAYER,
    PHOTOS,
    UnitPatches,
    crop_pool,
    photo_label,
    top_units,
)

_LAYER_FILTERS = "block2b_dwconv"
_ACTIVATIONS = "block2b_expand_activation"
_QUERIES = ("chelsea", "coffee", "astronaut", "coins")


def _first_filters(ctx: DemoContext):
    from ..images import image_grid
    from ..inspect import first_layer_filters

    lite0, vgg16 = first_layer_filters(ctx.backbone), first_layer_filters(ctx.vgg16)
    picture = image_grid([vgg16, lite0], ncols=2, labels=["VGG16", "EfficientNet-Lite0"], padding=8)
    return picture, (
        f"vgg16_hed {ctx.vgg16.first_conv_layer}: 64 RGB 3x3 filters (left); "
        f"Lite0 {ctx.backbone.first_conv_layer}: 32 RGB 3x3 filters (right); oriented edges and colour blobs"
    )


def _layer_filters(ctx: DemoContext):
    from ..inspect import layer_filters

    picture = layer_filters(ctx.backbone, _LAYER_FILTERS, max_filters=4, max_channels=8)
    return picture, f"{_LAYER_FILTERS}: first 32 depthwise 3x3 filters"


def _activations(ctx: DemoContext):
    from ..inspect import activation_maps

    tiles = 16 if ctx.quick else 36
    maps, picture = activation_maps(
        ctx.backbone, ctx.image("chelsea", 224), _ACTIVATIONS, max_tiles=tiles
    )
    return (
        picture,
        f"chelsea, {_ACTIVATIONS} ({maps.shape[0]} maps of {maps.shape[1]}x{maps.shape[2]}), {tiles} most active",
    )


def _neighbors(ctx: DemoContext):
    from ..inspect import neighbors_grid

    pool = crop_pool(ctx)
    queries = [pool.photos.index(name) for name in _QUERIES]
    picture = neighbors_grid(
        pool.images, pool.features, queries, k=5, labels=[photo_label(name) for name in pool.photos], tile_size=64
    )
    return picture, (
        f"{len(pool.images)} random crops (scales, flips) of {len(PHOTOS)} bundled photos; "
        f"vgg16_hed {FEATURE_LAYER} averaged (512-d), cosine, vs L2 on pixels"
    )


def _embedding(ctx: DemoContext):
    from ..inspect import embed_2d, embedding_plot

    pool = crop_pool(ctx)
    method = "pca" if ctx.quick else "tsne"
    points = embed_2d(pool.features, method)
    picture = embedding_plot(points, pool.images, size=512, grid=True)
    return picture, (
        f"{method.upper()} of vgg16_hed {FEATURE_LAYER} features, snapped to a grid "
        f"({len(pool.images)} crops of {len(PHOTOS)} photos)"
    )


def patch_rows(ctx: DemoContext) -> Tuple[List[UnitPatches], List[np.ndarray]]:
    """The patch panel's units and, per unit, its uint8 `(k, 92, 92, 3)` patches (cached).

    Args:
        ctx: The demo context.

    Returns:
        `(units, patches)`: 6 units x 8 patches (4 x 6 in quick mode).
    """
    if "patch_rows" not in ctx.cache:
        from ..images import to_uint8
        from ..inspect.patches import crop_field

        pool = crop_pool(ctx)
        units, k = (4, 6) if ctx.quick else (6, 8)
        rows = top_units(pool, units, k, min_photos=2 if ctx.quick else 3)
        patches = [
            to_uint8(np.stack([
                crop_field(pool.images[c], pool.field, *p) for c, p in zip(u.crops, u.positions)
            ]))
            for u in rows
        ]
        ctx.cache["patch_rows"] = (rows, patches)
    return ctx.cache["patch_rows"]


def _patches(ctx: DemoContext):
    from ..images import image_grid

    pool = crop_pool(ctx)
    rows, patches = patch_rows(ctx)
    tiles, labels = [], []
    for unit, row in zip(rows, patches):
        tiles.extend(row)
        labels.extend(
            [f"#{unit.channel} {photo_label(pool.photos[unit.crops[0]])}"]
            + [photo_label(pool.photos[c]) for c in unit.crops[1:]]
        )
    size = pool.field.size[0]
    return image_grid(tiles, ncols=len(patches[0]), labels=labels), (
        f"vgg16_hed {PATCH_LAYER}: one row per unit, its top {len(patches[0])} patches "
        f"({size}x{size} receptive fields, wholly inside the crop, one per spot of a photo) among "
        f"{len(pool.images)} random crops of {len(PHOTOS)} photos; units whose patches look most "
        "alike to the layer"
    )


PANELS = [
    Panel("inspect_first_filters", "First-layer filters", _first_filters, family="inspect"),
    Panel("inspect_layer_filters", "Depthwise filters", _layer_filters, family="inspect"),
    Panel("inspect_activations", "Activation maps", _activations, family="inspect"),
    Panel(
        "inspect_neighbors", "Nearest neighbours: features vs pixels", _neighbors, family="inspect"
    ),
    Panel("inspect_embedding", "2-D map of features (grid)", _embedding, family="inspect"),
    Panel("inspect_patches", "Maximally activating patches", _patches, family="inspect"),
]
