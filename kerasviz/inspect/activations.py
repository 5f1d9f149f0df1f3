"""Activation maps: what each channel of a layer responds to in one image."""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np

from ..backbones import as_backbone
from ..checks import check_choice, check_int
from ..errors import ImageError, ParameterError
from ..images import COLORMAPS, as_image_batch, colorize_map, image_grid, normalize_map, resize_map
from .layer_outputs import layer_function, layer_map

__all__ = ["activation_maps"]


def _channel_list(channels: Any, count: int, layer: str) -> Optional[np.ndarray]:
    if channels is None:
        return None
    array = np.atleast_1d(np.asarray(channels))
    if (
        array.ndim != 1
        or array.size == 0
        or not np.issubdtype(array.dtype, np.integer)
        or array.min() < 0
        or array.max() >= count
    ):
        raise ParameterError(
            f"`channels` must be channel indices in [0, {count - 1}] of layer {layer!r} (an int "
            f"or a non-empty list). Received: channels={channels!r}"
        )
    return array.astype(np.int64)


def activation_maps(
    model: Any,
    image: Any,
    layer: str,
    channels: Optional[Union[int, Sequence[int]]] = None,
    *,
    max_tiles: int = 64,
    colormap: str = "viridis",
    tile_size: Optional[Union[int, Tuple[int, int]]] = 64,
    ncols: Optional[int] = None,
    token_grid: Optional[Union[int, Tuple[int, int]]] = None,
    skip_tokens: Optional[int] = None,
) -> Tuple[np.ndarray, np.ndarray]:
    """One image's activation maps at a layer, and a labelled grid picture of them.

    The array holds the raw activations. In the picture each map is min-max normalized on its
    own (a constant map shows as the colormap's low end) and coloured; each tile is labelled with
    its channel index. With `channels=None` the picture shows the `max_tiles` channels with the
    highest mean activation, strongest first (the array still holds every channel).

    Args:
        model: A `Backbone` or a Keras classifier taking pixels in `[0, 255]`.
        image: One image `(H, W, 3)`, uint8 or float in `[0, 255]`. Any size where the layers up
            to `layer` allow it (convolutions, pooling); otherwise the model's input size.
        layer: Name of a layer with a `(N, h, w, C)` output, or a token layer `(N, T, C)` of a
            vision transformer (its patch tokens are shown on their `h x w` grid; see
            `kerasviz.tokens`).
        channels: Channel indices (an int or a list), in that order; `None` for all.
        max_tiles: Most tiles in the picture when `channels` is `None` (positive).
        colormap: `"viridis"` (default), `"gray"` or another name of `kerasviz.images.COLORMAPS`.
        tile_size: Size each map is drawn at (int or `(height, width)`, bilinear upsampling of
            the normalized map), or `None` for the map's own size.
        ncols: Grid columns; default near-square.
        token_grid: For a token layer: its `(h, w)` patch grid; `None` detects a square grid.
        skip_tokens: For a token layer: leading class / register tokens; `None` detects them.

    Returns:
        `(maps, grid)`: float32 `(C, h, w)` activations (C = the chosen channels) and a uint8
        `(H, W, 3)` picture.

    Raises:
        LayerNotFoundError: Unknown layer.
        ModelError: Not a model, a layer that is neither a feature map nor tokens on a patch
            grid, or an image size the layer cannot run at.
        ImageError: Not a single valid image.
        ParameterError: Bad `channels`, `max_tiles`, `colormap` or `tile_size`.
    """
    backbone = as_backbone(model)
    batch, single = as_image_batch(image, name="image")
    if not single:
        raise ImageError(
            "`activation_maps` takes one image (H, W, 3); loop over a batch yourself. "
            f"Received: image with shape {batch.shape}"
        )
    shape, grid = layer_map(backbone, layer, grid=token_grid, skip_tokens=skip_tokens)
    count = shape[-1]
    chosen = _channel_list(channels, count, layer)
    max_tiles = check_int(max_tiles, "max_tiles", low=1)
    name = colormap.lower() if isinstance(colormap, str) else colormap
    check_choice(name, "colormap", sorted(COLORMAPS))
    compiled = layer_function(backbone, layer, "map", grid)
    compiled.check_size(batch.shape[1:3], layer)
    output = compiled.fn(batch).numpy()[0]  # (h, w, C)
    maps = np.moveaxis(output, -1, 0).astype(np.float32)
    if chosen is not None:
        maps = maps[chosen]
        shown = np.arange(len(chosen))
        names = chosen
    else:
        shown = np.argsort(-maps.mean(axis=(1, 2)), kind="stable")[: int(max_tiles)]
        names = shown
    tiles = normalize_map(maps[shown])
    if tile_size is not None:
        tiles = np.clip(resize_map(tiles, tile_size), 0.0, 1.0)
    grid = image_grid(
        list(colorize_map(tiles, colormap)), ncols=ncols, labels=[f"ch {int(c)}" for c in names]
    )
    return maps, grid
