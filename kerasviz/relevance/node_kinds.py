"""Which weightless rule a layer or `keras.ops` node gets by default (its kind).

- `gradient`: nodes that only move, copy, select or drop values, whose plain gradient routes
  relevance exactly (reshape, permute, flatten, padding, cropping, max pooling, concatenation,
  slicing, dropout-type layers at inference, up-sampling).
- `pass`: element-wise nodes: activations (Zennit's Pass; for SiLU / swish / GELU and other
  non-ReLU activations this is AttnLRP's identity rule), Rescaling / Normalization /
  preprocessing, LayerScale, an unmerged BatchNorm (Zennit's `layer_map_base`).
- `norm`: sums and means (Add, Average, Subtract, average pooling, `ops.mean` / `ops.sum`).
- `product`: Multiply nodes (a gate or a product of features, decided by the clone).
- `softmax`: a softmax (removed when it ends the model).
- `layer_norm`: LayerNormalization.
- `None`: no rule (e.g. MultiHeadAttention, Lambda, unknown custom layers).
"""

from __future__ import annotations

from typing import Any, Optional

import keras

__all__ = ["RELU_NAMES", "activation_name", "node_kind"]

L = keras.layers
_GRADIENT_LAYERS = (
    L.InputLayer, L.Flatten, L.Reshape, L.Permute, L.ZeroPadding1D, L.ZeroPadding2D,
    L.ZeroPadding3D, L.Cropping1D, L.Cropping2D, L.Cropping3D, L.MaxPooling1D, L.MaxPooling2D,
    L.MaxPooling3D, L.GlobalMaxPooling1D, L.GlobalMaxPooling2D, L.GlobalMaxPooling3D,
    L.Concatenate, L.Dropout, L.SpatialDropout1D, L.SpatialDropout2D, L.SpatialDropout3D,
    L.GaussianNoise, L.GaussianDropout, L.AlphaDropout, L.ActivityRegularization,
    L.UpSampling1D, L.UpSampling2D, L.UpSampling3D, L.RepeatVector, L.Identity,
)
_PASS_LAYERS = (
    L.ReLU, L.LeakyReLU, L.PReLU, L.ELU, L.Rescaling, L.Normalization, L.BatchNormalization,
)
_NORM_LAYERS = (
    L.Add, L.Average, L.Subtract, L.AveragePooling1D, L.AveragePooling2D, L.AveragePooling3D,
    L.GlobalAveragePooling1D, L.GlobalAveragePooling2D, L.GlobalAveragePooling3D,
)
#: Custom layer class names known to be identities at inference or element-wise scalings.
_GRADIENT_NAMES = {"stochasticdepth", "droppath"}
_PASS_NAMES = {"layerscale", "pixelpreprocessing"}
_GRADIENT_OPS = {
    "reshape", "transpose", "getitem", "squeeze", "expanddims", "concatenate", "identity",
    "cast", "flatten", "pad", "slice", "take", "stack", "tile", "broadcastto", "maxpool",
    "moveaxis", "swapaxes",
}
_ACTIVATION_OPS = {
    "relu", "relu6", "sigmoid", "silu", "swish", "gelu", "tanh", "hardsigmoid", "hardsilu",
    "hardswish", "elu", "selu", "softplus", "leakyrelu", "softsign", "mish", "celu", "glu",
    "negative", "absolute", "abs",
}
_NORM_OPS = {"add", "subtract", "mean", "sum", "average", "averagepool"}
_PRODUCT_OPS = {"multiply", "divide", "truedivide"}
#: ReLU-family activation names: their output is >= 0.
RELU_NAMES = {"relu", "relu6"}


def _key(name: str) -> str:
    return name.lower().replace("_", "")


def activation_name(function: Any) -> str:
    """Normalized name of an activation function (`"linear"` for None)."""
    if function is None:
        return "linear"
    return _key(getattr(function, "__name__", type(function).__name__))


def node_kind(node: Any) -> Optional[str]:
    """The default weightless kind of a node (see the module doc), or None when it has none.

    Args:
        node: A Keras layer without its own LRP rule, or a `keras.ops` operation node.

    Returns:
        `"gradient"`, `"pass"`, `"norm"`, `"product"`, `"softmax"`, `"layer_norm"` or None.
    """
    if isinstance(node, L.Softmax):
        return "softmax"
    if isinstance(node, L.Activation):
        return "softmax" if activation_name(node.activation) == "softmax" else "pass"
    if isinstance(node, _GRADIENT_LAYERS):
        return "gradient"
    if isinstance(node, _PASS_LAYERS):
        return "pass"
    if isinstance(node, _NORM_LAYERS):
        return "norm"
    if isinstance(node, L.Multiply):
        return "product"
    if isinstance(node, L.LayerNormalization):
        return "layer_norm"
    name = _key(type(node).__name__)
    if isinstance(node, L.Layer):
        if name in _GRADIENT_NAMES:
            return "gradient"
        if name in _PASS_NAMES:
            return "pass"
        return None
    if name in _GRADIENT_OPS:
        return "gradient"
    if name == "softmax":
        return "softmax"
    if name in _ACTIVATION_OPS:
        return "pass"
    if name in _NORM_OPS:
        return "norm"
    if name in _PRODUCT_OPS:
        return "product"
    return None
