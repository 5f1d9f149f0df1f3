"""The transform network's own Keras layers: (conditional) instance normalization, reflection
padding, pad-to-a-multiple / crop-back, and the pixel output's clipping.

They are registered with Keras under the `kerasviz` package, so saved networks load by name
wherever the classes live.
"""

from __future__ import annotations

import contextlib
from typing import Any, Dict, Iterator, Optional, Tuple

import keras
import tensorflow as tf

__all__ = [
    "fused_instance_norm",
    "plain_inference",
    "InstanceNormalization",
    "ConditionalInstanceNormalization",
    "PadToMultiple",
    "CropToInput",
    "ReflectionPad",
    "ClipPixels",
    "BilinearUpsampling",
    "NearestUpsample",
]


def fused_instance_norm(image: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: float) -> tf.Tensor:
    """Normalize one image per channel over height and width, then scale and shift, in one kernel.

    Args:
        image: float32 `(H, W, C)`.
        gamma: float32 `(C,)` scale.
        beta: float32 `(C,)` shift.
        epsilon: Added to the variance (> 0).

    Returns:
        float32 `(H, W, C)`: `γ · (image − mean) / sqrt(var + ε) + β`.
    """
    empty = tf.zeros([0], tf.float32)  # no running statistics: they come from the image itself
    normalized = tf.raw_ops.FusedBatchNormV3(x=image[None], scale=gamma, offset=beta, mean=empty, variance=empty,
                                             epsilon=epsilon, is_training=True)[0]
    return normalized[0]


@contextlib.contextmanager
def plain_inference(net: keras.Model) -> Iterator[keras.Model]:
    """Inside the block, the network's layers run their plain ops at inference too (for exports).

    The fast paths (a fused kernel per image in a loop, the polyphase output convolution) are
    tuned for in-process CPU inference; a SavedModel or LiteRT file traced with them loads ~3x
    slower, and converters or GPUs may not handle them well.

    Args:
        net: A transform network (its layers' `fast_inference` flags are set back afterwards).

    Yields:
        `net`.
    """
    layers = [layer for layer in net.layers if hasattr(layer, "fast_inference")]
    before = [layer.fast_inference for layer in layers]
    for layer in layers:
        layer.fast_inference = False
    try:
        yield net
    finally:
        for layer, fast in zip(layers, before):
            layer.fast_inference = fast


@keras.saving.register_keras_serializable(package="kerasviz")
class InstanceNormalization(keras.layers.Layer):
    """Per-image, per-channel normalization over height and width, with a learned γ / β.

    Statistics are computed in float32 even under mixed precision. At inference each image is
    normalized by one fused kernel (`fused_instance_norm`); while training, by plain ops.
    """

    def __init__(self, epsilon: float = 1e-5, **kwargs: Any) -> None:
        """Create the layer.

        Args:
            epsilon: Added to the variance.
            **kwargs: Keras layer arguments (`name`, `dtype`).
        """
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)
        #: Normalize with the fused kernel at inference; False keeps the plain ops (exports set it
        #: through `plain_inference`).
        self.fast_inference = True

    def build(self, input_shape: Tuple[Optional[int], ...]) -> None:
        channels = int(input_shape[-1])
        self.gamma = self.add_weight(name="gamma", shape=(channels,), initializer="ones")
        self.beta = self.add_weight(name="beta", shape=(channels,), initializer="zeros")

    def _affine(self, batch: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
        """γ and β per image, `(N, C)` float32."""
        gamma, beta = (tf.cast(v, tf.float32) for v in (self.gamma, self.beta))
        return tf.tile(gamma[None], [batch, 1]), tf.tile(beta[None], [batch, 1])

    def _normalize(self, x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, training: Any) -> tf.Tensor:
        x = tf.cast(x, tf.float32)
        if training or not self.fast_inference:  # plain ops: while training their gradient is cheaper
            mean, variance = tf.nn.moments(x, axes=[1, 2], keepdims=True)
            scale = gamma[:, None, None, :] * tf.math.rsqrt(variance + self.epsilon)
            y = x * scale + (beta[:, None, None, :] - mean * scale)
        else:  # one fused kernel per image: 2-3x faster than the plain ops at 256 px on CPU

            def one_by_one():
                return tf.map_fn(lambda args: fused_instance_norm(*args, self.epsilon), (x, gamma, beta),
                                 fn_output_signature=tf.float32, parallel_iterations=1)

            def single():
                return fused_instance_norm(x[0], gamma[0], beta[0], self.epsilon)[None]

            y = tf.cond(tf.shape(x)[0] == 1, single, one_by_one)  # no loop for the common single image
        return tf.cast(y, self.compute_dtype)

    def call(self, x: tf.Tensor, training: Any = None) -> tf.Tensor:
        return self._normalize(x, *self._affine(tf.shape(x)[0]), training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="kerasviz")
class ConditionalInstanceNormalization(InstanceNormalization):
    """Instance normalization with one γ / β per style, mixed per image by style weights.

    Called on `[x, style_weights]` with `style_weights` `(N, n_styles)`: image n gets
    `γ = style_weights[n] @ γ_styles` and likewise β.
    """

    def __init__(self, n_styles: int, epsilon: float = 1e-5, **kwargs: Any) -> None:
        """Create the layer.

        Args:
            n_styles: Number of styles (rows of γ and β).
            epsilon: Added to the variance.
            **kwargs: Keras layer arguments (`name`, `dtype`).
        """
        super().__init__(epsilon=epsilon, **kwargs)
        self.n_styles = int(n_styles)

    def build(self, input_shape) -> None:
        channels = int(input_shape[0][-1])
        shape = (self.n_styles, channels)
        self.gamma = self.add_weight(name="gamma", shape=shape, initializer="ones")
        self.beta = self.add_weight(name="beta", shape=shape, initializer="zeros")

    def call(self, inputs, training: Any = None) -> tf.Tensor:
        x, weights = inputs
        weights = tf.cast(weights, tf.float32)
        gamma = tf.matmul(weights, tf.cast(self.gamma, tf.float32))
        beta = tf.matmul(weights, tf.cast(self.beta, tf.float32))
        return self._normalize(x, gamma, beta, training)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "n_styles": self.n_styles}


@keras.saving.register_keras_serializable(package="kerasviz")
class PadToMultiple(keras.layers.Layer):
    """Reflect-pad the bottom and right edges so height and width are multiples of `multiple`."""

    def __init__(self, multiple: int = 4, **kwargs: Any) -> None:
        """Create the layer.

        Args:
            multiple: Height and width are padded up to a multiple of this.
            **kwargs: Keras layer arguments.
        """
        super().__init__(**kwargs)
        self.multiple = int(multiple)

    def call(self, x: tf.Tensor) -> tf.Tensor:
        shape = tf.shape(x)
        pad_h = (-shape[1]) % self.multiple
        pad_w = (-shape[2]) % self.multiple
        return tf.pad(x, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]], mode="REFLECT")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], None, None, input_shape[-1])

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "multiple": self.multiple}


@keras.saving.register_keras_serializable(package="kerasviz")
class CropToInput(keras.layers.Layer):
    """Crop `[y, reference]` to the reference's height and width (undoing `PadToMultiple`)."""

    def call(self, inputs) -> tf.Tensor:
        y, reference = inputs
        shape = tf.shape(reference)
        return y[:, : shape[1], : shape[2], :]

    def compute_output_shape(self, input_shape):
        return input_shape[1][:3] + (input_shape[0][-1],)


@keras.saving.register_keras_serializable(package="kerasviz")
class ReflectionPad(keras.layers.Layer):
    """Mirror-pad height and width by `pad` pixels on every side (before a `"valid"` convolution).

    Uses TensorFlow's `"SYMMETRIC"` mirror (the edge pixel repeated once), which, unlike
    `"REFLECT"`, also works when `pad` equals the height or width (the 1×1 bottleneck of a
    4×4 input).
    """

    def __init__(self, pad: int = 1, **kwargs: Any) -> None:
        """Create the layer.

        Args:
            pad: Pixels added on each of the four sides (smaller than the input's height / width).
            **kwargs: Keras layer arguments.
        """
        super().__init__(**kwargs)
        self.pad = int(pad)

    def call(self, x: tf.Tensor) -> tf.Tensor:
        p = self.pad
        return tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]], mode="SYMMETRIC")

    def compute_output_shape(self, input_shape):
        grow = lambda n: None if n is None else n + 2 * self.pad  # noqa: E731
        return (input_shape[0], grow(input_shape[1]), grow(input_shape[2]), input_shape[3])

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "pad": self.pad}


@keras.saving.register_keras_serializable(package="kerasviz")
class ClipPixels(keras.layers.Layer):
    """Clip pixels to `[0, 255]` at inference; pass them through unchanged while training.

    The linear output of `build_transform_net(output="linear")`: unlike a tanh, it never
    saturates, so a region pushed out of range still gets the loss's gradient back (a tanh's
    saturated blobs have none and stay).
    """

    def call(self, x: tf.Tensor, training: Any = None) -> tf.Tensor:
        return x if training else tf.clip_by_value(x, 0.0, 255.0)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="kerasviz")
class BilinearUpsampling(keras.layers.Layer):
    """Bilinear ×2 upsampling that works on any height and width (Keras' `UpSampling2D`
    bilinear path needs static sizes inside a compiled function)."""

    interpolation = "bilinear"

    def call(self, x: tf.Tensor) -> tf.Tensor:
        size = 2 * tf.shape(x)[1:3]
        return tf.cast(tf.image.resize(x, size, method="bilinear"), x.dtype)

    def compute_output_shape(self, input_shape):
        grow = lambda n: None if n is None else 2 * n  # noqa: E731
        return (input_shape[0], grow(input_shape[1]), grow(input_shape[2]), input_shape[3])


class NearestUpsample(keras.layers.Layer):
    """Nearest-neighbour ×2 upsampling as one `resize_nearest` (same pixels as Keras' `repeat`)."""

    def call(self, x: tf.Tensor) -> tf.Tensor:
        shape = tf.shape(x)
        resized = tf.image.resize(x, [2 * shape[1], 2 * shape[2]], method="nearest")
        return tf.reshape(resized, [shape[0], 2 * shape[1], 2 * shape[2], x.shape[-1]])
