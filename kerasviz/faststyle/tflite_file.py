"""Convert a concrete function to a LiteRT `.tflite` file: the one conversion both exporters use."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional, Union

import tensorflow as tf

from ..checks import check_choice

__all__ = ["QUANTIZATIONS", "write_tflite"]

#: `quantization=` choices: float32 weights, float16 weights, or int8 weights with float
#: activations (dynamic-range quantization).
QUANTIZATIONS = (None, "float16", "dynamic")


def write_tflite(function: Any, path: Union[str, os.PathLike], quantization: Optional[str]) -> Path:
    """Convert `function` with the LiteRT converter and write the file.

    Args:
        function: A concrete `tf.function` (the file's `serving_default` signature).
        path: The `.tflite` file to write (parent folders are made).
        quantization: One of `QUANTIZATIONS`.

    Returns:
        The written path.

    Raises:
        ParameterError: An unknown `quantization`.
    """
    quantization = check_choice(quantization, "quantization", QUANTIZATIONS)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function], tf.Module())
    if quantization is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "float16":
        converter.target_spec.supported_types = [tf.float16]
    data = converter.convert()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
