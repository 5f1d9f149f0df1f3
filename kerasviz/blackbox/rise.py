"""RISE (Petsiuk et al. 2018): the importance of a pixel is the mean probability of the class
over random masks that keep it."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..checks import check_fraction, check_int
from ..images import as_image_batch
from .baselines import resolve_baseline
from .compiled_masking import masked_rise_sums
from .masks import RiseMasks
from .predictors import as_predictor
from .queries import query_scores, top_classes

__all__ = ["rise"]


def rise(
    predictor: Any,
    images: Any,
    target: Any = None,
    *,
    masks: int = 4000,
    cell: int = 7,
    p: float = 0.5,
    seed: int = 0,
    baseline: Any = 0.0,
    batch_size: int = 64,
    progress: Optional[bool] = None,
) -> np.ndarray:
    """RISE saliency: `sum_i f(x * M_i + b * (1 - M_i)) M_i / (masks * p)` over random masks.

    The masks (random `cell x cell` binary grids, upsampled bilinearly and shifted, as in the
    authors' code) are made `batch_size` at a time; the same seed gives the same masks, so the
    same map in process and through a server. For an in-process model each batch is one compiled
    call that upsamples the grids, masks the image, runs the model and adds the
    probability-weighted masks (no full-size mask leaves the graph); any other predictor gets
    NumPy images, the next batch being made while the predictor answers.

    Args:
        predictor: A `Backbone` / `keras.Model` (softmax of its logits), a `PredictClient` /
            `RestPredictClient`, or a callable `images (N, H, W, 3) in [0, 255] -> (N, C)`
            probabilities.
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in [0, 255].
        target: Class index, one per image, or None (the predictor's top class).
        masks: Number of masks, >= 1.
        cell: Grid cells per side, >= 1.
        p: Probability that a cell is kept, in (0, 1].
        seed: Random seed.
        baseline: What hidden pixels become: a gray level, `(r, g, b)` or an image in [0, 255]
            (default 0, black, as in the paper).
        batch_size: Masked images per predictor call (a remote predictor may lower it).
        progress: Show a progress bar (None: global setting).

    Returns:
        float32 `(N, H, W)` (or `(H, W)`): the expected probability of the class given that the
        pixel is kept, not normalized (about the class probability where nothing matters).

    Raises:
        ImageError: invalid images or a size the predictor cannot take.
        TargetError: a bad target.
        ParameterError: bad masks, cell, p, seed, baseline or batch_size.
        PredictorError: the predictor failed or did not return probabilities.
    """
    count = check_int(masks, "masks", low=1)
    cell = check_int(cell, "cell", low=1)
    p = check_fraction(p, "p")
    if p == 0:
        from ..errors import ParameterError

        raise ParameterError(f"`p` must be in (0, 1]. Received: p={p!r}")
    seed = check_int(seed, "seed", low=0)
    check_int(batch_size, "batch_size", low=1)
    batch, single = as_image_batch(images)
    model = as_predictor(predictor)
    model.check_images(batch)
    fills = [resolve_baseline(baseline, image) for image in batch]
    classes = top_classes(model, batch, target)
    height, width = batch.shape[1:3]
    mask_set = RiseMasks(count, cell, p, (height, width), seed)
    maps = np.zeros((len(batch), height, width), np.float64)
    for index, (image, fill) in enumerate(zip(batch, fills)):
        if model.keras_model is not None:
            _, maps[index] = masked_rise_sums(
                model.keras_model, mask_set.factors, count, image, fill, int(classes[index]), batch_size,
                describe=model.describe, progress=progress,
            )
            continue
        made = {}

        def make_batch(part: slice, image: np.ndarray = image, fill: np.ndarray = fill, made: dict = made) -> np.ndarray:
            made[part.start] = mask_set[part]
            return fill + (image - fill) * made[part.start][..., None]

        def consume(part: slice, scores: np.ndarray, index: int = index, made: dict = made) -> None:
            maps[index] += np.tensordot(scores[:, 0], made.pop(part.start), axes=1)

        query_scores(model, make_batch, count, [classes[index]], batch_size, desc="RISE", progress=progress, consume=consume)
    maps /= count * p
    result = maps.astype(np.float32)
    return result[0] if single else result

