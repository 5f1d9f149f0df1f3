"""Targets: which score a technique explains or maximizes, computed on logits.

A target is a class index (the same for every image), a sequence of class indices (one per
image), or a callable `scores(logits) -> (N,)` returning one scalar per image. `resolve_target`
validates it once at the public boundary; `target_scores` turns it into scores inside compiled
code, with class indices passed as a tensor so one traced function serves every class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np
import tensorflow as tf

from .errors import TargetError

__all__ = ["Target", "TargetLike", "resolve_target", "target_scores"]

TargetLike = Union[int, np.integer, Sequence[int], np.ndarray, Callable[[Any], Any]]


@dataclass(frozen=True)
class Target:
    """A validated target: class indices `(N,)` int32, or a score function.

    Attributes:
        indices: One class index per image, or `None` for a callable target.
        fn: `fn(logits) -> (N,)` scores, or `None` for class indices.
    """

    indices: Optional[np.ndarray]
    fn: Optional[Callable[[Any], Any]]

    def scores(self, logits: tf.Tensor, indices: Optional[tf.Tensor] = None) -> tf.Tensor:
        """One score per image from logits `(N, C)`; `indices` overrides `self.indices` in graphs."""
        if self.fn is not None:
            return _as_scores(self.fn(logits))
        return target_scores(logits, self.indices if indices is None else indices)


def _as_scores(scores: Any) -> tf.Tensor:
    scores = tf.convert_to_tensor(scores)
    if scores.shape.rank == 2 and scores.shape[-1] == 1:
        scores = scores[:, 0]
    if scores.shape.rank != 1:
        raise TargetError(
            "A callable target must return one scalar per image, shape (N,). Received: scores "
            f"with shape {tuple(scores.shape)}"
        )
    return scores


def target_scores(logits: tf.Tensor, indices: Any) -> tf.Tensor:
    """Pick `logits[i, indices[i]]` for every image (graph-safe).

    Args:
        logits: `(N, C)` pre-softmax scores.
        indices: `(N,)` int class indices.

    Returns:
        `(N,)` scores.
    """
    indices = tf.cast(indices, tf.int32)
    return tf.gather(logits, indices, axis=1, batch_dims=1)


def resolve_target(
    target: TargetLike, n_images: int, n_classes: Optional[int], *, allow_none: bool = False
) -> Optional[Target]:
    """Validate a target against a batch and a model, once, outside compiled code.

    Args:
        target: Class index, sequence of `n_images` class indices, or callable
            `scores(logits) -> (N,)`; `None` only where `allow_none` (e.g. "the predicted class"
            is chosen by the caller).
        n_images: Batch size N the target must fit.
        n_classes: Number of model outputs C (`None` skips the range check).
        allow_none: Return `None` for a `None` target instead of raising.

    Returns:
        A `Target`, or `None` for an allowed `None`.

    Raises:
        TargetError: Wrong type, wrong length, non-integer or out-of-range class index.
    """
    if target is None:
        if allow_none:
            return None
        raise TargetError(
            "A target is required: a class index, one index per image, or a callable "
            "scores(logits) -> (N,). Received: target=None"
        )
    if callable(target):
        return Target(indices=None, fn=target)
    if isinstance(target, (bool, np.bool_)):
        raise TargetError(f"A class index must be an integer. Received: target={target!r}")
    values = np.asarray(target)
    if values.dtype.kind not in "iu" and not (
        values.dtype.kind == "f" and np.all(np.isfinite(values)) and np.all(values == np.round(values))
    ):
        raise TargetError(
            "A target must be an integer class index, a sequence of them, or a callable. "
            f"Received: target={target!r}"
        )
    values = values.astype(np.int64)
    if values.ndim == 0:
        values = np.full((n_images,), int(values))
    elif values.ndim != 1 or len(values) != n_images:
        raise TargetError(
            f"Give one class index per image ({n_images} images), or a single index for all. "
            f"Received: target with shape {values.shape}"
        )
    if n_classes is not None and (values.min() < 0 or values.max() >= n_classes):
        bad = int(values[(values < 0) | (values >= n_classes)][0])
        raise TargetError(
            f"Class index {bad} is out of range: the model has {n_classes} classes "
            f"(0..{n_classes - 1}). Received: target={target!r}"
        )
    return Target(indices=values.astype(np.int32), fn=None)
