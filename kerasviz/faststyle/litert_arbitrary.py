"""Export the arbitrary (AdaIN) stylizer to LiteRT and run it; `export_style_tflite` and
`stylize_tflite` hand an arbitrary stylizer (or its `.tflite` file) to these functions.

The file's one signature, `serving_default`: `content` float32 `(-1, H, W, 3)`, `style` float32
`(-1, h, w, 3)` (pixels in `[0, 255]`) and `alpha` float32 `(-1,)` → `stylized` float32
`(-1, H, W, 3)`, clipped to `[0, 255]`. Heights and widths are dynamic (LiteRT resizes the input
tensors per call) unless `image_size=` fixes the content's (the style stays dynamic: it is
resized to a shorter side of 256 before the call, as `stylize_arbitrary` does). The decoder's
nearest ×2 upsampling (Keras builds it from `repeat`, which loses the static channel count
LiteRT's convolution needs under dynamic sizes) is swapped for one `resize_nearest`
with the channel count restated, which gives the same pixels; the Keras model is untouched. Input
checks and the style's preparation (`check_arbitrary_inputs`: `alpha` in `[0, 1]`, sizes, grey /
RGBA, one style per content image) run in `stylize_tflite` before the interpreter: a LiteRT file
has no assertions.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional, Tuple, Union

import keras
import numpy as np
import tensorflow as tf

from ..checks import check_choice, check_side
from ..errors import ImageError, ParameterError
from ..images import to_uint8
from .arbitrary_checks import ALPHA, CONTENT, MIN_CONTENT_SIDE, STYLE, check_arbitrary_inputs, is_arbitrary_stylizer
from .layers import NearestUpsample
from .saved_model import STYLIZED
from .tflite_file import QUANTIZATIONS, write_tflite

__all__ = ["export_arbitrary_tflite", "is_arbitrary_tflite", "stylize_arbitrary_tflite"]



def _swap_upsampling(layer: keras.layers.Layer) -> keras.layers.Layer:
    """The layer itself (weights shared), a LiteRT-friendly upsampling, or a nested model rebuilt so."""
    if isinstance(layer, keras.layers.UpSampling2D):
        if tuple(layer.size) != (2, 2) or layer.interpolation != "nearest":
            raise ParameterError(f"Only nearest ×2 upsampling converts to LiteRT. Received: layer {layer.name!r}")
        return NearestUpsample(name=layer.name)
    if isinstance(layer, keras.Model) and any(isinstance(inner, (keras.Model, keras.layers.UpSampling2D)) for inner in layer.layers):
        return keras.models.clone_model(layer, clone_function=_swap_upsampling)
    return layer


def _frozen_signature(net: keras.Model, size: Optional[Tuple[int, int]]):
    """The stylizer as a constant-weights concrete function with named inputs and output."""
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    lite = keras.models.clone_model(net, clone_function=_swap_upsampling)
    height, width = size if size is not None else (None, None)
    specs = [
        tf.TensorSpec((None, height, width, 3), tf.float32, name=CONTENT),
        tf.TensorSpec((None, None, None, 3), tf.float32, name=STYLE),
        tf.TensorSpec((None,), tf.float32, name=ALPHA),
    ]

    def run(content, style, alpha):
        out = lite({CONTENT: content, STYLE: style, ALPHA: alpha}, training=False)
        return tf.clip_by_value(tf.cast(out, tf.float32), 0.0, 255.0)

    # Variables become constants first: the converter keeps Keras 3 variables as resource
    # variables otherwise (uninitialized in the interpreter's signature runner).
    frozen = convert_variables_to_constants_v2(tf.function(run).get_concrete_function(*specs))

    @tf.function(input_signature=specs)
    def serving_default(content, style, alpha):
        return {STYLIZED: frozen(content, style, alpha)[0]}

    return serving_default.get_concrete_function()


def export_arbitrary_tflite(
    net: keras.Model,
    path: Union[str, os.PathLike],
    *,
    quantization: Optional[str] = None,
    image_size: Any = None,
) -> Path:
    """Convert an arbitrary stylizer to a LiteRT `.tflite` file.

    Args:
        net: A model from `build_arbitrary_stylizer`.
        path: The `.tflite` file to write (parent folders are created).
        quantization: `None` (float32), `"float16"` or `"dynamic"` (int8 weights), as for
            transform networks.
        image_size: `None` for a dynamic content size, or a fixed `size` / `(height, width)`
            (each >= 16).

    Returns:
        The written path.

    Raises:
        ParameterError: Not an arbitrary stylizer, an unknown `quantization`, or a bad size.
    """
    if not is_arbitrary_stylizer(net):
        raise ParameterError(
            f"Expected an arbitrary stylizer from build_arbitrary_stylizer. Received: net={type(net).__name__}"
        )
    check_choice(quantization, "quantization", QUANTIZATIONS)  # before the size: the first error names it
    size = None if image_size is None else check_side(image_size, "image_size", low=MIN_CONTENT_SIDE)
    return write_tflite(_frozen_signature(net, size), path, quantization)


def is_arbitrary_tflite(interpreter: Any) -> bool:
    """Whether a LiteRT interpreter holds an arbitrary stylizer (`content`, `style`, `alpha` inputs).

    Args:
        interpreter: An interpreter from `load_tflite`.

    Returns:
        True for a file from `export_arbitrary_tflite`.
    """
    return set(interpreter.get_signature_runner().get_input_details()) == {CONTENT, STYLE, ALPHA}


def stylize_arbitrary_tflite(interpreter: Any, content: Any, style: Any, alpha: Any = 1.0) -> np.ndarray:
    """Stylize content images with style images through an exported LiteRT arbitrary stylizer.

    Args:
        interpreter: An interpreter from `load_tflite` on an `export_arbitrary_tflite` file.
        content: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`, sides >= 16 (exactly the
            exported size if it was fixed).
        style: One style image or one per content image (see `check_arbitrary_inputs`; resized
            to a shorter side of 256 here).
        alpha: Style strength in `[0, 1]`, one number or one per content image.

    Returns:
        uint8 `(H, W, 3)` or `(N, H, W, 3)`, like `content`.

    Raises:
        ImageError: Invalid or too small images, a style count that is neither 1 nor `N`, or a
            size the file was not exported for.
        ParameterError: `alpha` outside `[0, 1]` or of the wrong length.
    """
    batch, styles, alphas, single = check_arbitrary_inputs(content, style, alpha)
    runner = interpreter.get_signature_runner()
    expected = runner.get_input_details()[CONTENT]["shape_signature"]
    fixed = tuple(int(v) for v in expected[1:3]) if min(expected[1:3]) > 0 else None
    if fixed is not None and tuple(batch.shape[1:3]) != fixed:
        raise ImageError(f"This LiteRT model takes content images of exactly {fixed} pixels. Received: content with shape {batch.shape}")
    result = to_uint8(runner(**{CONTENT: batch, STYLE: styles, ALPHA: alphas})[STYLIZED])
    return result[0] if single else result
