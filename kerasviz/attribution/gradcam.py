"""Grad-CAM and Grad-CAM++: class activation maps weighted by gradients of a target score.

One compiled call (`core.feature_gradients`, per model, layer and target kind, shared by both
variants and by the rest of the CAM family) returns the feature maps and the gradient of the
target score with respect to them; this module holds only the two channel-weight formulas, and
`cam_maps.gradient_cam` does the weighted sum, ReLU, upsampling and division by the maximum.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from ..targets import TargetLike
from .cam_maps import Combine, gradient_cam, resolve_layer

__all__ = [
    "channel_weights_combine",
    "gradcam",
    "gradcam_plus_plus",
    "gradcam_plus_plus_weights",
    "gradcam_weights",
    "resolve_layer",
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


def channel_weights_combine(weights_fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Combine:
    """A coarse-map function `sum_k w_k A_k` from a channel-weight function.

    Args:
        weights_fn: `(activations (N, h, w, K), gradients) -> (N, K)` channel weights.

    Returns:
        `(activations, gradients) -> (N, h, w)` maps before the ReLU.
    """
    return lambda features, grads: np.einsum("nhwk,nk->nhw", features, weights_fn(features, grads))


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
    return gradient_cam(
        model, images, target, channel_weights_combine(gradcam_weights), layer=layer,
        batch_size=batch_size, token_grid=token_grid, skip_tokens=skip_tokens,
        technique="gradcam", warn_unreached=True,
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
    return gradient_cam(
        model, images, target, channel_weights_combine(gradcam_plus_plus_weights), layer=layer,
        batch_size=batch_size, token_grid=token_grid, skip_tokens=skip_tokens,
        technique="gradcam_plus_plus", warn_unreached=True,
    )
