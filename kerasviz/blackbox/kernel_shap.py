"""Kernel SHAP (Lundberg & Lee 2017) over superpixels, as `shap.KernelExplainer` computes it
without its optional L1 feature selection: every segment gets a value.

The model sees the image with the segments of each sampled coalition kept and the others replaced
by the baseline. The values solve shap's weighted least squares with the efficiency constraint
substituted (the last segment's value is `f(x) - f(baseline)` minus the others), so they sum to
`f(x) - f(baseline)` exactly.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple, Union

import numpy as np

from ..checks import check_int
from .blas import one_blas_thread
from .segment_inputs import prepare_segment_problem
from .segments import paint_segments
from .shap_sampling import kernel_coalitions

__all__ = ["kernel_shap", "shapley_regression"]


def shapley_regression(rows: np.ndarray, weights: np.ndarray, y: np.ndarray, f_x: float, f_null: float) -> np.ndarray:
    """Shapley values from weighted coalitions with the efficiency constraint built in.

    Args:
        rows: `(S, M)` 0 / 1 coalitions.
        weights: `(S,)` kernel weights.
        y: `(S,)` model output of each coalition.
        f_x: Output with every feature present.
        f_null: Output with every feature at the baseline.

    Returns:
        float64 `(M,)`, summing to `f_x - f_null`.
    """
    mask = rows.astype(np.float64)
    adjusted = (y - f_null) - mask[:, -1] * (f_x - f_null)
    design = mask[:, :-1] - mask[:, -1:]
    with one_blas_thread():
        weighted = weights[:, None] * design
        try:  # shap's solve: the normal equations, least squares where they are singular
            w = np.linalg.solve(design.T @ weighted, weighted.T @ adjusted)
        except np.linalg.LinAlgError:
            root = np.sqrt(weights)
            w = np.linalg.lstsq(root[:, None] * design, root * adjusted, rcond=None)[0]
    return np.append(w, (f_x - f_null) - w.sum())


def kernel_shap(
    predictor: Any,
    image: Any,
    target: Any = None,
    *,
    segments: Any = None,
    samples: int = 2048,
    baseline: Any = "mean",
    seed: int = 0,
    batch_size: int = 64,
    return_segments: bool = False,
    progress: Optional[bool] = None,
) -> Union[np.ndarray, Tuple[np.ndarray, np.ndarray]]:
    """Kernel SHAP values of superpixels for the class probability.

    Args:
        predictor: A `Backbone` / `keras.Model`, a `PredictClient` / `RestPredictClient`, or a
            callable `images (N, H, W, 3) in [0, 255] -> (N, C)` probabilities.
        image: `(H, W, 3)` pixels in [0, 255].
        target: Class index, or None (the predictor's top class).
        segments: `(H, W)` integer labels, or None for LIME's quickshift superpixels.
        samples: Coalitions evaluated (shap's `nsamples`; at most `2**M - 2`), >= 1.
        baseline: What a missing segment shows: "mean" (its mean colour), a gray level,
            `(r, g, b)` or an image in [0, 255].
        seed: Random seed (coalitions and default segments).
        batch_size: Images per predictor call.
        return_segments: Also return the per-segment values.
        progress: Show a progress bar (None: global setting).

    Returns:
        float32 `(H, W)` map holding each segment's Shapley value (they sum to
        `f(image) - f(baseline)`); with `return_segments`, `(map, values (M,))`.

    Raises:
        ImageError, ParameterError, TargetError, PredictorError: bad arguments or predictor.
    """
    samples = check_int(samples, "samples", low=1)
    problem = prepare_segment_problem(predictor, image, target, segments, baseline, seed)
    rows, weights = kernel_coalitions(problem.count, samples, np.random.default_rng(seed))
    ends = np.stack([np.ones(problem.count, np.int8), np.zeros(problem.count, np.int8)])
    y = problem.scores(np.concatenate([ends, rows]), batch_size, "Kernel SHAP", progress)
    values = shapley_regression(rows, weights, y[2:], y[0], y[1])
    heatmap = paint_segments(values, problem.segments)
    return (heatmap, values.astype(np.float32)) if return_segments else heatmap
