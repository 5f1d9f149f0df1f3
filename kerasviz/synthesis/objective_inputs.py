"""What an objective reads: the outputs dict of a FeatureModel plus the scored pixels.

An objective's score function gets a dict of tensors: each layer it reads (layer name ->
tensor), `"logits"` where it reads class scores, and `"pixels"` (`PIXELS`): the image batch
being scored, float32 `(N, H, W, 3)` in `[0, 255]`. This module builds that dict
(`objective_outputs`), reduces a batch-first tensor to one score per image (`per_image_mean`),
and validates the layer names objective constructors are given (`layer_argument`).
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import tensorflow as tf

from ..errors import ParameterError
from ..features import LOGITS, FeatureModel

__all__ = ["PIXELS", "objective_outputs", "per_image_mean", "layer_argument"]

#: Key of the scored image batch (float32 pixels in `[0, 255]`) in an objective's outputs.
PIXELS = "pixels"


def per_image_mean(values: tf.Tensor) -> tf.Tensor:
    """Mean over every axis but the first: `(N, ...)` -> `(N,)` (a per-image score).

    Args:
        values: A batch-first tensor `(N, ...)` of any dtype `tf.reduce_mean` accepts.

    Returns:
        `(N,)` tensor of means.
    """
    return tf.reduce_mean(tf.reshape(values, (tf.shape(values)[0], -1)), axis=1)


def layer_argument(layer: Any) -> str:
    """Validate a layer name given to an objective constructor.

    Args:
        layer: The name.

    Returns:
        The name.

    Raises:
        ParameterError: Not a non-empty string, or one of the reserved keys.
    """
    if not isinstance(layer, str) or not layer or layer in (LOGITS, PIXELS):
        raise ParameterError(
            f"A layer is given by its name (a non-empty string other than {LOGITS!r} / {PIXELS!r}); "
            f"`kerasviz.layer_names(model)` lists them. Received: layer={layer!r}"
        )
    return layer


def objective_outputs(features: Optional[FeatureModel], images: tf.Tensor) -> Dict[str, tf.Tensor]:
    """Run a FeatureModel and add the images under `"pixels"`: what an objective reads.

    Args:
        features: The FeatureModel built by `Objective.feature_model` (`None`: pixels only).
        images: float32 tensor `(N, H, W, 3)` in `[0, 255]`.

    Returns:
        Dict of tensors: every layer of `features`, `"logits"` if built with them, `"pixels"`.
    """
    outputs = {} if features is None else dict(features(images))
    outputs[PIXELS] = images
    return outputs
