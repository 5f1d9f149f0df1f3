"""Activation atlases (Carter et al. 2019): a map of everything a layer sees in an image set.

Activations of one layer (a mean or sampled positions per image, streamed by
`collect_activations`, so memory holds one batch of images) are laid out in 2-D by UMAP, the
layout is cut into a `grid x grid` raster, and every cell holding enough activations is drawn by
feature visualization of its mean activation with Lucid's recipe (`atlas_render.render_directions`:
a `dot * cos^p` direction objective, a Fourier-parameterized decorrelated-colour image, Adam,
random jitter / zoom / rotation). All cells are rendered in a few calls of one compiled loop
(`render_batch` cells each; the batch size is not part of the trace, so it is traced once).
"""

from __future__ import annotations

import os
import tempfile
from typing import Any, NamedTuple

import numpy as np

from ..checks import check_int
from ..errors import ParameterError
from .atlas_render import render_directions

__all__ = ["AtlasResult", "activation_atlas", "layout_cells"]


class AtlasResult(NamedTuple):
    """What `activation_atlas` returns.

    Attributes:
        image: uint8 `(grid * cell_size, grid * cell_size, 3)`: each occupied cell's rendering at
            its place in the layout (row 0 at the top is the layout's largest y), white elsewhere.
        cells: A `pyarrow.Table`, one row per occupied cell: `row`, `col`, `count` (activations
            in it), `top_class` (most common predicted class of their images, -1 if headless),
            `x`, `y` (mean layout position in `[0, 1]`), `activation` (the mean vector).
        layout: float32 `(M, 2)` the UMAP position of every activation, in `[0, 1]`.
        cell_size: Pixels per cell side in `image`.
    """

    image: np.ndarray
    cells: Any
    layout: np.ndarray
    cell_size: int


def layout_cells(layout: np.ndarray, grid: int, min_count: int) -> tuple[np.ndarray, np.ndarray, list]:
    """Cut a `[0, 1]^2` layout into a grid; keep cells with at least `min_count` points.

    Args:
        layout: float `(M, 2)` positions in `[0, 1]`.
        grid: Cells per side.
        min_count: Fewest points of a kept cell.

    Returns:
        `(cell_of_point (M,) int row * grid + col, kept cell ids (K,), members per kept cell)`.
    """
    cols = np.clip((layout[:, 0] * grid).astype(int), 0, grid - 1)
    rows = np.clip(((1 - layout[:, 1]) * grid).astype(int), 0, grid - 1)
    cell = rows * grid + cols
    ids, counts = np.unique(cell, return_counts=True)
    kept = ids[counts >= min_count]
    members = [np.flatnonzero(cell == c) for c in kept]
    return cell, kept, members


def _activations(model, source, layer, class_filter, batch_size, spatial, image_size):
    from .collect import activation_matrix, collect_activations, load_activations

    if isinstance(source, np.ndarray) and source.ndim == 2:
        return source.astype(np.float32), np.full(len(source), -1, np.int32)
    if hasattr(source, "column_names"):
        table = source
    elif isinstance(source, (str, os.PathLike)) and os.path.isfile(os.path.join(source, "collection.json")):
        table = load_activations(source, layer)
    else:
        with tempfile.TemporaryDirectory(prefix="kerasviz-atlas-") as out:
            collect_activations(model, source, [layer], out=out, batch_size=batch_size,
                                spatial=spatial, image_size=image_size)
            table = load_activations(out, layer, memory_map=False)
    if "layer" in table.column_names:
        import pyarrow.compute as pc

        table = table.filter(pc.equal(table.column("layer"), layer))
    top = table.column("top_class").to_numpy() if "top_class" in table.column_names else None
    vectors = activation_matrix(table)
    if top is None:
        top = np.full(len(vectors), -1, np.int32)
    if class_filter is not None:
        keep = np.isin(top, np.atleast_1d(class_filter))
        vectors, top = vectors[keep], top[keep]
    return vectors, top


def activation_atlas(
    model: Any,
    source_or_activations: Any,
    layer: str,
    *,
    grid: int = 20,
    umap_kwargs: dict | None = None,
    class_filter: Any = None,
    cell_size: int = 48,
    steps: int = 256,
    min_count: int = 3,
    render_batch: int = 64,
    spatial: str = "sample:4",
    batch_size: int = 64,
    image_size: Any = None,
    seed: int = 0,
    projection: str = "umap",
    step_size: float = 0.02,
    cos_power: float = 1.0,
) -> AtlasResult:
    """An activation atlas of one layer over an image set.

    Args:
        model: A `Backbone` or Keras model taking pixels.
        source_or_activations: Images (anything `collect_activations` reads: a folder, files,
            TFRecords, arrays, a Dataset), a folder written by `collect_activations`, a
            `pyarrow.Table` from `load_activations`, or activations float `(M, C)`.
        layer: The layer whose activations are mapped (and rendered).
        grid: Cells per side of the raster (>= 2).
        umap_kwargs: Arguments of `umap.UMAP` (default: `n_neighbors=15, min_dist=0.01,
            metric="cosine", random_state=seed`).
        class_filter: Keep only activations of images predicted as this class (or classes).
        cell_size: Pixels per cell in the atlas (>= 16); cells are rendered at
            `max(cell_size, 64)` pixels and resized.
        steps: Feature-visualization (Adam) steps per cell; Lucid's atlases use 512.
        min_count: Fewest activations for a cell to be drawn.
        render_batch: Cells rendered per compiled call.
        spatial: Positions collected per image when reading images (`"sample:K"`, `"mean"`, ...).
        batch_size: Images per forward call while collecting.
        image_size: Size images are resized to when reading files.
        seed: Seed of UMAP.
        projection: `"umap"` (the atlas of the paper) or `"pca"` (fast, linear: for quick
            looks and tests; UMAP's first call in a process compiles for about a minute).
        step_size: Adam's learning rate of the cell renderings (see `render_directions`).
        cos_power: Exponent of the cosine factor of the direction objective.

    Returns:
        An `AtlasResult` `(image uint8 (H, W, 3), cells table, layout)`.

    Raises:
        ParameterError: Bad numbers, too few activations (or none left by `class_filter`).
        ImageError / LayerNotFoundError / ModelError: As `collect_activations`.
    """
    import pyarrow as pa

    from ..checks import check_choice
    from ..images import resize_image, to_uint8

    grid = check_int(grid, "grid", low=2)
    cell_size = check_int(cell_size, "cell_size", low=16)
    steps = check_int(steps, "steps", low=1)
    min_count = check_int(min_count, "min_count", low=1)
    render_batch = check_int(render_batch, "render_batch", low=1)
    vectors, top = _activations(model, source_or_activations, layer, class_filter, batch_size, spatial, image_size)
    if len(vectors) < 4:
        raise ParameterError(
            "An atlas needs at least 4 activations (after `class_filter`); give more images or "
            f"sample more positions. Received: {len(vectors)} activations, class_filter={class_filter!r}"
        )
    if check_choice(projection, "projection", ("umap", "pca")) == "umap":
        import umap

        options = {"n_neighbors": min(15, len(vectors) - 1), "min_dist": 0.01, "metric": "cosine", "random_state": seed}
        options.update(umap_kwargs or {})
        layout = umap.UMAP(n_components=2, **options).fit_transform(vectors).astype(np.float32)
    else:
        from sklearn.decomposition import PCA

        layout = PCA(n_components=2, random_state=seed).fit_transform(vectors).astype(np.float32)
    layout = (layout - layout.min(axis=0)) / np.maximum(np.ptp(layout, axis=0), 1e-12)
    _, kept, members = layout_cells(layout, grid, min_count)
    means = np.stack([vectors[m].mean(axis=0) for m in members]).astype(np.float32)
    tiles = render_directions(model, layer, means, size=max(cell_size, 64), steps=steps, step_size=step_size,
                              cos_power=cos_power, batch=render_batch, seed=seed)
    canvas = np.full((grid * cell_size, grid * cell_size, 3), 255, np.uint8)
    for cell, tile in zip(kept, tiles):
        row, col = divmod(int(cell), grid)
        small = resize_image(tile, (cell_size, cell_size)) if tile.shape[0] != cell_size else tile
        canvas[row * cell_size : (row + 1) * cell_size, col * cell_size : (col + 1) * cell_size] = to_uint8(small)
    majority = [int(np.bincount(top[m] - top[m].min()).argmax() + top[m].min()) for m in members]
    cells = pa.table(
        {
            "row": pa.array((kept // grid).astype(np.int32)),
            "col": pa.array((kept % grid).astype(np.int32)),
            "count": pa.array(np.array([len(m) for m in members], np.int32)),
            "top_class": pa.array(np.array(majority, np.int32)),
            "x": pa.array(np.array([layout[m, 0].mean() for m in members], np.float32)),
            "y": pa.array(np.array([layout[m, 1].mean() for m in members], np.float32)),
            "activation": pa.array(list(means), pa.list_(pa.float32())),
        }
    )
    return AtlasResult(canvas, cells, layout, cell_size)
