"""Faithfulness metrics: deletion / insertion curves (Petsiuk et al., RISE) and the pointing game.

`deletion_insertion` removes pixels from an image in the order a map ranks them (most important
first) and watches the target score fall; it also inserts them into a baseline and watches the
score rise. Every perturbed copy of every image, for both curves, is one stream of images scored
in batches through the model's one cached compiled forward pass (`compiled.forward_logits`), so
no call retraces. `pointing_game` checks whether a map's peak lands on the object.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import tensorflow as tf
from scipy import ndimage

from ..backbones import as_backbone
from ..checks import check_choice, check_int, check_number
from ..compiled import batch_slices, forward_logits
from ..errors import ImageError, ParameterError
from ..images import as_image_batch, resize_map
from ..targets import Target, TargetLike, resolve_target

__all__ = [
    "DeletionInsertion",
    "PointingGame",
    "attribution_maps",
    "deletion_insertion",
    "pointing_game",
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


class PointingGame(NamedTuple):
    """Pointing-game outcome for a batch of maps.

    Attributes:
        hits: `(N,)` bool: the map's maximum lies on the object (within `tolerance` pixels).
        accuracy: Fraction of hits.
        peaks: `(N, 2)` int `(row, column)` of each map's maximum.
        energy: `(N,)` fraction of each map's (non-negative) mass on the object (energy-based
            pointing game, Wang et al. 2020); NaN for an all-zero map.
    """

    hits: np.ndarray
    accuracy: float
    peaks: np.ndarray
    energy: np.ndarray


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


def _blocks(maps: np.ndarray, patch: int) -> Tuple[np.ndarray, np.ndarray]:
    """Mean map value per `patch x patch` block `(N, blocks)` (edge blocks may be smaller), and
    the block index of every pixel `(H, W)`."""
    n, height, width = maps.shape
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
    maps: Union[np.ndarray, Callable[..., Any], Any],
    target: Optional[TargetLike] = None,
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
    heat = _fit_maps(attribution_maps(maps), batch)
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
    for part in batch_slices(len(curve), batch_size):
        who, k, deleting = image[part], step[part], curve[part] == 0
        chosen = (ranks[who] < counts[k][:, None, None])[..., None]
        first = np.where(deleting[:, None, None, None], removed[who], batch[who])
        second = np.where(deleting[:, None, None, None], batch[who], inserted[who])
        copies = np.where(chosen, first, second)
        logits = forward_logits(backbone.model, copies, batch_size)
        values[part] = _scores(logits, resolved, indices[who], score)
    values = values.reshape(2, n, steps + 1)
    fractions = counts / float(block_maps.shape[1])
    result = DeletionInsertion(
        fractions, values[0], values[1], _area(values[0], fractions), _area(values[1], fractions)
    )
    if single:
        return DeletionInsertion(fractions, *(field[0] for field in result[1:]))
    return result


def _fit_maps(maps: np.ndarray, batch: np.ndarray) -> np.ndarray:
    """Maps `(N, H, W)` matching the images (one map for one image; resized if needed)."""
    maps = maps[None] if maps.ndim == 2 else maps
    if len(maps) != len(batch):
        raise ImageError(
            f"Give one map per image ({len(batch)} images). Received: {len(maps)} maps"
        )
    if maps.shape[1:] != batch.shape[1:3]:
        maps = resize_map(maps, batch.shape[1:3])
    return maps


def _object_masks(masks_or_boxes: Any, n: int, shape: Tuple[int, int]) -> np.ndarray:
    """Bool masks `(N, H, W)` from masks `(H, W)` / `(N, H, W)` or boxes `(4,)`, `(N, 4)` or a
    list of `(K_i, 4)` box arrays `(top, left, bottom, right)` (pixels, bottom / right
    exclusive)."""
    if isinstance(masks_or_boxes, (list, tuple)) and len(masks_or_boxes) == n and all(
        np.ndim(b) == 2 and np.shape(b)[-1] == 4 for b in masks_or_boxes
    ):
        per_image: Sequence[Any] = masks_or_boxes
    else:
        array = np.asarray(masks_or_boxes)
        if array.ndim in (2, 3) and array.shape[-2:] == shape:
            masks = np.broadcast_to(array.astype(bool), (n, *shape)) if array.ndim == 2 else array
            if len(masks) != n:
                raise ParameterError(
                    f"Give one mask per map ({n} maps). Received: masks_or_boxes with shape "
                    f"{array.shape}"
                )
            return masks.astype(bool)
        if array.shape == (4,):
            array = np.broadcast_to(array, (n, 4))
        if array.shape != (n, 4):
            raise ParameterError(
                f"`masks_or_boxes` must be masks shaped like the maps {shape} (one, or one per "
                "map), boxes (top, left, bottom, right) of shape (4,) or (N, 4), or a list of "
                f"(K, 4) boxes per map. Received: masks_or_boxes with shape {array.shape}"
            )
        per_image = [row[None] for row in array]
    masks = np.zeros((n, *shape), bool)
    for i, boxes in enumerate(per_image):
        for top, left, bottom, right in np.asarray(boxes, np.float64).round().astype(int):
            masks[i, max(top, 0) : max(bottom, 0), max(left, 0) : max(right, 0)] = True
    return masks


def pointing_game(maps: Any, masks_or_boxes: Any, *, tolerance: int = 15) -> PointingGame:
    """Pointing game (Zhang et al. 2016): is each map's maximum on the object?

    A hit is a maximum within `tolerance` pixels of the object (the paper's 15 px). The
    energy-based variant (share of the map's mass on the object) is returned too.

    Args:
        maps: `(N, H, W)` or `(H, W)` maps (negative values count as zero for the energy),
            per-colour attributions (summed over colours), or an `IntegratedGradients` result.
        masks_or_boxes: Object masks `(H, W)` / `(N, H, W)` (bool or 0/1), boxes
            `(top, left, bottom, right)` in pixels (bottom / right exclusive) of shape `(4,)`
            or `(N, 4)`, or a list with one `(K, 4)` array of boxes per map (several objects).
        tolerance: Pixels of slack around the object, `>= 0`.

    Returns:
        `PointingGame(hits, accuracy, peaks, energy)`.

    Raises:
        ImageError: Unusable maps.
        ParameterError: Masks / boxes that do not fit the maps, an empty object, or a bad
            `tolerance`.
    """
    tolerance = check_int(tolerance, "tolerance", low=0)
    heat = attribution_maps(maps)
    heat = heat[None] if heat.ndim == 2 else heat
    n, height, width = heat.shape
    objects = _object_masks(masks_or_boxes, n, (height, width))
    empty = ~objects.reshape(n, -1).any(axis=1)
    if empty.any():
        raise ParameterError(
            "Every map needs an object to point at; an empty mask or box was given. Received: "
            f"empty object for map {int(np.argmax(empty))}"
        )
    flat = heat.reshape(n, -1).argmax(axis=1)
    peaks = np.stack(np.unravel_index(flat, (height, width)), axis=1)
    hits = np.empty(n, bool)
    for i, (row, col) in enumerate(peaks):
        if tolerance == 0:
            hits[i] = objects[i, row, col]
        else:
            distance = ndimage.distance_transform_edt(~objects[i])
            hits[i] = distance[row, col] <= tolerance
    positive = np.maximum(heat, 0.0).reshape(n, -1).astype(np.float64)
    total = positive.sum(axis=1)
    inside = (positive * objects.reshape(n, -1)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        energy = np.where(total > 0, inside / np.where(total > 0, total, 1.0), np.nan)
    return PointingGame(hits, float(hits.mean()), peaks.astype(np.int64), energy)
