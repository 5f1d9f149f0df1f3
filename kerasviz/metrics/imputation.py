"""Noisy linear imputation (Rong et al. 2022, ROAD): fill removed pixels from their neighbours."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.linalg import spsolve

__all__ = ["imputed_copies", "noisy_linear_imputation"]

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


def imputed_copies(
    images: Sequence[np.ndarray],
    pixel_sets: Sequence[np.ndarray],
    noise: float,
    seeds: Sequence[int],
    *,
    workers: int | None = None,
) -> np.ndarray:
    """`noisy_linear_imputation` of several images at once, one solve per thread.

    The sparse solver releases the GIL, so `workers` threads solve side by side (1.8x on two
    cores); copy `k`'s noise comes from its own generator `default_rng(seeds[k])`, so the result
    does not depend on the number of threads.

    Args:
        images: `K` images `(H, W, C)`.
        pixel_sets: `K` arrays of flat pixel indices to impute.
        noise: Standard deviation of the added noise, `>= 0`.
        seeds: `K` seeds (ints or tuples of ints) of the noise generators.
        workers: Threads (`None`: the number of CPUs).

    Returns:
        float32 `(K, H, W, C)`.
    """
    def one(k: int) -> np.ndarray:
        return noisy_linear_imputation(images[k], pixel_sets[k], noise,
                                       np.random.default_rng(seeds[k]))

    workers = min(len(images), workers or os.cpu_count() or 1)
    if workers <= 1:
        copies = [one(k) for k in range(len(images))]
    else:
        with ThreadPoolExecutor(workers) as pool:
            copies = list(pool.map(one, range(len(images))))
    return np.stack(copies).astype(np.float32)
