"""Convolution filters as pictures: the first layer's RGB filters, later layers' per-channel slices.

Each tile is min-max normalized on its own (a filter's absolute scale says nothing visually) and
enlarged by nearest-neighbour repetition so a 3 x 3 filter shows as crisp 3 x 3 blocks.
"""

from __future__ import annotations

import math
from typing import Any, List, Optional

import keras
import numpy as np

from ..backbones import PixelPreprocessing, as_backbone
from ..checks import check_int
from ..errors import ModelError
from ..graph_nodes import find_layer, layer_names, opaque_models
from ..images import image_grid, normalize_map

__all__ = ["first_layer_filters", "layer_filters"]

_FIRST_TILE = 32  # target tile side in pixels for unlabelled RGB tiles
_LABELLED_TILE = 40  # wider, so a label fits under each tile


def _scale_for(kernel_side: int, scale: Optional[int], target: int) -> int:
    if scale is None:
        return max(1, math.ceil(target / kernel_side))
    return check_int(scale, "scale", low=1)


def _enlarge(tile: np.ndarray, scale: int) -> np.ndarray:
    return np.repeat(np.repeat(tile, scale, axis=0), scale, axis=1)


def _kernel(layer: keras.layers.Layer) -> np.ndarray:
    kernel = getattr(layer, "kernel", None)
    if kernel is None or len(kernel.shape) != 4:
        raise ModelError(
            f"Layer {layer.name!r} of class {type(layer).__name__} has no 2-D convolution kernel "
            "(kh, kw, in, out); pick a Conv2D or DepthwiseConv2D layer. Received: "
            f"layer={layer.name!r}"
        )
    return np.asarray(keras.ops.convert_to_numpy(kernel), np.float32)


def _reads_bgr(model: keras.Model) -> bool:
    """Whether the model reverses RGB to BGR before its first convolution (Caffe-style VGG)."""
    return any(
        isinstance(find_layer(model, name), PixelPreprocessing) and find_layer(model, name).bgr
        for name in layer_names(model)
    )


def _first_rgb_conv(backbone: Any) -> keras.layers.Layer:
    names = ([backbone.first_conv_layer] if backbone.first_conv_layer else []) + layer_names(
        backbone
    )
    for name in names:
        layer = find_layer(backbone.model, name)
        if isinstance(layer, keras.layers.Conv2D) and getattr(layer, "kernel", None) is not None:
            if len(layer.kernel.shape) == 4 and layer.kernel.shape[2] == 3:
                return layer
    hidden = opaque_models(backbone)
    where = (
        f" (the layers of subclassed model(s) {hidden} are hidden; build it with the "
        "functional API)"
        if hidden
        else ""
    )
    raise ModelError(
        f"{backbone.name!r} has no Conv2D layer reading 3 (RGB) channels{where}; use "
        f"`layer_filters` for other layers. Received: model={backbone.name!r}"
    )


def first_layer_filters(
    model: Any,
    *,
    scale: Optional[int] = None,
    ncols: Optional[int] = None,
) -> np.ndarray:
    """The first convolution's filters as RGB tiles (the lecture's "Gabor-like" picture).

    The first Conv2D whose kernel reads 3 input channels is used (the Backbone's
    `first_conv_layer` when it qualifies). For models that reverse RGB to BGR before it (Caffe
    preprocessing, e.g. VGG), the kernel's input channels are flipped back so colours read as RGB.

    Args:
        model: A `Backbone` or a Keras classifier taking pixels.
        scale: Nearest-neighbour enlargement per kernel pixel; default makes tiles about 32 px.
        ncols: Grid columns; default near-square.

    Returns:
        uint8 `(H, W, 3)` grid with one tile per filter (filter `i` at row-major position `i`),
        each tile min-max normalized over its three colour channels.

    Raises:
        ModelError: Not a model, or no convolution reads RGB.
        ParameterError: Bad `scale` or `ncols`.
    """
    backbone = as_backbone(model)
    kernel = _kernel(_first_rgb_conv(backbone))  # (kh, kw, 3, F)
    if _reads_bgr(backbone.model):
        kernel = kernel[:, :, ::-1, :]
    scale = _scale_for(max(kernel.shape[:2]), scale, _FIRST_TILE)
    tiles = []
    for index in range(kernel.shape[3]):
        tile = kernel[..., index]
        low, span = tile.min(), tile.max() - tile.min()
        tile = (tile - low) / span if span > 0 else np.zeros_like(tile)
        tiles.append(_enlarge(tile * 255.0, scale))
    return image_grid(tiles, ncols=ncols, pad_value=255)


def layer_filters(
    model: Any,
    layer: str,
    *,
    max_filters: int = 8,
    max_channels: int = 8,
    scale: Optional[int] = None,
) -> np.ndarray:
    """A convolution layer's filters as grayscale tiles, one per (filter, input channel).

    For a Conv2D, row `f` shows filter `f`'s slices over input channels `0 .. max_channels - 1`,
    labelled `f<filter> c<channel>`, each normalized over the whole filter (so a filter's weak and
    strong channels stay comparable). A DepthwiseConv2D has one 2-D filter per output channel:
    the first `max_filters * max_channels` are shown, labelled `f<filter>`, each normalized alone.

    Args:
        model: A `Backbone` or a Keras classifier taking pixels.
        layer: Name of a Conv2D or DepthwiseConv2D layer.
        max_filters: Filters shown (rows), at most this many (positive).
        max_channels: Input channels shown per filter (columns), at most this many (positive).
        scale: Nearest-neighbour enlargement per kernel pixel; default makes tiles about 40 px.

    Returns:
        uint8 `(H, W, 3)` labelled grid.

    Raises:
        LayerNotFoundError: Unknown layer.
        ModelError: Not a model, or the layer has no 2-D convolution kernel.
        ParameterError: Bad `max_filters`, `max_channels` or `scale`.
    """
    backbone = as_backbone(model)
    max_filters = check_int(max_filters, "max_filters", low=1)
    max_channels = check_int(max_channels, "max_channels", low=1)
    target = find_layer(backbone.model, layer)
    kernel = _kernel(target)
    scale = _scale_for(max(kernel.shape[:2]), scale, _LABELLED_TILE)
    tiles: List[np.ndarray] = []
    labels: List[str] = []
    if isinstance(target, keras.layers.DepthwiseConv2D):
        flat = kernel.reshape(*kernel.shape[:2], -1)  # output channel c * multiplier + m
        count = min(flat.shape[2], max_filters * max_channels)
        maps = normalize_map(np.moveaxis(flat[..., :count], -1, 0))
        tiles = [_enlarge(m * 255.0, scale) for m in maps]
        labels = [f"f{i}" for i in range(count)]
        ncols = min(count, max_channels)
    else:
        filters = min(kernel.shape[3], max_filters)
        channels = min(kernel.shape[2], max_channels)
        for f in range(filters):
            whole = kernel[..., f]
            low, span = whole.min(), whole.max() - whole.min()
            for c in range(channels):
                tile = (whole[..., c] - low) / span if span > 0 else np.zeros(whole.shape[:2])
                tiles.append(_enlarge(tile * 255.0, scale))
                labels.append(f"f{f} c{c}")
        ncols = channels
    return image_grid(tiles, ncols=ncols, labels=labels, pad_value=255)
