"""Kernel SHAP's coalition sampling, as `shap.KernelExplainer` draws it.

Coalition sizes are visited from the outside in (1 and M-1, then 2 and M-2, ...): a size whose
share of the Shapley-kernel weight affords every coalition is enumerated in full (with its
complements); the remaining budget draws sizes by their remaining kernel weight and random
coalitions of that size, each with its complement, a repeat adding weight to the first draw.
"""

from __future__ import annotations

import itertools
from math import comb
from typing import Tuple

import numpy as np

__all__ = ["kernel_coalitions"]


def kernel_coalitions(count: int, samples: int, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """Coalitions and their kernel weights for `count` features and a budget of `samples`.

    Args:
        count: M, the number of features (segments), >= 2.
        samples: Budget of model evaluations (capped at `2**M - 2`).
        rng: Random generator.

    Returns:
        `(rows (S, M) int8 0 / 1, weights (S,) float64)`.
    """
    m = count
    if m <= 30:
        samples = min(samples, 2**m - 2)
    sizes = int(np.ceil((m - 1) / 2.0))
    paired = int(np.floor((m - 1) / 2.0))
    weight_vector = np.array([(m - 1.0) / (i * (m - i)) for i in range(1, sizes + 1)])
    weight_vector[:paired] *= 2
    weight_vector /= weight_vector.sum()
    rows, weights = [], []
    full = 0
    left = samples
    remaining = weight_vector.copy()
    for size in range(1, sizes + 1):
        subsets = comb(m, size) * (2 if size <= paired else 1)
        if left * remaining[size - 1] / subsets < 1.0 - 1e-8:
            break
        full += 1
        left -= subsets
        if remaining[size - 1] < 1.0:
            remaining /= 1 - remaining[size - 1]
        w = weight_vector[size - 1] / comb(m, size)
        if size <= paired:
            w /= 2.0
        for chosen in itertools.combinations(range(m), size):
            mask = np.zeros(m, np.int8)
            mask[list(chosen)] = 1
            rows.append(mask)
            weights.append(w)
            if size <= paired:
                rows.append(1 - mask)
                weights.append(w)
    fixed = len(rows)
    left = samples - fixed
    if full != sizes and left > 0:
        draw_weights = weight_vector.copy()
        draw_weights[:paired] /= 2
        draw_weights = draw_weights[full:]
        draw_weights /= draw_weights.sum()
        drawn = rng.choice(len(draw_weights), 4 * left, p=draw_weights)
        used = {}
        position = 0
        while left > 0 and position < len(drawn):
            size = int(drawn[position]) + full + 1
            position += 1
            mask = np.zeros(m, np.int8)
            mask[rng.permutation(m)[:size]] = 1
            key = mask.tobytes()
            new = key not in used
            if new:
                used[key] = len(rows)
                left -= 1
                rows.append(mask)
                weights.append(1.0)
            else:
                weights[used[key]] += 1.0
            if left > 0 and size <= paired:
                if new:
                    left -= 1
                    rows.append(1 - mask)
                    weights.append(1.0)
                else:
                    weights[used[key] + 1] += 1.0
        tail = np.asarray(weights[fixed:])
        weights[fixed:] = list(tail * (weight_vector[full:].sum() / tail.sum()))
    return np.asarray(rows, np.int8).reshape(-1, m), np.asarray(weights, np.float64)
