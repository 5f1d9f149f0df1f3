"""2-D maps of features (PCA / t-SNE / UMAP) and thumbnails placed at those positions, free or
snapped to a grid without overlaps (Karpathy's t-SNE grids).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..checks import check_choice, check_int, check_number
from ..errors import ParameterError
from ..images import as_image_batch, resize_image, to_uint8
from .neighbors import as_features

__all__ = ["EMBEDDING_METHODS", "embed_2d", "embedding_plot"]

#: Methods accepted by `embed_2d`.
EMBEDDING_METHODS = ("pca", "tsne", "umap")


def _clamped_tsne(count: int, random_state: int, **options: Any):
    from sklearn.manifold import TSNE

    perplexity = options.pop("perplexity", min(30.0, max(1.0, (count - 1) / 3.0)))
    return TSNE(
        n_components=2,
        perplexity=perplexity,
        init="pca",
        learning_rate="auto",
        random_state=random_state,
        **options,
    )


def _clamped_umap(count: int, random_state: int, **options: Any):
    import umap

    options.setdefault("n_neighbors", max(2, min(15, count - 1)))
    if count <= options["n_neighbors"] + 2:  # spectral initialization needs a few more points
        options.setdefault("init", "random")
    return umap.UMAP(n_components=2, random_state=random_state, **options)


def embed_2d(
    features: Any,
    method: str = "pca",
    *,
    random_state: int = 0,
    **options: Any,
) -> np.ndarray:
    """Map features to 2-D with PCA, t-SNE (scikit-learn) or UMAP (umap-learn).

    Small sets are handled: t-SNE's perplexity defaults to `min(30, (N - 1) / 3)` (it must stay
    below N) and UMAP's `n_neighbors` to `min(15, N - 1)` (random instead of spectral
    initialization when N is that small). For t-SNE and UMAP, features wider than 50 are first
    reduced to 50 dimensions by PCA (the usual practice: faster, less noise).

    Args:
        features: `(N, D)` array, `N >= 3`, `D >= 2` (`D >= 1` for t-SNE and UMAP).
        method: `"pca"`, `"tsne"` or `"umap"`.
        random_state: Seed, for reproducible maps.
        **options: Passed to `sklearn.decomposition.PCA`, `sklearn.manifold.TSNE` or
            `umap.UMAP` (e.g. `perplexity=5`, `n_neighbors=30`, `min_dist=0.5`).

    Returns:
        float32 `(N, 2)` coordinates.

    Raises:
        ParameterError: Bad features, unknown method or options the method refuses.
    """
    from sklearn.decomposition import PCA

    features = as_features(features)
    check_choice(method, "method", EMBEDDING_METHODS)
    count, width = features.shape
    if count < 3 or (method == "pca" and width < 2):
        raise ParameterError(
            f"`embed_2d` needs at least 3 rows{' and 2 columns' if method == 'pca' else ''}. "
            f"Received: features with shape {features.shape}"
        )
    try:
        if method == "pca":
            return (
                PCA(n_components=2, random_state=random_state, **options)
                .fit_transform(features)
                .astype(np.float32)
            )
        if width > 50 and count > 50:
            features = PCA(n_components=50, random_state=random_state).fit_transform(features)
        builder = _clamped_tsne if method == "tsne" else _clamped_umap
        reducer = builder(count, random_state, **options)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*n_jobs value.*")  # umap + random_state
            return np.asarray(reducer.fit_transform(features), np.float32)
    except TypeError as error:  # unknown keyword for the method
        raise ParameterError(f"{error}. Received: options={options!r}") from error


def _unit_square(points: np.ndarray) -> np.ndarray:
    low, high = points.min(axis=0), points.max(axis=0)
    return (points - low) / np.where(high > low, high - low, 1.0)


def embedding_plot(
    points: Any,
    images: Any,
    *,
    size: int = 800,
    thumb: int = 48,
    grid: bool = False,
    background: int = 255,
) -> np.ndarray:
    """Draw image thumbnails at their 2-D positions (the lecture's t-SNE pictures).

    Points are min-max scaled to the canvas per axis; x goes right and y goes **up**. Without
    `grid`, thumbnails may overlap (later rows on top). With `grid=True` each image gets its own
    cell of a `ceil(sqrt(N))`-column grid, assigned by a linear assignment that minimizes the
    total squared distance between points and cells (scipy's `linear_sum_assignment`; cubic in
    N, so a few thousand images at most).

    Args:
        points: `(N, 2)` coordinates, e.g. from `embed_2d`.
        images: `(N, H, W, 3)` images, uint8 or float in `[0, 255]`.
        size: Canvas side in pixels (`>= 8`).
        thumb: Thumbnail side in pixels (scatter mode, `1 <= thumb <= size`); with `grid=True`
            the cell side is `size // ceil(sqrt(N))` instead.
        grid: Snap thumbnails to a grid without overlaps.
        background: Canvas gray level in `[0, 255]`.

    Returns:
        uint8 `(size, size, 3)` canvas (`(rows * cell, cols * cell, 3)` with `grid=True`).

    Raises:
        ImageError: Invalid images.
        ParameterError: Bad points, sizes, or counts that differ.
    """
    batch, _ = as_image_batch(images)
    try:
        coords = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        coords = np.empty(0)
    if coords.ndim != 2 or coords.shape[1] != 2 or not np.all(np.isfinite(coords)):
        raise ParameterError(
            f"`points` must be a finite (N, 2) array. Received: points with shape {np.shape(points)}"
        )
    if len(coords) != len(batch):
        raise ParameterError(
            f"Got {len(coords)} points but {len(batch)} images; pass one point per image. "
            f"Received: points with shape {coords.shape}"
        )
    size = check_int(size, "size", low=1)
    thumb = check_int(thumb, "thumb", low=1)
    if size < 8 or (not grid and thumb > size):
        raise ParameterError(
            f"Need size >= 8 and thumb <= size. Received: size={size}, thumb={thumb}"
        )
    background = check_number(background, "background", low=0, high=255)
    unit = _unit_square(coords)
    unit[:, 1] = 1.0 - unit[:, 1]  # y up
    if grid:
        return _grid_plot(unit, batch, size, background)
    canvas = np.full((size, size, 3), int(background), np.uint8)
    thumbs = to_uint8(resize_image(batch, thumb))
    corners = np.rint(unit * (size - thumb)).astype(int)
    for (x, y), tile in zip(corners, thumbs):
        canvas[y : y + thumb, x : x + thumb] = tile
    return canvas


def _grid_plot(unit: np.ndarray, batch: np.ndarray, size: int, background: int) -> np.ndarray:
    from scipy.optimize import linear_sum_assignment
    from scipy.spatial.distance import cdist

    count = len(batch)
    cols = math.ceil(math.sqrt(count))
    rows = math.ceil(count / cols)
    cell = size // cols
    if cell < 1:
        raise ParameterError(f"`size` is too small for {count} grid cells. Received: size={size}")
    ys, xs = np.mgrid[0:rows, 0:cols]
    centres = np.stack([(xs.ravel() + 0.5) / cols, (ys.ravel() + 0.5) / rows], axis=1)
    _, cells = linear_sum_assignment(cdist(unit, centres, "sqeuclidean"))
    canvas = np.full((rows * cell, cols * cell, 3), int(background), np.uint8)
    thumbs = to_uint8(resize_image(batch, cell))
    for tile, index in zip(thumbs, cells):
        row, col = divmod(int(index), cols)
        canvas[row * cell : (row + 1) * cell, col * cell : (col + 1) * cell] = tile
    return canvas
