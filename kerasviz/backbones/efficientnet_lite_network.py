"""The EfficientNet-Lite0 architecture as a Keras functional model (Keras-application layer
names), without weights; `efficientnet_lite.py` fills it from the converted checkpoint.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_lite0", "lite0_block_names"]

# (repeats, kernel, stride, expand ratio, input channels, output channels) per stage.
_BLOCKS = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
_STEM_FILTERS = 32
_TOP_FILTERS = 1280
_NUM_CLASSES = 1000
# The weights are a port of Google's TensorFlow EfficientNet-Lite0 (their tensors are even laid
# out in TF's (kh, kw, in, out) order in the checkpoint), so the network keeps TF's conventions,
# confirmed against the reference probabilities: BatchNorm epsilon 1e-3 (1e-5 gives 0.762 / 0.915)
# and TF "SAME" padding, which Keras's padding="same" is -- asymmetric (0, 1) before stride-2
# convolutions on even sizes. Symmetric k // 2 padding gives 0.669 / 0.875.
_BN_EPSILON = 1e-3
_BN_MOMENTUM = 0.99
_DROPOUT_RATE = 0.2
_DROP_CONNECT_RATE = 0.2

def _mbconv(
    x: Any,
    filters_in: int,
    filters_out: int,
    kernel_size: int,
    stride: int,
    expand_ratio: int,
    drop_rate: float,
    name: str,
) -> Any:
    """One MBConv block: 1x1 expand, kxk depthwise, 1x1 project, residual when shapes allow."""
    from keras import layers

    inputs = x
    filters = filters_in * expand_ratio
    if expand_ratio != 1:
        x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=f"{name}_expand_conv")(x)
        x = layers.BatchNormalization(epsilon=_BN_EPSILON, momentum=_BN_MOMENTUM, name=f"{name}_expand_bn")(x)
        x = layers.ReLU(6.0, name=f"{name}_expand_activation")(x)
    x = layers.DepthwiseConv2D(
        kernel_size, strides=stride, padding="same", use_bias=False, name=f"{name}_dwconv"
    )(x)
    x = layers.BatchNormalization(epsilon=_BN_EPSILON, momentum=_BN_MOMENTUM, name=f"{name}_bn")(x)
    x = layers.ReLU(6.0, name=f"{name}_activation")(x)
    x = layers.Conv2D(filters_out, 1, padding="same", use_bias=False, name=f"{name}_project_conv")(x)
    x = layers.BatchNormalization(epsilon=_BN_EPSILON, momentum=_BN_MOMENTUM, name=f"{name}_project_bn")(x)
    if stride == 1 and filters_in == filters_out:
        if drop_rate > 0:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}_drop")(x)
        x = layers.add([x, inputs], name=f"{name}_add")
    return x


def lite0_block_names() -> list[str]:
    """Keras-application block names in order: block1a, block2a, block2b, ..., block7a."""
    return [f"block{stage + 1}{chr(97 + i)}" for stage, row in enumerate(_BLOCKS) for i in range(row[0])]


def build_lite0(input_shape: tuple[int | None, int | None, int], classifier_activation: Any) -> Any:
    """The Lite0 network, randomly initialized.

    Args:
        input_shape: `(H, W, 3)`, `None` sides for any size; already-normalized pixels.
        classifier_activation: Activation of the 1000-way `predictions` layer (`None`: logits).

    Returns:
        A `keras.Model` named `efficientnet_lite0`.
    """
    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape, name="input_layer")
    x = layers.Conv2D(_STEM_FILTERS, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.BatchNormalization(epsilon=_BN_EPSILON, momentum=_BN_MOMENTUM, name="stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_activation")(x)

    names = iter(lite0_block_names())
    total = sum(row[0] for row in _BLOCKS)
    index = 0
    for repeats, kernel, stride, expand, filters_in, filters_out in _BLOCKS:
        for i in range(repeats):
            x = _mbconv(
                x,
                filters_in if i == 0 else filters_out,
                filters_out,
                kernel,
                stride if i == 0 else 1,
                expand,
                _DROP_CONNECT_RATE * index / total,
                next(names),
            )
            index += 1

    x = layers.Conv2D(_TOP_FILTERS, 1, padding="same", use_bias=False, name="top_conv")(x)
    x = layers.BatchNormalization(epsilon=_BN_EPSILON, momentum=_BN_MOMENTUM, name="top_bn")(x)
    x = layers.ReLU(6.0, name="top_activation")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Dropout(_DROPOUT_RATE, name="top_dropout")(x)
    outputs = layers.Dense(_NUM_CLASSES, activation=classifier_activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name="efficientnet_lite0")
