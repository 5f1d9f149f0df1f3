"""The one per-model cache of compiled functions, and the one way to get logits.

Every technique that compiles a `tf.function` (or builds a derived Keras model) for a user's
model stores it here under `(model, key)`: entries live exactly as long as the model, so a model
the user drops takes its traces with it, and a technique called twice on the same model never
retraces. Numbers travel as tensors into the compiled functions; only *structure* (layer names,
options that change the graph) belongs in the key.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable, Dict, Iterator

import keras
import numpy as np
import tensorflow as tf

__all__ = ["batch_slices", "cached", "clear_cache", "forward_logits"]

_CACHE: "weakref.WeakKeyDictionary[Any, Dict[Any, Any]]" = weakref.WeakKeyDictionary()


def cached(model: Any, key: Any, build: Callable[[], Any], fn: Any = None) -> Any:
    """Return `build()` cached under `(model, key, fn)`; entries die with the model.

    Args:
        model: The owner (a `keras.Model`, or any weak-referenceable object).
        key: A hashable description of the structure being compiled (layer names, options);
            numbers that only change values must be tensors, not part of the key.
        build: Makes the value on a miss.
        fn: Optional callable compiled into the value (e.g. a target score function); it is held
            weakly, so a fresh lambda per call cannot grow the cache.

    Returns:
        The cached value.
    """
    per_model = _CACHE.setdefault(model, {})
    if fn is None:
        if key not in per_model:
            per_model[key] = build()
        return per_model[key]
    by_fn = per_model.setdefault((key, "callable"), weakref.WeakKeyDictionary())
    if fn not in by_fn:
        by_fn[fn] = build()
    return by_fn[fn]


def clear_cache(model: Any = None) -> None:
    """Forget the compiled functions of one model (or of every model when `model` is None).

    Args:
        model: The owner whose entries to drop, or `None` for all.
    """
    if model is None:
        _CACHE.clear()
    else:
        _CACHE.pop(model, None)


def batch_slices(total: int, batch_size: int) -> Iterator[slice]:
    """Consecutive slices of at most `batch_size` items covering `range(total)`.

    Args:
        total: Number of items.
        batch_size: Largest slice length, >= 1.

    Returns:
        An iterator of slices.
    """
    for start in range(0, total, batch_size):
        yield slice(start, min(start + batch_size, total))


def _logits_function(model: keras.Model) -> Callable:
    shape = tuple(model.inputs[0].shape[1:])

    @tf.function(input_signature=[tf.TensorSpec((None, *shape), tf.float32, name="images")])
    def logits(images):
        return model(images, training=False)

    return logits


def forward_logits(model: keras.Model, images: np.ndarray, batch_size: int = 32, *,
                   engine: str = "tensorflow") -> np.ndarray:
    """Outputs `(N, C)` of a pixels-in model through one cached compiled forward pass, in batches.

    Args:
        model: A Keras model taking float32 pixels (a `Backbone.model`: logits out).
        images: float32 `(N, H, W, 3)` matching the model's input shape.
        batch_size: Images per compiled call, >= 1.
        engine: `"tensorflow"`, or `"litert"` for the model converted to LiteRT
            (`kerasviz.litert_forward`; TensorFlow where it does not convert). Callers with a
            long stream pass `kerasviz.litert_forward.forward_engine(total)`.

    Returns:
        float32 array `(N, C)`.
    """
    fn = None
    if engine == "litert":
        from .litert_forward import litert_forward

        fn = litert_forward(model)
    if fn is None:
        graph = cached(model, "logits", lambda: _logits_function(model))

        def fn(batch):
            return graph(tf.constant(batch)).numpy()

    parts = [fn(images[s]) for s in batch_slices(len(images), batch_size)]
    return np.concatenate(parts).astype(np.float32)
