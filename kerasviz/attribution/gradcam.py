"""Grad-CAM and Grad-CAM++: class activation maps weighted by gradients of a target score.

One compiled call (`core.feature_gradients`, per model, layer and target kind, shared by both
variants and by the rest of the CAM family) returns the feature maps and the gradient of the target score with respect to them; the small weighted sum
is done in NumPy, then upsampled bilinearly to the input size (`images.resize_map`) and divided
by its maximum.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Optional

import numpy as np

from ..checks import check_int
from ..errors import ModelError
from ..features import opaque_models
from ..images import resize_map
from ..targets import TargetLike
from .core import feature_gradients, prepare_inputs, scale_to_unit, squeeze

__all__ = [
    "gradcam",
    "gradcam_plus_plus",
    "gradcam_plus_plus_weights",
    "gradcam_weights",
    "resolve_layer",
    "weighted_maps",
]


def gradcam_weights(features: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """Grad-CAM channel weights: the spatial mean of the gradients.

    Args:
        features: `(N, h, w, K)` activations.
        grads: `(N, h, w, K)` gradients of the score with respect to them.

    Returns:
        `(N, K)` weights.
    """
    return grads.mean(axis=(1, 2))


def gradcam_plus_plus_weights(features: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """Grad-CAM++ channel weights (Chattopadhay et al., closed form for an exponential of the
    score): `alpha = g^2 / (2 g^2 + sum_ab(A) g^3)`, `w = sum_ij alpha * relu(g)`. The common
    `exp(score)` factor is dropped: it scales a map, and maps are normalized.

    Args:
        features: `(N, h, w, K)` activations.
        grads: `(N, h, w, K)` gradients of the score with respect to them.

    Returns:
        `(N, K)` weights.
    """
    squared = np.square(grads, dtype=np.float64)
    denominator = 2.0 * squared + features.sum(axis=(1, 2), keepdims=True) * squared * grads
    nonzero = denominator != 0.0
    alpha = np.where(nonzero, squared / np.where(nonzero, denominator, 1.0), 0.0)
    return (alpha * np.maximum(grads, 0.0)).sum(axis=(1, 2))


def weighted_maps(
    model: Any,
    images: Any,
    target: Optional[TargetLike],
    weights_fn: Callable[[np.ndarray, np.ndarray], np.ndarray],
    *,
    layer: Optional[str] = None,
    batch_size: int = 32,
    token_grid: Optional[Any] = None,
    skip_tokens: Optional[int] = None,
    technique: str = "Grad-CAM",
) -> np.ndarray:
    """A CAM: ReLU of the layer's activations weighted per channel by `weights_fn`, upsampled.

    Args:
        model: A `Backbone` or a pixels-in `keras.Model`.
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`.
        target: Class index, one per image, callable on logits, or `None` (predicted class).
        weights_fn: `(activations (N, h, w, K), gradients) -> (N, K)` channel weights.
        layer: A feature-map or token layer, or `None` for the backbone's `gradcam_layer`.
        batch_size: Largest batch per compiled call.
        token_grid: Token layers: patch grid `(h, w)` (`None`: detected).
        skip_tokens: Token layers: leading class / register tokens (`None`: detected).
        technique: The caller's name, for messages.

    Returns:
        float32 `(N, H, W)` (or `(H, W)`) in `[0, 1]`.

    Warns:
        UserWarning: The score's gradient at the layer is zero for every image (all maps zero).

    Raises:
        ImageError, TargetError, LayerNotFoundError, ModelError, ParameterError: As `gradcam`.
    """
    batch_size = check_int(batch_size, "batch_size", low=1)
    inputs = prepare_inputs(model, images, target, batch_size, technique=technique)
    layer = resolve_layer(inputs.backbone, layer, technique)
    coarse, reached = [], False
    for _, features, grads in feature_gradients(
        inputs.backbone, layer, inputs.images, inputs.target, batch_size=batch_size,
        token_grid=token_grid, skip_tokens=skip_tokens,
    ):
        reached = reached or bool(np.any(grads))
        weights = weights_fn(features, grads)
        coarse.append(np.maximum(np.einsum("nhwk,nk->nhw", features, weights), 0.0))
    if not reached:
        warnings.warn(
            f"{technique}: the target score's gradient with respect to layer {layer!r} is zero "
            "for every image, so every map is zero. The score does not depend on this layer "
            "(on a vision transformer, tokens after the last attention reach the head only "
            "through the class token): pick an earlier layer.",
            stacklevel=3,
        )
    maps = scale_to_unit(resize_map(np.concatenate(coarse), inputs.images.shape[1:3]))
    return squeeze(maps, inputs.single)


def resolve_layer(backbone: Any, layer: Optional[str], technique: str = "Grad-CAM") -> str:
    """The layer a CAM explains: `layer`, or the backbone's default `gradcam_layer`.

    Args:
        backbone: A `Backbone`.
        layer: A layer name or `None`.
        technique: The caller's name, for messages.

    Returns:
        The layer name.

    Raises:
        ModelError: No layer given and the backbone has no feature map (or its layers are
            hidden in a subclassed model).
    """
    layer = backbone.gradcam_layer if layer is None else layer
    hidden = opaque_models(backbone.model)
    if layer is None and hidden:
        raise ModelError(
            f"{technique} needs a layer inside the model, but {hidden} are subclassed models (a "
            "`call` method, no layer graph). Build the network with the functional API, or use "
            "a technique that needs only the output (saliency, smoothgrad, integrated_gradients, "
            "gradient_x_input, occlusion). Received: layer=None"
        )
    if layer is None:
        raise ModelError(
            f"{backbone.name!r} has no 4-D feature map to use for {technique}; pass `layer=`. "
            "Received: layer=None"
        )
    return layer


def gradcam(
    model: Any,
    images: Any,
    target: Optional[TargetLike] = None,
    *,
    layer: Optional[str] = None,
    batch_size: int = 32,
    token_grid: Optional[Any] = None,
    skip_tokens: Optional[int] = None,
) -> np.ndarray:
    """Grad-CAM (Selvaraju et al.): ReLU of the feature maps weighted by mean gradients.

    Args:
        model: A `Backbone` or a `keras.Model` taking pixels in `[0, 255]` (softmax removed).
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`, at the model's input size.
        target: Class index, one per image, callable `scores(logits) -> (N,)`, or `None` for
            each image's predicted class. Scores are logits.
        layer: A layer with a 4-D output, or a token layer `(N, tokens, C)` of a vision
            transformer; default the backbone's `gradcam_layer` (its last feature map, e.g.
            Lite0's `top_activation`). On a ViT pick a token layer whose patch tokens still
            reach the class token (the input of the last attention block), not the final norm.
        batch_size: Largest batch per compiled call.
        token_grid: For a token layer `(N, T, C)` of a vision transformer: its patch grid
            `(h, w)`; `None` detects a square grid after up to 16 leading tokens.
        skip_tokens: For a token layer: leading class / register tokens to drop (`None`:
            detected, or `T - h * w` with `token_grid`).

    Returns:
        float32 `(N, H, W)` (or `(H, W)`) in `[0, 1]`: upsampled bilinearly and divided by each
        map's maximum; a map with no positive evidence is all zeros (never NaN).

    Raises:
        ImageError: Invalid images.
        TargetError: Invalid target.
        LayerNotFoundError: Unknown layer.
        ModelError: The layer is neither a 4-D feature map nor a token layer with a patch grid;
            a headless or subclassed model; unusable image size.
        ParameterError: Bad `batch_size`; token options for a feature-map layer.
    """
    return weighted_maps(
        model, images, target, gradcam_weights, layer=layer, batch_size=batch_size,
        token_grid=token_grid, skip_tokens=skip_tokens, technique="gradcam",
    )


def gradcam_plus_plus(
    model: Any,
    images: Any,
    target: Optional[TargetLike] = None,
    *,
    layer: Optional[str] = None,
    batch_size: int = 32,
    token_grid: Optional[Any] = None,
    skip_tokens: Optional[int] = None,
) -> np.ndarray:
    """Grad-CAM++ (Chattopadhay et al.): pixel-wise weighted positive gradients.

    Uses the closed-form second / third-order weights for an exponential of the target score.

    Args:
        model: A `Backbone` or a `keras.Model` taking pixels in `[0, 255]` (softmax removed).
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`, at the model's input size.
        target: Class index, one per image, callable `scores(logits) -> (N,)`, or `None` for
            each image's predicted class.
        layer: A layer with a 4-D output or a token layer; default the backbone's
            `gradcam_layer`.
        batch_size: Largest batch per compiled call.
        token_grid: For a token layer `(N, T, C)` of a vision transformer: its patch grid
            `(h, w)`; `None` detects a square grid after up to 16 leading tokens.
        skip_tokens: For a token layer: leading class / register tokens to drop (`None`:
            detected, or `T - h * w` with `token_grid`).

    Returns:
        float32 `(N, H, W)` (or `(H, W)`) in `[0, 1]`; all zeros where nothing is positive.

    Raises:
        ImageError: Invalid images.
        TargetError: Invalid target.
        LayerNotFoundError: Unknown layer.
        ModelError: The layer is neither a 4-D feature map nor a token layer with a patch grid;
            a headless or subclassed model; unusable image size.
        ParameterError: Bad `batch_size`; token options for a feature-map layer.
    """
    return weighted_maps(
        model, images, target, gradcam_plus_plus_weights, layer=layer, batch_size=batch_size,
        token_grid=token_grid, skip_tokens=skip_tokens, technique="gradcam_plus_plus",
    )
