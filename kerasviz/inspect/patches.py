"""Maximally activating patches: the image regions that excite one channel of a layer most.

Images stream in batches (`kerasviz.inspect.sources`); a compiled forward pass returns the
channel's map `(b, h, w)`; each image contributes its strongest position (or, with
`one_per_image=False`, every position competes); a running top-k keeps only the `k` best
(activation, image, position) with their crops, so memory stays bounded whatever the folder's
size. Each crop is the unit's receptive field (`receptive_field`), padded with mid-gray (128)
where the field reaches past the image border, so every patch has the same size and sits where
the unit looks.
"""

from __future__ import annotations

from typing import Any, List, NamedTuple, Optional, Tuple, Union

import numpy as np

from ..backbones import as_backbone
from ..checks import check_int
from ..images import image_grid, to_uint8
from .layer_outputs import layer_function, spatial_layer
from .receptive_field import ReceptiveField, receptive_field
from .sources import SourceId, check_batch_size, image_batches

__all__ = ["ActivatingPatches", "max_activating_patches", "crop_field", "PAD_VALUE"]

#: Gray level of the pixels of a crop that fall outside the image.
PAD_VALUE = 128


class ActivatingPatches(NamedTuple):
    """The result of `max_activating_patches`, best first.

    Attributes:
        patches: uint8 `(k, S_h, S_w, 3)` crops (`S` the receptive-field size).
        grid: uint8 `(H, W, 3)` picture of the patches, each labelled with its activation.
        activations: float32 `(k,)` channel activations at the patches' units.
        sources: Each patch's image: file path (files) or row index (arrays).
        positions: int `(k, 2)` unit `(row, column)` in the layer's feature map.
        field: The layer's `ReceptiveField` at the images' size.
    """

    patches: np.ndarray
    grid: np.ndarray
    activations: np.ndarray
    sources: List[SourceId]
    positions: np.ndarray
    field: ReceptiveField


def crop_field(image: np.ndarray, field: ReceptiveField, row: int, col: int) -> np.ndarray:
    """The receptive field of unit `(row, col)` cut from an image, padded with `PAD_VALUE`.

    Args:
        image: `(H, W, 3)` pixels in `[0, 255]`.
        field: The layer's receptive field at this image size.
        row: Unit row in the feature map.
        col: Unit column in the feature map.

    Returns:
        float32 `(size_h, size_w, 3)`: image pixels inside the image, `PAD_VALUE` outside.
    """
    top, left, bottom, right = field.window(row, col)
    height, width = image.shape[:2]
    crop = np.full((bottom - top, right - left, 3), PAD_VALUE, np.float32)
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(bottom, height), min(right, width)
    if y1 > y0 and x1 > x0:
        crop[y0 - top : y1 - top, x0 - left : x1 - left] = image[y0:y1, x0:x1]
    return crop


def _candidates(
    maps: np.ndarray, k: int, one_per_image: bool
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`(values, image rows, flat positions)` of a batch's best `k` units."""
    flat = maps.reshape(len(maps), -1)
    if one_per_image:
        positions = flat.argmax(axis=1)
        values = flat[np.arange(len(flat)), positions]
        rows = np.arange(len(flat))
    else:
        rows, positions = np.divmod(np.arange(flat.size), flat.shape[1])
        values = flat.ravel()
    best = np.argsort(-values, kind="stable")[:k]
    return values[best], rows[best], positions[best]


def max_activating_patches(
    model: Any,
    images_or_folder: Any,
    layer: str,
    channel: int,
    k: int = 9,
    *,
    one_per_image: bool = True,
    batch_size: int = 32,
    image_size: Optional[Union[int, Tuple[int, int]]] = None,
    ncols: Optional[int] = None,
    tile_size: Optional[Union[int, Tuple[int, int]]] = None,
    progress: Optional[bool] = None,
) -> ActivatingPatches:
    """The `k` image patches that activate one channel of a layer most, cropped to the unit's field.

    Args:
        model: A `Backbone` or a Keras classifier taking pixels in `[0, 255]`.
        images_or_folder: Images `(N, H, W, 3)` (uint8 or float `[0, 255]`), a folder (searched
            recursively; unreadable files skipped with a warning), one file or a list of files.
        layer: Name of a layer with a `(N, h, w, C)` output.
        channel: Channel index in `[0, C)`.
        k: Number of patches (positive). Fewer come back when fewer candidates exist.
        one_per_image: Take each image's strongest unit only (the lecture's grids); `False` lets
            several units of one image compete.
        batch_size: Images per forward pass.
        image_size: Size files are resized to (the patch is cut from the resized image); default
            the model's input size (224 x 224 when it takes any size).
        ncols: Columns of the grid picture; default near-square.
        tile_size: Size patches are drawn at in the grid (int or `(height, width)`), e.g. to
            shrink the fields of deep layers; default their own size.
        progress: Show a progress bar; `None` uses the global setting.

    Returns:
        `ActivatingPatches(patches, grid, activations, sources, positions, field)`, best first.

    Raises:
        LayerNotFoundError: Unknown layer.
        ModelError: Not a model, a layer without a feature map, or a graph whose receptive field
            cannot be computed.
        ParameterError: Channel out of range, bad `k`, `batch_size` or `image_size`.
        ImageError: Invalid arrays, a missing or empty folder, no readable image.
    """
    backbone = as_backbone(model)
    channels = spatial_layer(backbone, layer)[-1]
    channel = check_int(channel, "channel", low=0, high=channels - 1)
    k = check_int(k, "k", low=1)
    check_batch_size(batch_size)
    compiled = layer_function(backbone, layer, "channel")
    size = image_size or compiled.input_size or backbone.input_size or (224, 224)

    best_values = np.empty(0, np.float32)
    best: List[Tuple[SourceId, Tuple[int, int], np.ndarray]] = []  # (source, unit, crop)
    field = None
    for batch in image_batches(
        images_or_folder, size=size, batch_size=batch_size, progress=progress, desc="patches"
    ):
        compiled.check_size(batch.pixels.shape[1:3], layer)
        if field is None:
            field = receptive_field(backbone, layer, input_size=batch.pixels.shape[1:3])
        maps = compiled.fn(batch.pixels, np.int32(channel)).numpy()
        values, rows, flat = _candidates(maps, int(k), one_per_image)
        merged = np.concatenate([best_values, values])
        keep = np.argsort(-merged, kind="stable")[: int(k)]
        entries = []
        for index in keep:
            if index < len(best):
                entries.append(best[index])
                continue
            row, position = rows[index - len(best)], flat[index - len(best)]
            unit = divmod(int(position), maps.shape[2])
            crop = crop_field(batch.pixels[row], field, *unit)
            entries.append((batch.sources[row], unit, crop))
        best, best_values = entries, merged[keep]

    patches = to_uint8(np.stack([crop for _, _, crop in best]))
    labels = [f"{value:.3g}" for value in best_values]
    return ActivatingPatches(
        patches=patches,
        grid=image_grid(list(patches), ncols=ncols, labels=labels, tile_size=tile_size),
        activations=best_values.astype(np.float32),
        sources=[source for source, _, _ in best],
        positions=np.asarray([unit for _, unit, _ in best], np.int64).reshape(-1, 2),
        field=field,
    )
