"""Perturbation, forward pass and reduction in one compiled call, for in-process models.

A black-box method given a `Backbone` / `keras.Model` does not need to build full-resolution
perturbed images in NumPy and hand them to the model: each batch is one `tf.function` call (cached
per model with `kerasviz.compiled.cached`, traced once per image size) that takes only the small
description of the perturbations and returns only what the method keeps.

- RISE: the coarse grids and the rows / columns of the upsampling matrices at each mask's shift go
  in; the masks are two batched matrix products on the graph; the class probabilities and the
  probability-weighted sum of the masks come out (the masks never leave the graph).
- LIME / Kernel SHAP: the 0 / 1 coalition rows go in; the images are a gather of the segment
  labels on the graph; the class probabilities come out.

XLA (`jit_compile=True`) is not used: measured on EfficientNet-Lite0 on CPU it compiled in
38-134 s and ran 12-25x slower than the plain graph (benchmarks/bench_blackbox.py's notes).
Streams of `kerasviz.litert_forward.AUTO_MIN_IMAGES` queries or more run on the model converted to
LiteRT instead (about 1.9x TensorFlow's forward pass on two CPU cores): the same masks and
images are then made in NumPy, batch by batch, and only the forward pass leaves Python.
"""

from __future__ import annotations

from typing import Callable, Iterator, Optional, Tuple

import keras
import numpy as np
import tensorflow as tf

from ..compiled import batch_slices, cached
from ..litert_forward import LiteRTForward, chunk_size, forward_engine, litert_forward
from ..progress import progress_bar
from .errors import PredictorError

__all__ = ["masked_rise_sums", "segment_scores"]


def _rise_function(model: keras.Model) -> Callable:
    signature = [
        tf.TensorSpec((None, None, None), tf.float32, name="grids"),
        tf.TensorSpec((None, None, None), tf.float32, name="row_factors"),
        tf.TensorSpec((None, None, None), tf.float32, name="column_factors"),
        tf.TensorSpec((None, None, 3), tf.float32, name="image"),
        tf.TensorSpec((None, None, 3), tf.float32, name="fill"),
        tf.TensorSpec((), tf.int32, name="target"),
    ]

    @tf.function(input_signature=signature)
    def rise_step(grids, row_factors, column_factors, image, fill, target):
        masks = tf.matmul(tf.matmul(row_factors, grids), column_factors, transpose_b=True)
        images = fill + (image - fill) * masks[..., None]
        probabilities = tf.nn.softmax(tf.cast(model(images, training=False), tf.float32), axis=-1)
        scores = tf.gather(probabilities, target, axis=1)
        return scores, tf.tensordot(scores, masks, axes=1)

    return rise_step


def _segment_function(model: keras.Model) -> Callable:
    signature = [
        tf.TensorSpec((None, None), tf.bool, name="rows"),
        tf.TensorSpec((None, None), tf.int32, name="segments"),
        tf.TensorSpec((None, None, 3), tf.float32, name="image"),
        tf.TensorSpec((None, None, 3), tf.float32, name="fill"),
        tf.TensorSpec((), tf.int32, name="target"),
    ]

    @tf.function(input_signature=signature)
    def segment_step(rows, segments, image, fill, target):
        keep = tf.gather(rows, segments, axis=1)[..., None]
        images = tf.where(keep, image, fill)
        probabilities = tf.nn.softmax(tf.cast(model(images, training=False), tf.float32), axis=-1)
        return tf.gather(probabilities, target, axis=1)

    return segment_step


def _litert(model: keras.Model, total: int) -> Optional[LiteRTForward]:
    return litert_forward(model) if forward_engine(total) == "litert" else None


def _probabilities(forward: LiteRTForward, images: np.ndarray, target: int) -> np.ndarray:
    logits = forward(images).astype(np.float64)
    logits -= logits.max(axis=1, keepdims=True)
    return np.exp(logits[:, target]) / np.exp(logits).sum(axis=1)


def _checked(scores: np.ndarray, done: int, total: int, describe: str) -> np.ndarray:
    if not np.all(np.isfinite(scores)):
        raise PredictorError(
            f"{describe} returned NaN or infinite scores. Received: {int((~np.isfinite(scores)).sum())} non-finite "
            f"values (the predictor failed after {done} of {total} queries; nothing was explained)",
            done,
            total,
        )
    return scores


def _batches(total: int, batch_size: int, desc: str, progress: Optional[bool]) -> Iterator[slice]:
    with progress_bar(total=total, desc=desc, progress=progress, unit="query") as bar:
        for part in batch_slices(total, batch_size):
            yield part
            bar.update(part.stop - part.start)


def masked_rise_sums(
    model: keras.Model,
    factors: Callable[[slice], Tuple[np.ndarray, np.ndarray, np.ndarray]],
    total: int,
    image: np.ndarray,
    fill: np.ndarray,
    target: int,
    batch_size: int,
    *,
    describe: str,
    progress: Optional[bool] = None,
) -> Tuple[np.ndarray, np.ndarray]:
    """RISE's class probabilities and probability-weighted mask sum, one compiled call per batch.

    Args:
        model: Keras model taking float32 pixels `(B, H, W, 3)` in [0, 255], returning logits.
        factors: `factors(slice) -> (grids (B, c, c), rows (B, H, c), columns (B, W, c))` float32;
            mask `i` is `rows[i] @ grids[i] @ columns[i].T` (see `RiseMasks.factors`).
        total: Number of masks.
        image: float32 `(H, W, 3)`.
        fill: float32 `(H, W, 3)` shown where a mask is 0.
        target: Class explained.
        batch_size: Masks per compiled call.
        describe: The predictor's description, for messages.
        progress: Show a progress bar (None: global setting).

    Returns:
        `(scores float64 (total,), weighted_sum float64 (H, W))`: `sum_i scores[i] * mask_i`.

    Raises:
        PredictorError: the model produced NaN / inf (the target must already be checked
            against the model's classes, as `top_classes` does).
    """
    scores = np.empty(total, np.float64)
    weighted = np.zeros(image.shape[:2], np.float64)
    forward = _litert(model, total)
    if forward is not None:
        for part in _batches(total, chunk_size("litert", batch_size, image.shape), "RISE", progress):
            grids, rows, columns = factors(part)
            masks = rows @ grids @ columns.transpose(0, 2, 1)
            batch_scores = _probabilities(forward, fill + (image - fill) * masks[..., None], target)
            scores[part] = _checked(batch_scores, part.start, total, describe)
            weighted += np.tensordot(batch_scores, masks, axes=1)
        return scores, weighted
    step = cached(model, ("blackbox", "rise_step"), lambda: _rise_function(model))
    image_t, fill_t, target_t = tf.constant(image, tf.float32), tf.constant(fill, tf.float32), tf.constant(target, tf.int32)
    for part in _batches(total, batch_size, "RISE", progress):
        grids, rows, columns = factors(part)
        batch_scores, batch_sum = step(tf.constant(grids), tf.constant(rows), tf.constant(columns), image_t, fill_t, target_t)
        scores[part] = _checked(batch_scores.numpy(), part.start, total, describe)
        weighted += batch_sum.numpy()
    return scores, weighted


def segment_scores(
    model: keras.Model,
    rows: np.ndarray,
    segments: np.ndarray,
    image: np.ndarray,
    fill: np.ndarray,
    target: int,
    batch_size: int,
    *,
    desc: str,
    describe: str,
    progress: Optional[bool] = None,
) -> np.ndarray:
    """The class probability of the image with each row's hidden segments showing `fill`.

    Args:
        model: Keras model taking float32 pixels `(B, H, W, 3)` in [0, 255], returning logits.
        rows: `(S, M)` 0 / 1, 1 = segment kept.
        segments: int `(H, W)` labels 0..M-1.
        image: float32 `(H, W, 3)`.
        fill: float32 `(H, W, 3)`.
        target: Class explained.
        batch_size: Rows per compiled call.
        desc: Progress label.
        describe: The predictor's description, for messages.
        progress: Show a progress bar (None: global setting).

    Returns:
        float64 `(S,)`.

    Raises:
        PredictorError: the model produced NaN / inf (the target must already be checked
            against the model's classes, as `top_classes` does).
    """
    keep = np.asarray(rows).astype(bool)
    out = np.empty(len(keep), np.float64)
    forward = _litert(model, len(keep))
    if forward is not None:
        for part in _batches(len(keep), chunk_size("litert", batch_size, image.shape), desc,
                             progress):
            images = np.where(keep[part][:, segments][..., None], image, fill)
            out[part] = _checked(_probabilities(forward, images, target), part.start, len(keep), describe)
        return out
    step = cached(model, ("blackbox", "segment_step"), lambda: _segment_function(model))
    consts = (tf.constant(segments, tf.int32), tf.constant(image, tf.float32), tf.constant(fill, tf.float32), tf.constant(target, tf.int32))
    for part in _batches(len(keep), batch_size, desc, progress):
        out[part] = _checked(step(tf.constant(keep[part]), *consts).numpy(), part.start, len(keep), describe)
    return out
