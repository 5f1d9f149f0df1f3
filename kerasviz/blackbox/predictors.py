"""Predictors: anything that maps pixels `(N, H, W, 3)` in [0, 255] to class probabilities `(N, C)`.

`as_predictor` accepts a `Backbone` / `keras.Model` (its logits go through one cached compiled
forward, `kerasviz.compiled.forward_logits`, then a softmax), a serving client of this package
(`PredictClient`, `RestPredictClient`), or any callable. Every answer is checked: the right
shape, finite, non-negative, and each row summing to 1 (within `SUM_TOLERANCE`). Scores that are
not probabilities are refused, never renormalized: an explanation of silently rescaled numbers
would explain something the model did not say.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Tuple

import keras
import numpy as np

from ..backbones import Backbone, as_backbone
from ..compiled import forward_logits
from ..errors import ImageError, KerasvizError, ModelError
from .errors import PredictorError

__all__ = ["Predictor", "SUM_TOLERANCE", "as_predictor", "check_probabilities"]

#: Largest |row sum - 1| accepted from a predictor.
SUM_TOLERANCE = 1e-3


def check_probabilities(scores: Any, count: int, num_classes: Optional[int], source: str) -> np.ndarray:
    """Validate one predictor answer as `(count, C)` probabilities.

    Args:
        scores: What the predictor returned.
        count: Number of images it was given.
        num_classes: Expected C, or None when not known yet.
        source: The predictor's description, for the message.

    Returns:
        float64 `(count, C)`.

    Raises:
        PredictorError: wrong type or shape, NaN / inf, negative values or rows not summing to 1.
    """
    try:
        array = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        raise PredictorError(
            f"{source} must return an array of probabilities (N, classes). Received: an object of type "
            f"{type(scores).__name__}"
        ) from None
    expected = f"({count}, {num_classes if num_classes else 'classes'})"
    if array.ndim != 2 or array.shape[0] != count or (num_classes and array.shape[1] != num_classes):
        raise PredictorError(
            f"{source} must return probabilities of shape {expected} for {count} images. "
            f"Received: shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise PredictorError(f"{source} returned NaN or infinite scores. Received: {int((~np.isfinite(array)).sum())} non-finite values")
    if array.min() < -1e-6:
        raise PredictorError(
            f"{source} returned negative scores; black-box methods explain probabilities "
            f"(apply a softmax to logits). Received: minimum {array.min():.4g}"
        )
    sums = array.sum(axis=1)
    worst = float(np.abs(sums - 1.0).max())
    if worst > SUM_TOLERANCE:
        raise PredictorError(
            f"{source} returned scores whose rows do not sum to 1 (they are not renormalized: "
            f"return softmax probabilities). Received: row sums from {sums.min():.4g} to {sums.max():.4g}"
        )
    return np.maximum(array, 0.0)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


class Predictor:
    """A checked pixels -> probabilities function with what is known about its inputs.

    Attributes:
        describe: A short description for messages, e.g. `"Backbone 'efficientnet_lite0'"`.
        input_size: `(height, width)` the model needs, or None when any size (or unknown).
        num_classes: Number of classes, or None until the first answer.
        max_batch: Most images per call (a remote model's message limit), or None.
        keras_model: The in-process Keras model (logits out) behind a `Backbone` / `keras.Model`
            predictor, or None: the methods then perturb, forward and reduce in one compiled
            call per batch (`compiled_masking`) instead of calling `function` on NumPy images.
        remote: Whether `function` waits on another process (a serving client): the next batch
            is then built while it answers.
    """

    def __init__(
        self,
        function: Callable[[np.ndarray], Any],
        describe: str,
        input_size: Optional[Tuple[int, int]] = None,
        num_classes: Optional[int] = None,
        max_batch: Optional[int] = None,
        keras_model: Optional[keras.Model] = None,
        remote: bool = False,
    ) -> None:
        self.function = function
        self.describe = describe
        self.input_size = input_size
        self.num_classes = num_classes
        self.max_batch = max_batch
        self.keras_model = keras_model
        self.remote = remote

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Probabilities of a batch.

        Args:
            images: float32 `(B, H, W, 3)` pixels in [0, 255].

        Returns:
            float64 `(B, C)` probabilities.

        Raises:
            PredictorError: the answer is not probabilities.
            KerasvizError: whatever the predictor raised on purpose (e.g. `ServingError`).
        """
        probabilities = check_probabilities(self.function(images), len(images), self.num_classes, self.describe)
        self.num_classes = probabilities.shape[1]
        return probabilities

    def check_images(self, batch: np.ndarray) -> None:
        """Refuse images of a size the model cannot take.

        Args:
            batch: `(N, H, W, 3)`.

        Raises:
            ImageError: the size differs from `input_size`.
        """
        if self.input_size is not None and tuple(batch.shape[1:3]) != tuple(self.input_size):
            raise ImageError(
                f"{self.describe} takes {self.input_size[0]} x {self.input_size[1]} images; resize them "
                f"first (kerasviz.resize_image). Received: images of size {batch.shape[1]} x {batch.shape[2]}"
            )


def as_predictor(model: Any) -> Predictor:
    """A `Predictor` for a Backbone, a Keras model, a serving client or a callable.

    Args:
        model: `Backbone` / `keras.Model` taking pixels in [0, 255] (softmax of its logits is
            explained), a `PredictClient` / `RestPredictClient`, a `Predictor`, or any callable
            `f(images (N, H, W, 3) float32 in [0, 255]) -> (N, classes)` probabilities.

    Returns:
        The `Predictor`.

    Raises:
        ModelError: anything else, or a headless model.
        PredictorError: a serving client could not read the served signature (server down,
            no such model or signature, not a classifier).
    """
    if isinstance(model, Predictor):
        return model
    if isinstance(model, (Backbone, keras.Model)):
        backbone = as_backbone(model)
        backbone.require_classifier("A black-box explanation")
        keras_model = backbone.model

        def probabilities(images: np.ndarray) -> np.ndarray:
            return _softmax(forward_logits(keras_model, np.asarray(images, np.float32), batch_size=max(len(images), 1)))

        size = tuple(int(s) for s in backbone.input_size) if backbone.input_size else None
        return Predictor(probabilities, f"Backbone {backbone.name!r}", size, backbone.num_classes, keras_model=keras_model)
    as_predictor_method = getattr(model, "as_predictor", None)
    if callable(as_predictor_method):
        try:
            return as_predictor_method()
        except PredictorError:
            raise
        except KerasvizError as error:
            raise PredictorError(f"{error} (asking the server which signature to call, before any query)") from error
    if callable(model):
        return Predictor(model, f"predictor {getattr(model, '__name__', type(model).__name__)!r}")
    raise ModelError(
        "Expected a predictor: a kerasviz Backbone, a keras.Model, a PredictClient / RestPredictClient "
        "or a callable images -> probabilities. Received: model of type " + type(model).__name__
    )
