"""Export a transform network to LiteRT (TensorFlow Lite) for phones and CPUs, and run it.

The `.tflite` file has one signature, `serving_default`: `images` float32 `(-1, -1, -1, 3)`
pixels in `[0, 255]` (plus `style_weights` float32 `(-1, n_styles)` for a multi-style network)
→ `stylized` float32, same shape, in `[0, 255]`. Height and width are dynamic: LiteRT resizes
the input tensors per call (`interpreter.resize_tensor_input`, which `stylize_tflite` does), and
every op of the network (MIRROR_PAD, CONV_2D, RESIZE_NEAREST_NEIGHBOR, MEAN, ...) is a builtin
that takes dynamic shapes. `image_size=` fixes the height and width instead, for accelerators
(GPU / NPU delegates) that want static shapes.

Two of the network's layers are swapped for equivalent, LiteRT-friendly ones before conversion
(the Keras network itself is untouched): reflect-padding and nearest ×2 upsampling (Keras builds it
from `repeat`) lose the static channel count under dynamic height and width, and LiteRT's
convolution needs it; the replacements restate it with a reshape and upsample with
`resize_nearest`, which gives bit-identical pixels.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional, Tuple, Union

import keras
import numpy as np
import tensorflow as tf

from ..checks import check_choice, check_side
from ..errors import ImageError, ModelError, ParameterError
from ..images import as_image_batch, to_uint8
from .arbitrary_checks import is_arbitrary_stylizer
from .inference import check_style_weights
from .layers import NearestUpsample, PadToMultiple, plain_inference
from .litert_arbitrary import export_arbitrary_tflite, is_arbitrary_tflite, stylize_arbitrary_tflite
from .network import IMAGES, MIN_SIZE, STYLE_WEIGHTS, transform_net_config
from .tflite_file import QUANTIZATIONS, write_tflite

__all__ = ["QUANTIZATIONS", "export_style_tflite", "load_tflite", "stylize_tflite"]

_OUTPUT = "stylized"


class _ShapedPad(PadToMultiple):
    """`PadToMultiple` whose output keeps the static channel count (a reshape restates it)."""

    def call(self, x: tf.Tensor) -> tf.Tensor:
        padded = super().call(x)
        shape = tf.shape(padded)
        return tf.reshape(padded, [shape[0], shape[1], shape[2], x.shape[-1]])


def _litert_layer(layer: keras.layers.Layer) -> keras.layers.Layer:
    if isinstance(layer, PadToMultiple):
        return _ShapedPad(**layer.get_config())
    if isinstance(layer, keras.layers.UpSampling2D):
        return NearestUpsample(name=layer.name)
    return layer.__class__.from_config(layer.get_config())


def _frozen_signature(net: keras.Model, n_styles: int, size: Optional[Tuple[int, int]]):
    """The network as a constant-weights concrete function with named inputs and output."""
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    lite = keras.models.clone_model(net, clone_function=_litert_layer)
    lite.set_weights(net.get_weights())
    height, width = size if size is not None else (None, None)
    specs = [tf.TensorSpec((None, height, width, 3), tf.float32, name=IMAGES)]
    if n_styles > 1:
        specs.append(tf.TensorSpec((None, n_styles), tf.float32, name=STYLE_WEIGHTS))

    def run(images, style_weights=None):
        inputs = images if style_weights is None else {IMAGES: images, STYLE_WEIGHTS: style_weights}
        return tf.cast(lite(inputs, training=False), tf.float32)

    # Variables are frozen into constants first: the converter keeps Keras 3 variables as
    # resource variables otherwise (uninitialized in the interpreter's signature runner).
    with plain_inference(lite):  # LiteRT has no training-mode fused batch norm
        frozen = convert_variables_to_constants_v2(tf.function(run).get_concrete_function(*specs))

    @tf.function(input_signature=specs)
    def serving_default(*inputs):
        return {_OUTPUT: frozen(*inputs)[0]}

    return serving_default.get_concrete_function()


def export_style_tflite(
    net: keras.Model,
    path: Union[str, os.PathLike],
    *,
    quantization: Optional[str] = None,
    image_size: Any = None,
) -> Path:
    """Convert a transform network (one or several styles) to a LiteRT `.tflite` file.

    An arbitrary stylizer (`build_arbitrary_stylizer`) is converted by `export_arbitrary_tflite`
    (inputs `content`, `style`, `alpha`; see `kerasviz.faststyle.litert_arbitrary`).

    Args:
        net: A network from `build_transform_net` (trained by `train_style_network`), or an
            arbitrary stylizer.
        path: The `.tflite` file to write (parent folders are created).
        quantization: `None` (float32 weights), `"float16"` (half the size; float16 weights,
            dequantized on CPU) or `"dynamic"` (dynamic-range: int8 weights, a quarter of the
            size, float activations).
        image_size: `None` for dynamic height and width (any size >= 4, set per call), or a
            fixed `size` / `(height, width)` for delegates that need static shapes (an arbitrary
            stylizer: the content's size; its style stays dynamic).

    Returns:
        The written path.

    Raises:
        ModelError: `net` is neither a transform network nor an arbitrary stylizer.
        ParameterError: An unknown `quantization` or a bad `image_size`.
    """
    if is_arbitrary_stylizer(net):
        return export_arbitrary_tflite(net, path, quantization=quantization, image_size=image_size)
    config = transform_net_config(net)
    check_choice(quantization, "quantization", QUANTIZATIONS)  # before the size: the first error names it
    size = None if image_size is None else check_side(image_size, "image_size", low=MIN_SIZE)
    return write_tflite(_frozen_signature(net, config["n_styles"], size), path, quantization)


def load_tflite(path: Union[str, os.PathLike], num_threads: Optional[int] = None) -> Any:
    """Open a `.tflite` file with the LiteRT interpreter (`ai-edge-litert`).

    Args:
        path: A file from `export_style_tflite`.
        num_threads: CPU threads of the interpreter (`None`: LiteRT's default).

    Returns:
        An `ai_edge_litert.interpreter.Interpreter`.

    Raises:
        ModelError: The file is missing or not a LiteRT model, or `ai-edge-litert` is not installed.
    """
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as error:
        raise ModelError(f"Running LiteRT models needs `pip install ai-edge-litert`. Received: path={str(path)!r}") from error
    if not Path(path).is_file():
        raise ModelError(f"No LiteRT model file there; export one with export_style_tflite. Received: path={str(path)!r}")
    try:
        return Interpreter(model_path=str(path), num_threads=num_threads)
    except (ValueError, RuntimeError) as error:
        raise ModelError(f"Not a LiteRT model ({error}). Received: path={str(path)!r}") from None


def stylize_tflite(model: Any, images: Any, style_weights: Any = None, *, style: Any = None, alpha: Any = None) -> np.ndarray:
    """Stylize images with an exported LiteRT network (the input tensors are resized per batch).

    Args:
        model: A `.tflite` path or an interpreter from `load_tflite`.
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`, `H, W >= 4` (exactly the
            exported size if it was fixed; an arbitrary stylizer's content: sides >= 16).
        style_weights: For a multi-style model, a convex mix `(n_styles,)` or one per image.
        style: Only for an arbitrary stylizer (required there): one style image `(h, w, 3)` or
            one per image, pixels in `[0, 255]`, sides >= 32.
        alpha: Only for an arbitrary stylizer: style strength in `[0, 1]` (`None`: 1).

    Returns:
        uint8 `(H, W, 3)` or `(N, H, W, 3)`, matching the input.

    Raises:
        ImageError: Invalid images, or a size the model was not exported for.
        ModelError: Not a LiteRT model from `export_style_tflite`.
        ParameterError: Bad `style_weights` or `alpha`; `style` / `alpha` for a transform
            network, or no `style` for an arbitrary stylizer.
    """
    interpreter = load_tflite(model) if isinstance(model, (str, os.PathLike)) else model
    if is_arbitrary_tflite(interpreter):
        if style is None or style_weights is not None:
            raise ParameterError(
                "This LiteRT model is an arbitrary stylizer: pass a style image as `style=` (and `alpha=`), "
                f"not style_weights. Received: style={'None' if style is None else 'an image'}"
            )
        return stylize_arbitrary_tflite(interpreter, images, style, 1.0 if alpha is None else alpha)
    if style is not None or alpha is not None:
        raise ParameterError(
            "This LiteRT model is a transform network with its own trained styles: drop `style` / `alpha`. "
            f"Received: alpha={alpha!r}, style={'None' if style is None else 'an image'}"
        )
    batch, single = as_image_batch(images)
    runner = interpreter.get_signature_runner()
    details = runner.get_input_details()
    if IMAGES not in details:
        raise ModelError("Expected a LiteRT model from export_style_tflite (an `images` input). Received: model")
    expected = details[IMAGES]["shape_signature"]
    fixed = tuple(int(v) for v in expected[1:3]) if min(expected[1:3]) > 0 else None
    if min(batch.shape[1:3]) < MIN_SIZE or (fixed is not None and tuple(batch.shape[1:3]) != fixed):
        need = f"exactly {fixed}" if fixed else f"at least {MIN_SIZE}×{MIN_SIZE}"
        raise ImageError(f"This LiteRT model takes images of {need} pixels. Received: images with shape {batch.shape}")
    feeds = {IMAGES: np.ascontiguousarray(batch, np.float32)}
    if STYLE_WEIGHTS in details:
        feeds[STYLE_WEIGHTS] = check_style_weights(style_weights, int(details[STYLE_WEIGHTS]["shape_signature"][-1]), len(batch))
    elif style_weights is not None:
        check_style_weights(style_weights, 1, len(batch))
    result = to_uint8(runner(**feeds)[_OUTPUT])
    return result[0] if single else result
