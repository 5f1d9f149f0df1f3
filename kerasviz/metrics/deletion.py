"""Faithfulness metrics: deletion / insertion curves (Petsiuk et al., RISE) and the pointing game.

`deletion_insertion` removes pixels from an image in the order a map ranks them (most important
first) and watches the target score fall; it also inserts them into a baseline and watches the
score rise. Every perturbed copy of every image, for both curves, is one stream of images scored
in batches through the model's one cached compiled forward pass (`compiled.forward_logits`), so
no call retraces. (`kerasviz.pointing_game`, in `attribution/pointing_game.py`, checks whether a
map's peak lands on the object.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import tensorflow as tf
from scipy import ndimage

from ..backbones import as_backbone
from ..checks import check_choice, check_int, check_number
from ..compiled import batch_slices, forward_logits
from ..errors import ImageError
from ..images import as_image_batch, resize_map
from ..litert_forward import chunk_size, forward_engine
from ..targets import Target, TargetLike, resolve_target

__all__ = [
    "DeletionInsertion",
    "attribution_maps",
    "deletion_insertion",
    "fit_maps",
]

_SCORES = ("probability", "logit")


class DeletionInsertion(NamedTuple):
    """Deletion and insertion curves of a batch of maps.

    Attributes:
        fractions: `(steps + 1,)` fraction of pixels (regions) removed / inserted, 0 to 1.
        deletion: `(N, steps + 1)` target score as the most important pixels are removed.
        insertion: `(N, steps + 1)` target score as they are inserted into the baseline.
        deletion_auc: `(N,)` area under the deletion curve (lower is better).
        insertion_auc: `(N,)` area under the insertion curve (higher is better).
    """

    fractions: np.ndarray
    deletion: np.ndarray
    insertion: np.ndarray
    deletion_auc: np.ndarray
    insertion_auc: np.ndarray


def attribution_maps(result: Any) -> np.ndarray:
    """Any attribution function's output as float32 maps `(N, H, W)` or `(H, W)`.

    Args:
        result: A heatmap `(H, W)` / `(N, H, W)`; per-colour attributions `(N, H, W, 3)` or
            `(H, W, 3)` (summed over colours, sign kept); or an object with an `attributions`
            field (e.g. `IntegratedGradients`).

    Returns:
        float32 maps, finite.

    Raises:
        ImageError: Not a numeric array of a usable rank, or NaN / inf values.
    """
    array = np.asarray(getattr(result, "attributions", result))
    if array.dtype.kind not in "biuf" or array.ndim not in (2, 3, 4) or 0 in array.shape:
        raise ImageError(
            "Expected attribution maps (H, W), (N, H, W) or per-colour attributions "
            f"(N, H, W, 3). Received: an array with shape {array.shape} and dtype {array.dtype}"
        )
    if array.ndim == 4 or (array.ndim == 3 and array.shape[-1] == 3):
        array = array.sum(axis=-1)
    array = array.astype(np.float32)
    if not np.all(np.isfinite(array)):
        raise ImageError("The attribution maps hold NaN or inf values. Received: non-finite maps")
    return array


def _scores(logits: np.ndarray, target: Target, indices: np.ndarray, kind: str) -> np.ndarray:
    """One score per row: the target's logit or softmax probability (or its callable's value)."""
    values = logits.astype(np.float64)
    if kind == "probability":
        values = np.exp(values - values.max(axis=1, keepdims=True))
        values /= values.sum(axis=1, keepdims=True)
    if target.fn is not None:
        return np.asarray(target.scores(tf.constant(values, tf.float32))).astype(np.float64)
    return values[np.arange(len(values)), indices]


def _baseline(value: Any, batch: np.ndarray, name: str, sigma: float) -> np.ndarray:
    """Baseline images `(N, H, W, 3)`: `"blur"`, a gray level, or one image / one per image."""
    if isinstance(value, str):
        check_choice(value, name, ("blur",))
        return ndimage.gaussian_filter(batch, sigma=(0, sigma, sigma, 0), mode="nearest")
    if np.ndim(value) == 0:
        level = check_number(value, name, low=0.0, high=255.0)
        return np.full_like(batch, level)
    images, single = as_image_batch(value, name=name)
    if images.shape[1:] != batch.shape[1:] or not (single or len(images) == len(batch)):
        raise ImageError(
            f"`{name}` must be one image or one per image, shaped like the images "
            f"{batch.shape[1:]}. Received: {name} with shape {np.shape(value)}"
        )
    return np.broadcast_to(images, batch.shape).astype(np.float32)


def _ranks(maps: np.ndarray, seed: int) -> np.ndarray:
    """`(N, H*W)` rank of every pixel, 0 = most important; ties broken at random (seeded)."""
    rng = np.random.default_rng(seed)
    flat = maps.reshape(len(maps), -1)
    ranks = np.empty(flat.shape, np.int64)
    for i, row in enumerate(flat):
        shuffle = rng.permutation(row.size)
        order = shuffle[np.argsort(-row[shuffle], kind="stable")]
        ranks[i, order] = np.arange(row.size)
    return ranks


def _blocks(maps: np.ndarray, patch: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean map value per `patch x patch` block `(N, blocks)` (edge blocks may be smaller), and
    the block index of every pixel `(H, W)`."""
    _, height, width = maps.shape
    rows, cols = np.arange(height) // patch, np.arange(width) // patch
    block_of = rows[:, None] * (cols[-1] + 1) + cols[None, :]
    n_blocks = int(block_of.max()) + 1
    sizes = np.bincount(block_of.ravel(), minlength=n_blocks)
    sums = np.stack([np.bincount(block_of.ravel(), m.ravel(), n_blocks) for m in maps])
    return sums / sizes, block_of


def _area(curves: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """Trapezoid-rule area under each curve over `fractions` in [0, 1]."""
    return np.trapezoid(curves, fractions, axis=1)


def deletion_insertion(
    model: Any,
    images: Any,
    maps: np.ndarray | Callable[..., Any] | Any,
    target: TargetLike | None = None,
    *,
    steps: int = 32,
    patch: int = 1,
    score: str = "probability",
    deletion_baseline: Any = 0.0,
    insertion_baseline: Any = "blur",
    blur_sigma: float = 5.0,
    seed: int = 0,
    batch_size: int = 64,
) -> DeletionInsertion:
    """Deletion and insertion curves and their areas (Petsiuk et al. 2018), scored in batches.

    Pixels (or `patch`-sized regions) are ranked by the map (largest first; ties in random,
    seeded order). At step `k` of `steps`, the top `round(k / steps * H * W)` pixels (regions)
    are replaced by the deletion baseline
    (deletion) or copied into the insertion baseline (insertion), and the model scores the
    copy. A faithful map makes the deletion score fall fast (small area) and the insertion score
    rise fast (large area). All `2 * N * (steps + 1)` copies go through the model's cached
    compiled forward pass in batches of `batch_size` (one trace per model, whatever the call).

    Args:
        model: A `Backbone` or a `keras.Model` taking pixels in `[0, 255]`.
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`, at the model's input size.
        maps: Maps `(N, H, W)` / `(H, W)` (any range; resized bilinearly if their size
            differs), per-colour attributions `(N, H, W, 3)` (summed over colours), an
            `IntegratedGradients` result, or an attribution function `fn(model, images,
            target)` whose output is any of these.
        target: Class index, one per image, callable `scores(x) -> (N,)` (given probabilities or
            logits, per `score`), or `None` for each image's predicted class.
        steps: Points per curve after the first, `>= 1`.
        patch: Rank and remove square regions of `patch x patch` pixels (their mean map value)
            instead of single pixels (region perturbation, Samek et al. 2017). Scattered
            single black pixels are far outside the training data and destroy any prediction,
            so a pixel-level random order deletes fast; regions of 8-16 px compare maps of
            different smoothness fairly. `1` (default) is the pixel-level RISE metric.
        score: `"probability"` (softmax of the target class, as in RISE) or `"logit"`.
        deletion_baseline: What removed pixels become: a gray level in `[0, 255]` (default 0,
            black), `"blur"`, or an image / one per image.
        insertion_baseline: Where pixels are inserted: `"blur"` (default, a Gaussian blur of
            the image with `blur_sigma`), a gray level, or an image / one per image.
        blur_sigma: Standard deviation in pixels of the blur baselines, `> 0`.
        seed: Seed of the random tie-breaking (equal map values).
        batch_size: Largest batch of perturbed copies per compiled call, `>= 1`.

    Returns:
        `DeletionInsertion(fractions, deletion, insertion, deletion_auc, insertion_auc)`; for a
        single image the curves are `(steps + 1,)` and the areas scalars.

    Raises:
        ImageError: Invalid images, maps or baseline images.
        TargetError: Invalid target.
        ModelError: Unusable model or image size.
        ParameterError: Bad `steps`, `score`, baselines, `blur_sigma`, `seed` or `batch_size`.
    """
    steps = check_int(steps, "steps", low=1)
    patch = check_int(patch, "patch", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    seed = check_int(seed, "seed", low=0)
    check_choice(score, "score", _SCORES)
    blur_sigma = check_number(blur_sigma, "blur_sigma", low=0.0, open_low=True)
    backbone = as_backbone(model)
    batch, single = as_image_batch(images)
    backbone.check_size(batch.shape[1:3])
    batch = np.ascontiguousarray(batch, np.float32)
    resolved = resolve_target(target, len(batch), backbone.num_classes, allow_none=True)
    if resolved is None:
        predicted = forward_logits(backbone.model, batch, batch_size).argmax(axis=1)
        resolved = Target(indices=predicted.astype(np.int32), fn=None)
    if callable(maps):
        maps = maps(backbone, batch, resolved.fn or resolved.indices)
    heat = fit_maps(attribution_maps(maps), batch)
    removed = _baseline(deletion_baseline, batch, "deletion_baseline", blur_sigma)
    inserted = _baseline(insertion_baseline, batch, "insertion_baseline", blur_sigma)

    n, height, width = heat.shape
    block_maps, block_of = _blocks(heat, patch)
    counts = np.round(np.linspace(0.0, 1.0, steps + 1) * block_maps.shape[1]).astype(np.int64)
    ranks = np.take_along_axis(_ranks(block_maps, seed), block_of.reshape(1, -1).repeat(n, 0), 1)
    ranks = ranks.reshape(n, height, width)
    # One stream of (curve, image, step) items: curve 0 deletes, curve 1 inserts.
    curve, image, step = (a.ravel() for a in np.meshgrid(
        np.arange(2), np.arange(n), np.arange(steps + 1), indexing="ij"
    ))
    indices = np.zeros(n, np.int64) if resolved.indices is None else resolved.indices
    values = np.empty(len(curve), np.float64)
    engine = forward_engine(len(curve))
    for part in batch_slices(len(curve), chunk_size(engine, batch_size, batch.shape[1:])):
        who, k, deleting = image[part], step[part], curve[part] == 0
        chosen = (ranks[who] < counts[k][:, None, None])[..., None]
        first = np.where(deleting[:, None, None, None], removed[who], batch[who])
        second = np.where(deleting[:, None, None, None], batch[who], inserted[who])
        copies = np.where(chosen, first, second)
        logits = forward_logits(backbone.model, copies, batch_size, engine=engine)
        values[part] = _scores(logits, resolved, indices[who], score)
    values = values.reshape(2, n, steps + 1)
    fractions = counts / float(block_maps.shape[1])
    result = DeletionInsertion(
        fractions, values[0], values[1], _area(values[0], fractions), _area(values[1], fractions)
    )
    if single:
        return DeletionInsertion(fractions, *(field[0] for field in result[1:]))
    return result


def fit_maps(maps: np.ndarray, batch: np.ndarray) -> np.ndarray:
    """Maps `(N, H, W)` matching the images (one map for one image; resized if needed).

    Args:
        maps: `(H, W)` or `(N, h, w)` maps.
        batch: `(N, H, W, 3)` images.

    Returns:
        `(N, H, W)` maps.

    Raises:
        ImageError: Not one map per image.
    """
    maps = maps[None] if maps.ndim == 2 else maps
    if len(maps) != len(batch):
        raise ImageError(
            f"Give one map per image ({len(batch)} images). Received: {len(maps)} maps"
        )
    if maps.shape[1:] != batch.shape[1:3]:
        maps = resize_map(maps, batch.shape[1:3])
    return maps
