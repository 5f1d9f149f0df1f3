"""Inspect panels: filters, activation maps, neighbours, a t-SNE grid and activating patches.

The neighbour, embedding and patch panels need many images; they use random crops (with flips)
of scikit-image's eight bundled pictures, so crops of one picture should find each other in
feature space even where their pixels differ.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

from . import DemoContext, Panel

_LAYER_FILTERS = "block2b_dwconv"
_ACTIVATIONS = "block2b_expand_activation"
_PATCH_LAYER = "block3b_add"  # linear (no ReLU6 ceiling), so the top activations do not tie
_CROP = 128


def _crops(ctx: DemoContext) -> Tuple[np.ndarray, list]:
    """Random crops of every bundled picture: `(images (N, 128, 128, 3), names)` (96 px quick)."""
    if "inspect_crops" not in ctx.cache:
        from ..images import SAMPLE_IMAGES, resize_image

        rng = np.random.default_rng(ctx.seed)
        per_image = 3 if ctx.quick else 8
        side_out = 96 if ctx.quick else _CROP
        images, names = [], []
        for name in SAMPLE_IMAGES:
            photo = ctx.image(name, size=256)
            for _ in range(per_image):
                side = int(rng.integers(128, 224))
                y, x = rng.integers(0, 256 - side, 2)
                crop = photo[y : y + side, x : x + side]
                images.append(resize_image(crop[:, ::-1] if rng.random() < 0.5 else crop, side_out))
                names.append(name)
        ctx.cache["inspect_crops"] = (np.stack(images), names)
    return ctx.cache["inspect_crops"]


def _features(ctx: DemoContext) -> np.ndarray:
    if "inspect_features" not in ctx.cache:
        from ..inspect import extract_features

        ctx.cache["inspect_features"] = extract_features(ctx.backbone, _crops(ctx)[0])
    return ctx.cache["inspect_features"]


def _first_filters(ctx: DemoContext):
    from ..inspect import first_layer_filters

    return first_layer_filters(ctx.backbone), f"{ctx.backbone.first_conv_layer}: 32 RGB 3x3 filters"


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

    images, names = _crops(ctx)
    per_image = len(images) // 8
    queries = [0, 2 * per_image, 4 * per_image, 6 * per_image]  # chelsea, astronaut, brick, gravel
    picture = neighbors_grid(images, _features(ctx), queries, k=4, labels=names, tile_size=64)
    return (
        picture,
        f"{len(images)} random crops of the bundled pictures; penultimate features (1280-d), cosine vs L2 pixels",
    )


def _embedding(ctx: DemoContext):
    from ..inspect import embed_2d, embedding_plot

    images, _ = _crops(ctx)
    method = "pca" if ctx.quick else "tsne"
    points = embed_2d(_features(ctx), method)
    picture = embedding_plot(points, images, size=512, grid=True)
    return (
        picture,
        f"{method.upper()} of penultimate features, snapped to a grid ({len(images)} crops)",
    )


def _patches(ctx: DemoContext):
    from ..inspect import extract_features, max_activating_patches

    images, _ = _crops(ctx)
    pooled = extract_features(ctx.backbone, images, _PATCH_LAYER)
    channel = int(np.argmax(pooled.std(axis=0)))  # the channel that varies most across crops
    result = max_activating_patches(ctx.backbone, images, _PATCH_LAYER, channel, k=9, tile_size=72)
    size = result.field.size[0]
    return (
        result.grid,
        f"{_PATCH_LAYER} channel {channel}: top 9 of {len(images)} crops, receptive field {size}x{size}",
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
