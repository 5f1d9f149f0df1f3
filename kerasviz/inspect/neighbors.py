"""Nearest neighbours in feature space (scikit-learn) and the lecture's picture of them: each
query's neighbours by features beside its neighbours by pixels.
"""

from __future__ import annotations

import numbers
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..checks import check_int
from ..errors import ParameterError
from ..images import as_image_batch, image_grid

__all__ = ["as_features", "nearest_neighbors", "neighbors_grid"]


def as_features(features: Any, name: str = "features") -> np.ndarray:
    """Features as float `(N, D)`, checked.

    Raises:
        ParameterError: Not a finite 2-D array.
    """
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
    vectors = as_features(np.atleast_2d(array), "queries")
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

    features = as_features(features)
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
    features = as_features(features)
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
