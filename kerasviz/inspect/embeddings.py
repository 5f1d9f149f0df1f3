"""Features of many images, their nearest neighbours, and 2-D maps (PCA / t-SNE / UMAP).

`extract_features` streams images (an array, files or a folder) through a model in batches and
returns one vector per image: by default the classifier's input (the "penultimate" features, e.g.
Lite0's pooled 1280-d vector). `nearest_neighbors` searches them with scikit-learn;
`neighbors_grid` draws, per query, its neighbours in feature space beside those in pixel space,
as in the lecture. `embed_2d` maps features to 2-D and `embedding_plot` places thumbnails at
those positions, or snaps them to a grid without overlaps (Karpathy's t-SNE grids).
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..backbones import as_backbone
from ..checks import check_choice, check_int, check_number
from ..errors import ParameterError
from ..features import find_layer
from ..images import as_image_batch, image_grid, resize_image, to_uint8
from .layer_outputs import layer_function, penultimate_layer
from .sources import SourceId, check_batch_size, image_batches

__all__ = [
    "extract_features",
    "nearest_neighbors",
    "neighbors_grid",
    "embed_2d",
    "embedding_plot",
    "EMBEDDING_METHODS",
]

#: Methods accepted by `embed_2d`.
EMBEDDING_METHODS = ("pca", "tsne", "umap")

_DEFAULT_IMAGE_SIZE = (224, 224)


def extract_features(
    model: Any,
    images_or_folder: Any,
    layer: Optional[str] = None,
    *,
    batch_size: int = 32,
    image_size: Optional[Union[int, Tuple[int, int]]] = None,
    return_sources: bool = False,
    progress: Optional[bool] = None,
) -> Union[np.ndarray, Tuple[np.ndarray, List[SourceId]]]:
    """One feature vector per image, streamed in batches through a compiled forward pass.

    A folder (searched recursively) or a list of files goes through a `tf.data` pipeline that
    decodes and resizes in parallel and holds a bounded number of batches; unreadable files are
    skipped with a `SkippedImageWarning` naming each (see `kerasviz.inspect.sources`).

    Args:
        model: A `Backbone` or a Keras classifier taking pixels in `[0, 255]`.
        images_or_folder: Images `(H, W, 3)` / `(N, H, W, 3)`, uint8 or float in `[0, 255]`;
            a folder path; one image file; or a list of image file paths.
        layer: Layer whose output is the feature. `None`: the input of the classifier layer
            (the layer computing the logits), e.g. Lite0's pooled 1280-d vector. A 4-D feature
            map `(N, h, w, C)` is global-average-pooled to `(N, C)`; other outputs are flattened.
        batch_size: Images per forward pass (positive).
        image_size: Size files are resized to, an int or `(height, width)`; default the model's
            input size (224 x 224 when the model takes any size). Arrays keep their own size.
        return_sources: Also return one source id per row: the file path for files (skipped
            files have no row), the row index for arrays.
        progress: Show a progress bar; `None` uses the global setting.

    Returns:
        float32 `(N, D)` features, or `(features, sources)` with `return_sources=True`.

    Raises:
        ModelError: Not a model, or images of a size the layer cannot run at.
        LayerNotFoundError: Unknown `layer`.
        ImageError: Invalid arrays, a missing or empty folder, no readable image.
        ParameterError: Bad `batch_size` or `image_size`.
    """
    backbone = as_backbone(model)
    check_batch_size(batch_size)
    if layer is None:
        layer = penultimate_layer(backbone)
    else:
        find_layer(backbone.model, layer)
    compiled = layer_function(backbone, layer, "pool")
    size = image_size or compiled.input_size or backbone.input_size or _DEFAULT_IMAGE_SIZE
    rows, sources = [], []
    for batch in image_batches(
        images_or_folder, size=size, batch_size=batch_size, progress=progress, desc="features"
    ):
        compiled.check_size(batch.pixels.shape[1:3], layer)
        rows.append(compiled.fn(batch.pixels).numpy())
        sources.extend(batch.sources)
    features = np.concatenate(rows).astype(np.float32, copy=False)
    return (features, sources) if return_sources else features


def _as_features(features: Any, name: str = "features") -> np.ndarray:
    array = np.asarray(features)
    if array.ndim != 2 or 0 in array.shape or not np.issubdtype(array.dtype, np.number):
        raise ParameterError(
            f"`{name}` must be a non-empty numeric (N, D) array. Received: {name} with shape "
            f"{array.shape} and dtype {array.dtype}"
        )
    array = array.astype(np.float32)
    if not np.all(np.isfinite(array)):
        raise ParameterError(
            f"`{name}` holds NaN or inf values. Received: {name} with shape {array.shape}"
        )
    return array


def _query_rows(queries: Any, features: np.ndarray) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """`(query vectors, their indices into features or None)`."""
    array = np.asarray(queries)
    if array.ndim <= 1 and (array.size == 0 or np.issubdtype(array.dtype, np.integer)):
        indices = np.atleast_1d(array).astype(np.int64)
        if indices.size == 0 or indices.min() < -len(features) or indices.max() >= len(features):
            raise ParameterError(
                f"Query indices must lie in [0, {len(features) - 1}] (rows of `features`). "
                f"Received: queries={queries!r}"
            )
        indices = indices % len(features)
        return features[indices], indices
    vectors = _as_features(np.atleast_2d(array), "queries")
    if vectors.shape[1] != features.shape[1]:
        raise ParameterError(
            f"Query vectors must have D = {features.shape[1]} like `features`. Received: queries "
            f"with shape {vectors.shape}"
        )
    return vectors, None


def nearest_neighbors(
    features: Any,
    queries: Any,
    k: int = 5,
    *,
    metric: str = "cosine",
) -> Tuple[np.ndarray, np.ndarray]:
    """The `k` nearest rows of `features` to each query (scikit-learn `NearestNeighbors`).

    Args:
        features: `(N, D)` array, e.g. from `extract_features`.
        queries: Row indices into `features` (an int or a sequence; each query's own row is
            left out of its neighbours), or query vectors `(Q, D)` / `(D,)` (searched among all).
        k: Neighbours per query, `1 <= k < N` for index queries (`<= N` for vectors).
        metric: Any scikit-learn metric name: `"cosine"` (default), `"euclidean"`, ...

    Returns:
        `(distances, indices)`, both `(Q, k)`, nearest first: float32 distances and int64 row
        indices into `features`.

    Raises:
        ParameterError: Bad shapes, non-finite values, indices out of range, bad `k` or metric.
    """
    from sklearn.neighbors import NearestNeighbors

    features = _as_features(features)
    vectors, self_rows = _query_rows(queries, features)
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral) or k < 1:
        raise ParameterError(f"`k` must be a positive int. Received: k={k!r}")
    k = check_int(k, "k", low=1)
    limit = len(features) - (self_rows is not None)
    if k > limit:
        raise ParameterError(
            f"`k` must be at most {limit} here ({len(features)} feature rows"
            f"{', the query itself left out' if self_rows is not None else ''}). Received: k={k}"
        )
    try:
        index = NearestNeighbors(n_neighbors=min(k + 1, len(features)), metric=metric).fit(features)
    except (ValueError, TypeError) as error:
        raise ParameterError(f"Unusable metric ({error}). Received: metric={metric!r}") from error
    distances, indices = index.kneighbors(vectors, n_neighbors=min(k + 1, len(features)))
    if self_rows is None:
        return distances[:, :k].astype(np.float32), indices[:, :k]
    out_d, out_i = [], []
    for row, (dist, idx) in enumerate(zip(distances, indices)):
        keep = idx != self_rows[row]
        if keep.all():  # a duplicate row tied with the query: drop the farthest instead
            keep[-1] = False
        out_d.append(dist[keep][:k])
        out_i.append(idx[keep][:k])
    return np.asarray(out_d, np.float32), np.asarray(out_i, np.int64)


def _labels_for(indices: Sequence[int], labels: Optional[Sequence[Any]], query: int) -> List[str]:
    if labels is None:
        return ["query"] + [f"#{i}" for i in indices]
    return [f"q: {labels[query]}"] + [str(labels[i]) for i in indices]


def neighbors_grid(
    images: Any,
    features: Any,
    queries: Any,
    k: int = 5,
    *,
    metric: str = "cosine",
    pixel_metric: str = "euclidean",
    labels: Optional[Sequence[Any]] = None,
    tile_size: Optional[Union[int, Tuple[int, int]]] = 64,
) -> np.ndarray:
    """The lecture's picture: each query with its neighbours in feature space and in pixel space.

    Left block: per row, the query image then its `k` nearest neighbours by `features`; right
    block: the same query then its `k` nearest neighbours by raw pixels (flattened images).

    Args:
        images: `(N, H, W, 3)` images (uint8 or float `[0, 255]`), row `i` matching `features[i]`.
        features: `(N, D)` features of those images.
        queries: Row indices of the query images (an int or a sequence).
        k: Neighbours per query (`1 <= k < N`).
        metric: Distance in feature space (scikit-learn name), default `"cosine"`.
        pixel_metric: Distance in pixel space, default `"euclidean"` (L2, as in the lecture).
        labels: Optional label per image (e.g. class names), written under the tiles; without
            them tiles are labelled with their row index.
        tile_size: Size tiles are drawn at (int or `(height, width)`), or `None` for the images'.

    Returns:
        uint8 `(H, W, 3)` picture.

    Raises:
        ImageError: Invalid images.
        ParameterError: Counts that do not match, bad queries, `k`, metrics or labels.
    """
    batch, _ = as_image_batch(images)
    features = _as_features(features)
    if len(batch) != len(features):
        raise ParameterError(
            f"`images` and `features` must have one row per image; got {len(batch)} images and "
            f"{len(features)} feature rows. Received: features with shape {features.shape}"
        )
    if labels is not None and (isinstance(labels, str) or len(labels) != len(batch)):
        raise ParameterError(
            f"`labels` must hold one label per image ({len(batch)}). Received: labels={labels!r}"
        )
    array = np.asarray(queries)
    if array.ndim > 1 or array.size == 0 or not np.issubdtype(array.dtype, np.integer):
        raise ParameterError(
            f"`queries` must be row indices of the images. Received: queries={queries!r}"
        )
    _, by_feature = nearest_neighbors(features, queries, k, metric=metric)
    pixels = batch.reshape(len(batch), -1)
    _, by_pixel = nearest_neighbors(pixels, queries, k, metric=pixel_metric)
    query_rows = np.atleast_1d(array) % len(batch)
    blocks = []
    for neighbours in (by_feature, by_pixel):
        tiles, names = [], []
        for query, row in zip(query_rows, neighbours):
            tiles.extend(batch[[query, *row]])
            names.extend(_labels_for(row, labels, query))
        blocks.append(image_grid(tiles, ncols=k + 1, labels=names, tile_size=tile_size))
    return image_grid(
        blocks,
        ncols=2,
        padding=8,
        labels=[f"nearest in feature space ({metric})", f"nearest in pixel space ({pixel_metric})"],
    )


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

    features = _as_features(features)
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
