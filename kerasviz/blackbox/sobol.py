"""Sobol attribution (Fel et al. 2021, as in Xplique): total Sobol indices of a `grid x grid`
mask, estimated with a scrambled Sobol sequence and Jansen's estimator.

Each design row draws `2 * grid**2` numbers in [0, 1): the matrices A, B and, for every cell i,
C_i = A with column i taken from B, give `design * (grid**2 + 2)` masks. A mask is upsampled to
the image (nearest neighbour) and the image becomes `x * m + baseline * (1 - m)` (inpainting,
baseline 0 by default). The total index of cell i is `mean((f(A) - f(C_i))^2) / (2 var f)`,
`var` over f(A) and f(B); the `grid x grid` indices are resized bilinearly to the image.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..checks import check_int
from ..images import as_image_batch
from .baselines import resolve_baseline
from .predictors import as_predictor
from .queries import query_scores, top_classes

__all__ = ["jansen_total_indices", "sobol_attribution", "sobol_masks"]


def sobol_masks(grid: int, design: int, seed: int) -> np.ndarray:
    """The `[A; B; C_1; ...; C_d]` masks of one Sobol run.

    Args:
        grid: Cells per side (d = grid**2).
        design: Rows of A and B (a power of 2 keeps the sequence balanced).
        seed: Scrambling seed.

    Returns:
        float32 `(design * (d + 2), grid, grid)` in [0, 1).
    """
    from scipy.stats import qmc

    d = grid * grid
    points = qmc.Sobol(d=2 * d, scramble=True, seed=seed).random(design)
    a, b = points[:, :d], points[:, d:]
    c = np.repeat(a[None], d, axis=0)
    c[np.arange(d), :, np.arange(d)] = b.T
    return np.concatenate([a, b, c.reshape(-1, d)]).reshape(-1, grid, grid).astype(np.float32)


def jansen_total_indices(outputs: np.ndarray, grid: int, design: int) -> np.ndarray:
    """Jansen's estimator of the total Sobol index of every cell.

    Args:
        outputs: `(design * (d + 2),)` scores of the masks from `sobol_masks`.
        grid: Cells per side.
        design: Rows of A and B.

    Returns:
        float64 `(grid, grid)`; zeros when the output does not vary.
    """
    d = grid * grid
    f_a, f_b = outputs[:design], outputs[design : 2 * design]
    f_c = outputs[2 * design :].reshape(d, design)
    variance = np.var(np.concatenate([f_a, f_b]))
    if variance <= 0:
        return np.zeros((grid, grid))
    return (np.mean((f_a[None] - f_c) ** 2, axis=1) / (2 * variance)).reshape(grid, grid)


def sobol_attribution(
    predictor: Any,
    images: Any,
    target: Any = None,
    *,
    grid: int = 11,
    design: int = 32,
    seed: int = 0,
    baseline: Any = 0.0,
    batch_size: int = 64,
    progress: Optional[bool] = None,
) -> np.ndarray:
    """Sobol attribution: how much of the class probability's variance each region drives.

    Args:
        predictor: A `Backbone` / `keras.Model`, a `PredictClient` / `RestPredictClient`, or a
            callable `images (N, H, W, 3) in [0, 255] -> (N, C)` probabilities.
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in [0, 255].
        target: Class index, one per image, or None (the predictor's top class).
        grid: Cells per side of the mask, >= 2.
        design: Sobol design size, >= 2 (`design * (grid**2 + 2)` queries per image).
        seed: Scrambling seed.
        baseline: What a masked pixel fades to: a gray level, `(r, g, b)` or an image in
            [0, 255] (default 0).
        batch_size: Images per predictor call.
        progress: Show a progress bar (None: global setting).

    Returns:
        float32 `(N, H, W)` (or `(H, W)`) total Sobol indices (non-negative, larger = more
        important).

    Raises:
        ImageError, ParameterError, TargetError, PredictorError: bad arguments or predictor.
    """
    from skimage.transform import resize

    grid = check_int(grid, "grid", low=2)
    design = check_int(design, "design", low=2)
    seed = check_int(seed, "seed", low=0)
    check_int(batch_size, "batch_size", low=1)
    batch, single = as_image_batch(images)
    model = as_predictor(predictor)
    model.check_images(batch)
    fills = [resolve_baseline(baseline, image) for image in batch]
    classes = top_classes(model, batch, target)
    masks = sobol_masks(grid, design, seed)
    height, width = batch.shape[1:3]
    rows = np.minimum((np.arange(height) + 0.5) * grid / height, grid - 1).astype(int)
    cols = np.minimum((np.arange(width) + 0.5) * grid / width, grid - 1).astype(int)
    maps = []
    for index, (image, fill) in enumerate(zip(batch, fills)):
        def make_batch(part: slice, image: np.ndarray = image, fill: np.ndarray = fill) -> np.ndarray:
            up = masks[part][:, rows][:, :, cols][..., None]
            return (fill + (image - fill) * up).astype(np.float32)

        scores = query_scores(model, make_batch, len(masks), [classes[index]], batch_size, desc="Sobol", progress=progress)
        indices = jansen_total_indices(scores[:, 0], grid, design)
        maps.append(resize(indices, (height, width), order=1, mode="edge", anti_aliasing=False))
    result = np.stack(maps).astype(np.float32)
    return result[0] if single else result
