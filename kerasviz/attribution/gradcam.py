"""Grad-CAM and Grad-CAM++: class activation maps weighted by gradients of a target score.

One compiled call (per model, layer and target kind, shared by both variants) returns the
feature maps and the gradient of the target score with respect to them; the small weighted sum
is done in NumPy, then upsampled bilinearly to the input size (`images.resize_map`) and divided
by its maximum.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Tuple

import keras
import numpy as np
import tensorflow as tf

from ..errors import ModelError
from ..features import LOGITS, FeatureModel
from ..images import resize_map
from ..targets import TargetLike
from .gradients import (
    batch_slices,
    cached,
    check_positive_int,
    pixel_signature,
    prepare_inputs,
    reduce_to_scores,
    scale_to_unit,
    squeeze,
    target_indices,
)

__all__ = ["gradcam", "gradcam_plus_plus"]


def _gradcam_weights(features: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """Grad-CAM channel weights `(N, K)`: spatial mean of the gradients."""
    return grads.mean(axis=(1, 2))


def _gradcam_plus_plus_weights(features: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """Grad-CAM++ channel weights `(N, K)` (Chattopadhay et al., closed form for an exponential
    of the score): `alpha = g^2 / (2 g^2 + sum_ab(A) g^3)`, `w = sum_ij alpha * relu(g)`. The
    common `exp(score)` factor is dropped: it scales a map, and maps are normalized."""
    squared = np.square(grads, dtype=np.float64)
    denominator = 2.0 * squared + features.sum(axis=(1, 2), keepdims=True) * squared * grads
    nonzero = denominator != 0.0
    alpha = np.where(nonzero, squared / np.where(nonzero, denominator, 1.0), 0.0)
    return (alpha * np.maximum(grads, 0.0)).sum(axis=(1, 2))


class FeatureGradients:
    """Compiled `(images, indices) -> (feature maps (N, h, w, K), d score / d feature maps)`.

    One function per (model, layer, target kind) serves Grad-CAM and Grad-CAM++.

    Attributes:
        function: The `tf.function`; its tracing count shows whether calls retrace.
    """

    def __init__(self, model: keras.Model, score_fn: Optional[Callable]) -> None:
        """Compile the feature-map gradient of a FeatureModel's `(feature map, logits)` model.

        Args:
            model: Keras model returning `{layer: (N, h, w, K), "logits": (N, C)}`.
            score_fn: Callable target on logits, or `None` for `logits[i, indices[i]]`.
        """
        layer = next(name for name in model.output if name != LOGITS)

        def feature_gradients(images, indices):
            with tf.GradientTape() as tape:
                outputs = model(images, training=False)
                features = outputs[layer]
                tape.watch(features)
                scores = reduce_to_scores(outputs[LOGITS], indices, score_fn)
            return features, tape.gradient(scores, features)

        self.function = tf.function(feature_gradients, input_signature=pixel_signature(model))

    def __call__(self, images: np.ndarray, indices: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Feature maps and their gradients for one batch (NumPy in, NumPy out)."""
        features, grads = self.function(
            tf.constant(images, tf.float32), tf.constant(indices, tf.int32)
        )
        return features.numpy(), grads.numpy()


def feature_gradients(backbone: Any, layer: str, target: Any) -> FeatureGradients:
    """The cached compiled feature-map gradient of a backbone's layer.

    Args:
        backbone: A `Backbone`.
        layer: Name of a layer with a 4-D `(N, h, w, K)` output.
        target: A resolved `Target` (its callable, if any, is compiled in).

    Returns:
        A `FeatureGradients`.

    Raises:
        LayerNotFoundError: No such layer.
        ModelError: The layer's output is not a 4-D feature map.
    """
    features = FeatureModel(backbone, [layer])
    shape = features.model.output[layer].shape
    if len(shape) != 4:
        raise ModelError(
            f"Grad-CAM needs a convolutional layer with a 4-D output (N, h, w, channels); layer "
            f"{layer!r} outputs shape {tuple(shape)}. Pick a convolutional layer (default: the "
            f"backbone's gradcam_layer {backbone.gradcam_layer!r}). Received: layer={layer!r}"
        )
    return cached(
        backbone.model,
        ("feature_gradients", layer),
        lambda: FeatureGradients(features.model, target.fn),
        target.fn,
    )


def _maps(
    model: Any,
    images: Any,
    target: Optional[TargetLike],
    layer: Optional[str],
    batch_size: int,
    plus_plus: bool,
) -> np.ndarray:
    batch_size = check_positive_int(batch_size, "batch_size")
    inputs = prepare_inputs(model, images, target, batch_size)
    backbone = inputs.backbone
    layer = backbone.gradcam_layer if layer is None else layer
    if layer is None:
        raise ModelError(
            f"{backbone.name!r} has no 4-D feature map to use for Grad-CAM; pass `layer=`. "
            "Received: layer=None"
        )
    compiled = feature_gradients(backbone, layer, inputs.target)
    weights_fn = _gradcam_plus_plus_weights if plus_plus else _gradcam_weights
    indices = target_indices(inputs)
    coarse = []
    for part in batch_slices(len(indices), batch_size):
        features, grads = compiled(inputs.images[part], indices[part])
        weights = weights_fn(features, grads)
        coarse.append(np.maximum(np.einsum("nhwk,nk->nhw", features, weights), 0.0))
    maps = scale_to_unit(resize_map(np.concatenate(coarse), inputs.images.shape[1:3]))
    return squeeze(maps, inputs.single)


def gradcam(
    model: Any,
    images: Any,
    target: Optional[TargetLike] = None,
    *,
    layer: Optional[str] = None,
    batch_size: int = 32,
) -> np.ndarray:
    """Grad-CAM (Selvaraju et al.): ReLU of the feature maps weighted by mean gradients.

    Args:
        model: A `Backbone` or a `keras.Model` taking pixels in `[0, 255]` (softmax removed).
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`, at the model's input size.
        target: Class index, one per image, callable `scores(logits) -> (N,)`, or `None` for
            each image's predicted class. Scores are logits.
        layer: A layer with a 4-D output; default the backbone's `gradcam_layer` (its last
            feature map, e.g. Lite0's `top_activation`).
        batch_size: Largest batch per compiled call.

    Returns:
        float32 `(N, H, W)` (or `(H, W)`) in `[0, 1]`: upsampled bilinearly and divided by each
        map's maximum; a map with no positive evidence is all zeros (never NaN).

    Raises:
        ImageError: Invalid images.
        TargetError: Invalid target.
        LayerNotFoundError: Unknown layer.
        ModelError: The layer is not convolutional (output not 4-D); unusable model or size.
        ParameterError: Bad `batch_size`.
    """
    return _maps(model, images, target, layer, batch_size, plus_plus=False)


def gradcam_plus_plus(
    model: Any,
    images: Any,
    target: Optional[TargetLike] = None,
    *,
    layer: Optional[str] = None,
    batch_size: int = 32,
) -> np.ndarray:
    """Grad-CAM++ (Chattopadhay et al.): pixel-wise weighted positive gradients.

    Uses the closed-form second / third-order weights for an exponential of the target score.

    Args:
        model: A `Backbone` or a `keras.Model` taking pixels in `[0, 255]` (softmax removed).
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`, at the model's input size.
        target: Class index, one per image, callable `scores(logits) -> (N,)`, or `None` for
            each image's predicted class.
        layer: A layer with a 4-D output; default the backbone's `gradcam_layer`.
        batch_size: Largest batch per compiled call.

    Returns:
        float32 `(N, H, W)` (or `(H, W)`) in `[0, 1]`; all zeros where nothing is positive.

    Raises:
        ImageError: Invalid images.
        TargetError: Invalid target.
        LayerNotFoundError: Unknown layer.
        ModelError: The layer is not convolutional (output not 4-D); unusable model or size.
        ParameterError: Bad `batch_size`.
    """
    return _maps(model, images, target, layer, batch_size, plus_plus=True)
