"""From a classifier's logits to named classes: probabilities, top classes, ImageNet names."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np

from ..checks import check_int
from ..errors import ParameterError

__all__ = ["imagenet_class_names", "softmax_probabilities", "top_classes"]


def imagenet_class_names() -> List[str]:
    """The 1000 ImageNet-1k class names, by index, shipped with kerasviz (no download).

    Returns:
        A list of 1000 short names, e.g. index 285 is `"Egyptian cat"`.
    """
    text = resources.files(__package__).joinpath("imagenet_classes.json").read_text()
    return json.loads(text)


def softmax_probabilities(logits: np.ndarray) -> np.ndarray:
    """Class probabilities from logits, computed stably in float64.

    Args:
        logits: `(N, C)` logits, any real values.

    Returns:
        `(N, C)` float32 probabilities in `[0, 1]`, rows summing to 1.
    """
    logits = np.asarray(logits).astype(np.float64)
    logits -= logits.max(axis=1, keepdims=True)
    probabilities = np.exp(logits)
    return (probabilities / probabilities.sum(axis=1, keepdims=True)).astype(np.float32)


def top_classes(
    scores: np.ndarray, num_classes: int, class_names: Optional[Sequence[str]], top: Any
) -> List[List[Tuple[int, str, float]]]:
    """The `top` best classes of each row of scores as `(index, name, score)`, best first.

    Args:
        scores: `(N, C)` class scores, e.g. probabilities in `[0, 1]`.
        num_classes: The number of classes C the scores must have.
        class_names: One name per class, or `None` to name classes by their index (`"285"`).
        top: How many classes per row, an integer in `1..C`.

    Returns:
        One list of `top` tuples per row.

    Raises:
        ParameterError: `scores` is not `(N, C)`, or `top` is out of range.
    """
    if scores.ndim != 2 or scores.shape[1] != num_classes:
        raise ParameterError(
            f"Expected scores of shape (N, {num_classes}). Received: shape {scores.shape}"
        )
    top = check_int(top, "top", low=1, high=num_classes)
    names = class_names or [str(i) for i in range(num_classes)]
    order = np.argsort(-scores, axis=1)[:, : int(top)]
    return [[(int(i), names[i], float(row[i])) for i in idx] for row, idx in zip(scores, order)]
