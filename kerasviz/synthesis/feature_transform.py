"""The feature transform of the style losses, chosen from the backbone, never from its name.

**Feature transform.** Plain Gram matching works through VGG-style networks (Gatys et al.).
Residual, normalized networks (EfficientNet, ResNet) have peaky, low-entropy activations and
give poor stylization; following Wang, Li & Vasconcelos (CVPR 2021) their features pass through a
softmax over all of a layer's activations of `features / temperature`, times their count so
values average 1 whatever the image size (`feature_transform="softmax"`). The choice belongs to
the backbone, never to its name: `Backbone.feature_transform` is set by `load_backbone` (`None`
for `vgg16_hed`) and can be overridden (`dataclasses.replace(backbone, feature_transform=None)`);
when it is `"auto"` (the default of `Backbone.from_model`), `resolve_feature_transform` looks at
the architecture: a network with normalization layers or residual additions gets the softmax, a
plain stack of convolutions (VGG) gets none.
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence

import keras
import numpy as np
import tensorflow as tf

from ..backbones import Backbone
from ..checks import check_choice
from .objective_type import Objective, objective

__all__ = ["FEATURE_TRANSFORMS", "resolve_feature_transform", "softmax_features", "transform_outputs", "transformed"]

#: Accepted values of `feature_transform`.
FEATURE_TRANSFORMS = ("auto", "softmax", None)

_RESIDUAL = (keras.layers.Add,)
_NORMALIZATION = (keras.layers.BatchNormalization, keras.layers.LayerNormalization, keras.layers.GroupNormalization)


def _all_layers(model: keras.Model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def _is_plain_cnn(model: keras.Model) -> bool:
    """No normalization layers and no residual additions (layers or `x + y` operation nodes)."""
    if any(isinstance(layer, _RESIDUAL + _NORMALIZATION) for layer in _all_layers(model)):
        return False
    operations = getattr(model, "operations", [])
    return not any(type(op).__name__ in ("Add",) for op in operations)


def resolve_feature_transform(backbone: Backbone, feature_transform: Optional[str] = "auto") -> Optional[str]:
    """The feature transform the style losses use: the argument, else the backbone's property.

    Args:
        backbone: The backbone the features come from.
        feature_transform: `"softmax"` or `None` to choose; `"auto"` uses
            `backbone.feature_transform`, and when that is `"auto"` too, the architecture:
            `"softmax"` if it has normalization layers or residual additions, else `None`.

    Returns:
        `"softmax"` or `None`.

    Raises:
        ParameterError: Any other value.
    """
    check_choice(feature_transform, "feature_transform", FEATURE_TRANSFORMS)
    if feature_transform != "auto":
        return feature_transform
    own = getattr(backbone, "feature_transform", "auto")
    check_choice(own, "backbone.feature_transform", FEATURE_TRANSFORMS)
    if own != "auto":
        return own
    return None if _is_plain_cnn(backbone.model) else "softmax"


def softmax_features(features: tf.Tensor, temperature: tf.Tensor) -> tf.Tensor:
    """Wang et al.'s softmax over all of a layer's activations (positions and channels).

    Args:
        features: `(N, h, w, c)` activations.
        temperature: Scalar > 0; higher is smoother.

    Returns:
        `(N, h, w, c)` values averaging 1 per image.
    """
    shape = tf.shape(features)
    flat = tf.reshape(features, [shape[0], -1])
    count = tf.cast(tf.shape(flat)[1], features.dtype)
    return tf.reshape(tf.nn.softmax(flat / temperature, axis=1) * count, shape)


def transform_outputs(
    outputs: Dict[str, tf.Tensor], layers: Sequence[str], transform: Optional[str], temperature: tf.Tensor
) -> Dict[str, tf.Tensor]:
    """`outputs` with the named layers' features transformed (pixels and other keys untouched).

    Args:
        outputs: What an objective reads (layer name -> tensor).
        layers: The layers to transform.
        transform: `"softmax"` or `None` (returns `outputs` itself).
        temperature: Softmax temperature tensor.

    Returns:
        The (new) dict.
    """
    if transform != "softmax":
        return outputs
    mapped = dict(outputs)
    for name in layers:
        mapped[name] = softmax_features(outputs[name], temperature)
    return mapped


def transformed(inner: Objective, transform: Optional[str], temperature: float = 3.0) -> Objective:
    """An objective that reads softmax-transformed features (itself for `transform=None`).

    Args:
        inner: Any objective of layer features (and pixels).
        transform: `"softmax"` or `None`.
        temperature: Softmax temperature (> 0), a value of the objective (no retrace per value).

    Returns:
        The wrapped objective.
    """
    if transform is None:
        return inner
    layers = inner.layers

    def transformed_score(outputs, values):
        return inner.apply(transform_outputs(outputs, layers, transform, values[0]), values[1:])

    return objective(
        score=transformed_score, requires=inner.requires, values=(np.float32(temperature),) + inner.values,
        key=(transform, inner.key), name=f"{transform}({inner.name})", n_images=inner.n_images,
        checks=inner.checks,
    )
