"""LIME for images (Ribeiro et al. 2016), as `lime` 0.2's `LimeImageExplainer` computes it.

Samples: the first keeps every segment, the others keep each segment with probability 1/2. Each
is weighted by `sqrt(exp(-d^2 / kernel_width^2))`, `d` the cosine distance of its 0/1 row to the
all-ones row; a ridge regression (alpha 1, unpenalized intercept, sklearn's `Ridge` with
`sample_weight`) of the class probability on the rows gives each segment's value. lime's feature
selection keeps every segment here (its default `num_features=100000`).
"""

from __future__ import annotations

from typing import Any, Optional, Tuple, Union

import numpy as np

from ..checks import check_int, check_number
from .blas import one_blas_thread
from .segment_inputs import prepare_segment_problem
from .segments import paint_segments

__all__ = ["lime", "lime_weights", "weighted_ridge"]


def lime_weights(rows: np.ndarray, kernel_width: float) -> np.ndarray:
    """LIME's sample weights: the exponential kernel of the cosine distance to the all-ones row.

    Args:
        rows: `(S, M)` 0 / 1.
        kernel_width: Kernel width, > 0.

    Returns:
        float64 `(S,)`.
    """
    rows = rows.astype(np.float64)
    norms = np.sqrt(rows.sum(axis=1))
    similarity = np.where(norms > 0, rows.sum(axis=1) / np.maximum(norms, 1e-300) / np.sqrt(rows.shape[1]), 0.0)
    distance = 1.0 - similarity
    return np.sqrt(np.exp(-(distance**2) / kernel_width**2))


def weighted_ridge(rows: np.ndarray, y: np.ndarray, weights: np.ndarray, alpha: float = 1.0) -> Tuple[np.ndarray, float]:
    """Ridge regression with sample weights and an unpenalized intercept (sklearn's `Ridge`).

    Args:
        rows: `(S, M)` regressors.
        y: `(S,)` targets.
        weights: `(S,)` non-negative sample weights.
        alpha: L2 penalty on the coefficients.

    Returns:
        `(coefficients (M,), intercept)`.
    """
    x = rows.astype(np.float64)
    with one_blas_thread():
        w = weights / weights.sum()
        x_mean, y_mean = w @ x, w @ y
        xc, yc = x - x_mean, y - y_mean
        xw = xc * weights[:, None]
        coef = np.linalg.solve(xc.T @ xw + alpha * np.eye(x.shape[1]), xw.T @ yc)
        return coef, float(y_mean - x_mean @ coef)


def lime(
    predictor: Any,
    image: Any,
    target: Any = None,
    *,
    segments: Any = None,
    samples: int = 1000,
    kernel_width: float = 0.25,
    baseline: Any = "mean",
    seed: int = 0,
    batch_size: int = 64,
    return_segments: bool = False,
    progress: Optional[bool] = None,
) -> Union[np.ndarray, Tuple[np.ndarray, np.ndarray]]:
    """LIME: a locally weighted linear model of the class probability over superpixels.

    Args:
        predictor: A `Backbone` / `keras.Model`, a `PredictClient` / `RestPredictClient`, or a
            callable `images (N, H, W, 3) in [0, 255] -> (N, C)` probabilities.
        image: `(H, W, 3)` pixels in [0, 255].
        target: Class index, or None (the predictor's top class).
        segments: `(H, W)` integer labels, or None for LIME's quickshift superpixels.
        samples: Perturbed images (the first is the image itself), >= 2.
        kernel_width: Width of the cosine-distance kernel, > 0 (lime's default 0.25).
        baseline: What a hidden segment shows: "mean" (its mean colour, lime's default), a
            gray level, `(r, g, b)` or an image in [0, 255].
        seed: Random seed (samples and default segments).
        batch_size: Images per predictor call.
        return_segments: Also return the per-segment values.
        progress: Show a progress bar (None: global setting).

    Returns:
        float32 `(H, W)` map holding each segment's coefficient; with `return_segments`,
        `(map, values (M,))` where the map is `values[segments]`.

    Raises:
        ImageError, ParameterError, TargetError, PredictorError: bad arguments or predictor.
    """
    samples = check_int(samples, "samples", low=2)
    kernel_width = check_number(kernel_width, "kernel_width", low=0, open_low=True)
    problem = prepare_segment_problem(predictor, image, target, segments, baseline, seed)
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, 2, (samples, problem.count)).astype(np.int8)
    rows[0] = 1
    y = problem.scores(rows, batch_size, "LIME", progress)
    values, _ = weighted_ridge(rows, y, lime_weights(rows, kernel_width))
    heatmap = paint_segments(values, problem.segments)
    return (heatmap, values.astype(np.float32)) if return_segments else heatmap
