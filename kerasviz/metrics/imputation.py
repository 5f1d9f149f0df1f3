"""Noisy linear imputation (Rong et al. 2022, ROAD): fill removed pixels from their neighbours."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.linalg import spsolve

__all__ = ["noisy_linear_imputation"]

# (row offset, column offset), weight: the 8-neighbourhood of Quantus / the ROAD reference code.
_NEIGHBOURS = (
    ((1, 1), 1 / 12), ((0, 1), 1 / 6), ((-1, 1), 1 / 12), ((1, -1), 1 / 12),
    ((0, -1), 1 / 6), ((-1, -1), 1 / 12), ((1, 0), 1 / 6), ((-1, 0), 1 / 6),
)


def noisy_linear_imputation(
    image: np.ndarray, pixels: np.ndarray, noise: float, rng: np.random.Generator
) -> np.ndarray:
    """Replace `pixels` of `image` by the solution of the neighbour-average linear system.

    Each removed pixel equals the weighted mean of its in-frame 8 neighbours (known ones are
    constants, removed ones unknowns); one sparse solve serves all colours; Gaussian noise of
    standard deviation `noise` is added to the imputed values (Quantus'
    `noisy_linear_imputation`, applied to pixel indices).

    Args:
        image: `(H, W, C)` float image.
        pixels: Flat pixel indices `(K,)` into `H * W` (distinct).
        noise: Standard deviation of the added noise, `>= 0`.
        rng: Random generator for the noise.

    Returns:
        float64 `(H, W, C)` copy with the pixels imputed.
    """
    height, width, channels = image.shape
    flat = image.reshape(-1, channels).astype(np.float64)
    if len(pixels) == 0:
        return flat.reshape(image.shape)
    known = np.ones(height * width, bool)
    known[pixels] = False
    variable = np.zeros(height * width, np.int64)
    variable[pixels] = np.arange(len(pixels))
    rows_all, cols_all = pixels // width, pixels % width
    b = np.zeros((len(pixels), channels))
    diagonal = np.ones(len(pixels))
    entries_r, entries_c, entries_v = [], [], []
    for (dr, dc), weight in _NEIGHBOURS:
        r, c = rows_all + dr, cols_all + dc
        valid = (r >= 0) & (c >= 0) & (r < height) & (c < width)
        diagonal[~valid] -= weight
        ids = np.flatnonzero(valid)
        neighbour = r[valid] * width + c[valid]
        is_known = known[neighbour]
        b[ids[is_known]] -= weight * flat[neighbour[is_known]]
        entries_r.append(ids[~is_known])
        entries_c.append(variable[neighbour[~is_known]])
        entries_v.append(np.full(int((~is_known).sum()), weight))
    entries_r.append(np.arange(len(pixels)))
    entries_c.append(np.arange(len(pixels)))
    entries_v.append(-diagonal)
    matrix = coo_matrix(
        (np.concatenate(entries_v), (np.concatenate(entries_r), np.concatenate(entries_c))),
        shape=(len(pixels), len(pixels)),
    ).tocsc()
    solution = spsolve(matrix, b).reshape(len(pixels), channels)
    result = flat.copy()
    result[pixels] = solution + noise * rng.standard_normal(solution.shape)
    return result.reshape(image.shape)
