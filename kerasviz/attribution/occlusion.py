"""Occlusion sensitivity (Zeiler & Fergus): slide a gray patch, watch the target probability drop.

The occluded copies are built inside one compiled function from (image index, patch corner)
pairs, so a whole batch of copies costs one call; all positions of all images stream through
the model in batches of at most `batch_size`.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import keras
import numpy as np
import tensorflow as tf

from ..checks import check_int, check_size
from ..compiled import batch_slices, cached
from ..errors import ParameterError
from ..progress import progress_bar
from ..targets import TargetLike
from .core import reduce_to_scores
from .inputs import prepare_inputs, squeeze, target_indices

__all__ = ["occlusion"]


class OccludedScores:
    """Compiled target probability of occluded copies of images.

    Attributes:
        function: `tf.function (images (N, H, W, 3), image_ids (B,), corners (B, 2) int32,
            patch (2,) int32, fill (3,), indices (B,)) -> (B,)` probabilities (scores for a
            callable target); its tracing count shows whether calls retrace.
    """

    def __init__(self, model: keras.Model, score_fn: Optional[Callable]) -> None:
        """Compile the occlude-and-score function of a pixels -> logits model.

        Args:
            model: Keras model, pixels -> logits.
            score_fn: Callable target on logits (its score is used as is), or `None` for the
                softmax probability of `indices`.
        """
        height, width = model.inputs[0].shape[1:3]
        signature = [
            tf.TensorSpec((None, height, width, 3), tf.float32, name="images"),
            tf.TensorSpec((None,), tf.int32, name="image_ids"),
            tf.TensorSpec((None, 2), tf.int32, name="corners"),
            tf.TensorSpec((2,), tf.int32, name="patch"),
            tf.TensorSpec((3,), tf.float32, name="fill"),
            tf.TensorSpec((None,), tf.int32, name="indices"),
        ]

        def scores(images, image_ids, corners, patch, fill, indices):
            copies = tf.gather(images, image_ids)
            rows = tf.range(tf.shape(images)[1])[None, :]
            cols = tf.range(tf.shape(images)[2])[None, :]
            in_rows = (rows >= corners[:, :1]) & (rows < corners[:, :1] + patch[0])
            in_cols = (cols >= corners[:, 1:]) & (cols < corners[:, 1:] + patch[1])
            inside = tf.cast(in_rows[:, :, None] & in_cols[:, None, :], tf.float32)[..., None]
            occluded = copies * (1.0 - inside) + fill * inside
            logits = model(occluded, training=False)
            if score_fn is None:
                logits = tf.nn.softmax(logits, axis=-1)
            return reduce_to_scores(logits, indices, score_fn)

        self.function = tf.function(scores, input_signature=signature)


def _corners(size: int, patch: int, stride: int) -> np.ndarray:
    """Patch start positions along one axis; the last patch always touches the far edge."""
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    return np.asarray(starts, np.int32)


def _fill(fill: Any) -> np.ndarray:
    values = np.asarray(fill, np.float64) if not isinstance(fill, bool) else np.asarray([np.nan])
    if values.shape not in ((), (3,)) or not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 255:
        raise ParameterError(
            "`fill` must be a gray level or an (r, g, b) triple in [0, 255]. "
            f"Received: fill={fill!r}"
        )
    return np.broadcast_to(values, (3,)).astype(np.float32)


def occlusion(
    model: Any,
    images: Any,
    target: Optional[TargetLike] = None,
    *,
    patch: Any = 32,
    stride: Any = 16,
    fill: Any = 127.5,
    batch_size: int = 64,
    progress: Optional[bool] = None,
) -> np.ndarray:
    """Occlusion sensitivity: the drop in target probability when a patch is grayed out.

    Patches of size `patch` slide with `stride` (the last row / column of patches touches the
    image edge); every occluded copy of every image goes through the model, in batches of at
    most `batch_size`. Each pixel's value is the mean drop over the patches covering it.

    Args:
        model: A `Backbone` or a `keras.Model` taking pixels in `[0, 255]` (softmax removed).
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`, at the model's input size.
        target: Class index, one per image, or `None` (predicted class): the softmax
            probability of that class is used. A callable `scores(logits) -> (N,)` is used as
            is (the map is then the drop in its score).
        patch: Patch size, an int or `(height, width)`, at most the image size.
        stride: Step between patches, an int or `(height, width)`.
        fill: Gray level or `(r, g, b)` in `[0, 255]` painted over the patch (default mid-gray).
        batch_size: Largest batch of occluded copies per compiled call.
        progress: Show a progress bar (`None`: global setting).

    Returns:
        float32 `(N, H, W)` (or `(H, W)`): `p(original) - p(occluded)`, positive where hiding
        the pixels hurts the target, negative where it helps (not normalized).

    Raises:
        ImageError: Invalid images.
        TargetError: Invalid target.
        ModelError: Unusable model or image size.
        ParameterError: Bad `patch`, `stride`, `fill` or `batch_size`.
    """
    patch_hw = check_size(patch, "patch")
    stride_hw = check_size(stride, "stride")
    fill_rgb = _fill(fill)
    batch_size = check_int(batch_size, "batch_size", low=1)
    inputs = prepare_inputs(model, images, target, batch_size, technique="occlusion")
    batch, indices = inputs.images, target_indices(inputs)
    n, height, width, _ = batch.shape
    if patch_hw[0] > height or patch_hw[1] > width:
        raise ParameterError(
            f"`patch` {patch_hw} is larger than the images ({height}, {width}). "
            f"Received: patch={patch!r}"
        )
    model_scores = cached(
        inputs.backbone.model,
        "occlusion",
        lambda: OccludedScores(inputs.backbone.model, inputs.target.fn),
        inputs.target.fn,
    ).function
    ys, xs = _corners(height, patch_hw[0], stride_hw[0]), _corners(width, patch_hw[1], stride_hw[1])
    corners = np.stack(np.meshgrid(ys, xs, indexing="ij"), -1).reshape(-1, 2)
    # Pair -1 of each image: an empty patch (corner outside the image) gives the unoccluded score.
    corners = np.concatenate([np.full((1, 2), -max(patch_hw) - 1, np.int32), corners])
    image_of = np.repeat(np.arange(n, dtype=np.int32), len(corners))
    corner_of = np.tile(corners, (n, 1))
    images_t = tf.constant(batch)
    patch_t, fill_t = tf.constant(patch_hw, tf.int32), tf.constant(fill_rgb)
    scores = np.empty(len(image_of), np.float32)
    with progress_bar(total=len(image_of), desc="occlusion", progress=progress) as bar:
        for part in batch_slices(len(image_of), batch_size):
            scores[part] = model_scores(
                images_t,
                tf.constant(image_of[part]),
                tf.constant(corner_of[part]),
                patch_t,
                fill_t,
                tf.constant(indices[image_of[part]]),
            ).numpy()
            bar.update(part.stop - part.start)
    scores = scores.reshape(n, len(corners))
    drops = scores[:, :1] - scores[:, 1:]
    total = np.zeros((n, height, width), np.float64)
    count = np.zeros((height, width), np.float64)
    for k, (y, x) in enumerate(corners[1:]):
        total[:, y : y + patch_hw[0], x : x + patch_hw[1]] += drops[:, k, None, None]
        count[y : y + patch_hw[0], x : x + patch_hw[1]] += 1
    return squeeze((total / count).astype(np.float32), inputs.single)
