"""Forward passes through LiteRT (XNNPACK) for work that needs no gradients.

Perturbation metrics, deletion / insertion curves and black-box methods push thousands of copies
through a model and need only its outputs. TensorFlow's CPU kernels run EfficientNet-Lite0 at about 86 images / s on two
cores; the same model converted to LiteRT runs at about 160 (XNNPACK), with logits within
2e-5 of TensorFlow's. `forward_engine(total)` says which engine a stream of `total` images uses:
`"auto"` (default) picks LiteRT from `AUTO_MIN_IMAGES` images on, where the one conversion
(1.5 s for Lite0, cached with the model) pays for itself. A model that does not convert, or
whose converted outputs differ from TensorFlow's on a check image, stays on TensorFlow.
"""

from __future__ import annotations

import os
import threading
import warnings
from typing import Any, Optional

import keras
import numpy as np
import tensorflow as tf

from .checks import check_choice
from .compiled import cached

__all__ = ["AUTO_MIN_IMAGES", "CHUNK_BYTES", "ENGINES", "LiteRTForward", "chunk_size", "forward_engine",
           "litert_forward", "set_forward_engine"]

#: `set_forward_engine` choices.
ENGINES = ("auto", "tensorflow", "litert")
#: Under `"auto"`, streams of at least this many images run on LiteRT.
AUTO_MIN_IMAGES = 256
#: Largest difference from TensorFlow's outputs accepted on the check image, relative to their scale.
AGREEMENT = 1e-3
#: Input values per invoke: XNNPACK keeps a small batch's activations in cache (Lite0 224²:
#: 2 images an invoke ran 8-13 % faster than 64, measured alternately on two cores).
VALUES_PER_INVOKE = 2 * 224 * 224 * 3
#: Bytes of images a LiteRT stream builds at a time: below glibc's 32 MB mmap threshold, so each
#: chunk reuses freed memory instead of faulting in fresh pages (Lite0 pixel flipping: building
#: 64 copies at a time took 0.75-1.0 s of page faults and copying, 13 at a time 0.42 s).
CHUNK_BYTES = 8 * 2**20
#: Most images one invoke holds.
MOST_IMAGES = 64

_ENGINE = os.environ.get("KERASVIZ_FORWARD_ENGINE", "auto").lower()


def set_forward_engine(engine: str) -> None:
    """Choose the engine of forward-only work for every later call.

    Args:
        engine: `"auto"` (LiteRT for streams of `AUTO_MIN_IMAGES` images or more), `"tensorflow"`
            or `"litert"` (always, where the model converts). The environment variable
            `KERASVIZ_FORWARD_ENGINE` sets the same at import time.

    Raises:
        ParameterError: Another name.
    """
    global _ENGINE
    _ENGINE = check_choice(engine, "engine", ENGINES)


def forward_engine(total: int) -> str:
    """The engine a stream of `total` forward-only images uses under the current setting.

    Args:
        total: Number of images the work will push through the model, >= 0.

    Returns:
        `"tensorflow"` or `"litert"`.
    """
    if _ENGINE == "auto":
        return "litert" if total >= AUTO_MIN_IMAGES else "tensorflow"
    return "litert" if _ENGINE == "litert" else "tensorflow"


def chunk_size(engine: str, batch_size: int, image_shape: tuple) -> int:
    """How many images a stream builds and scores at a time.

    Args:
        engine: The stream's engine (`forward_engine(total)`).
        batch_size: The caller's batch size, >= 1 (TensorFlow's compiled calls take it whole).
        image_shape: One image's shape, e.g. `(224, 224, 3)` (`None` sizes: `batch_size`).

    Returns:
        `batch_size`, or for LiteRT at most `CHUNK_BYTES` of float32 images (at least 1).
    """
    if engine != "litert" or None in tuple(image_shape):
        return batch_size
    return _images_within(CHUNK_BYTES // 4, image_shape, most=batch_size)


def _images_within(values: int, image_shape: tuple, most: int) -> int:
    """How many images of `image_shape` fit in `values` input values (1 to `most`)."""
    return int(np.clip(values // max(1, int(np.prod(image_shape))), 1, most))


class LiteRTForward:
    """A model converted to LiteRT: `forward(images)` -> float32 outputs `(N, C)`.

    One interpreter per model, invoked on a fixed small batch (`VALUES_PER_INVOKE` input values,
    at most `MOST_IMAGES`; the last one padded); calls are serialised with a lock.
    """

    def __init__(self, flatbuffer: bytes, threads: int) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self._interpreter = Interpreter(model_content=flatbuffer, num_threads=threads)
        details = self._interpreter.get_input_details()[0]
        self._input = details["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        shape = tuple(int(size) for size in details["shape"][1:])
        self._batch = _images_within(VALUES_PER_INVOKE, shape, most=MOST_IMAGES)
        self._interpreter.resize_tensor_input(self._input, (self._batch, *shape), strict=False)
        self._interpreter.allocate_tensors()
        self._lock = threading.Lock()

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Outputs of one batch.

        Args:
            images: float32 `(N, H, W, C)` at the model's input size, N >= 1.

        Returns:
            float32 `(N, classes)`.
        """
        images = np.ascontiguousarray(images, np.float32)
        parts = []
        with self._lock:
            for start in range(0, len(images), self._batch):
                part = images[start:start + self._batch]
                if len(part) < self._batch:  # pad with the last image: no resize, no re-plan
                    part = np.concatenate([part, np.repeat(part[-1:], self._batch - len(part), 0)])
                self._interpreter.set_tensor(self._input, part)
                self._interpreter.invoke()
                parts.append(self._interpreter.get_tensor(self._output)[:len(images) - start].copy())
        return np.concatenate(parts)


def _convert(model: keras.Model) -> Optional[LiteRTForward]:
    shape = tuple(model.inputs[0].shape[1:])

    @tf.function(input_signature=[tf.TensorSpec((None, *shape), tf.float32)])
    def outputs(images):
        return model(images, training=False)

    threads = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count() or 1
    try:
        converter = tf.lite.TFLiteConverter.from_concrete_functions(
            [outputs.get_concrete_function()], tf.Module())
        forward = LiteRTForward(converter.convert(), threads)
        check = np.random.default_rng(0).uniform(0, 255, (2, *shape)).astype(np.float32)
        expected = outputs(tf.constant(check)).numpy()
        error = np.abs(forward(check) - expected).max()
    except Exception as failure:  # noqa: BLE001 - any converter or runtime failure keeps TensorFlow
        warnings.warn(f"kerasviz: {model.name!r} stays on TensorFlow (LiteRT conversion failed: "
                      f"{type(failure).__name__}: {str(failure)[:200]})", stacklevel=3)
        return None
    if not error <= AGREEMENT * max(1.0, float(np.abs(expected).max())):
        warnings.warn(f"kerasviz: {model.name!r} stays on TensorFlow (its LiteRT outputs differ by "
                      f"{error:.3g})", stacklevel=3)
        return None
    return forward


def litert_forward(model: Any) -> Optional[LiteRTForward]:
    """The model's LiteRT forward pass, converted once and kept with the model.

    Args:
        model: A single-input, single-output `keras.Model` taking float32 images.

    Returns:
        A `LiteRTForward`, or `None` for a model with several inputs or outputs or an input of
        any size, or one that does not convert or whose converted outputs differ from
        TensorFlow's (then a warning says why, once per model).
    """
    inputs, outputs = getattr(model, "inputs", None), getattr(model, "outputs", None)
    if not inputs or not outputs or len(inputs) != 1 or len(outputs) != 1:
        return None
    if None in tuple(inputs[0].shape[1:]):  # any-size models keep TensorFlow's graph
        return None
    return cached(model, "litert_forward", lambda: _convert(model))
