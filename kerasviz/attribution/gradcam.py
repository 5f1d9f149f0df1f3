"""Grad-CAM and Grad-CAM++: class activation maps weighted by gradients of a target score.

One compiled call (`core.feature_gradients`, per model, layer and target kind, shared by both
variants and by the rest of the CAM family) returns the feature maps and the gradient of the
target score with respect to them; this module holds only the two channel-weight formulas, and
`cam_maps.gradient_cam` does the weighted sum, ReLU, upsampling and division by the maximum.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .cam_maps import Combine
from .cam_surface import gradient_cam_function

__all__ = [
    "channel_weights_combine",
    "gradcam",
    "gradcam_plus_plus",
    "gradcam_plus_plus_weights",
    "gradcam_weights",
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


gradcam = gradient_cam_function(
    "gradcam", channel_weights_combine(gradcam_weights),
    "Grad-CAM (Selvaraju et al.): ReLU of the feature maps weighted by mean gradients.",
    warn_unreached=True,
)

gradcam_plus_plus = gradient_cam_function(
    "gradcam_plus_plus", channel_weights_combine(gradcam_plus_plus_weights),
    """Grad-CAM++ (Chattopadhay et al.): pixel-wise weighted positive gradients.

    Uses the closed-form second / third-order weights for an exponential of the target score.""",
    warn_unreached=True,
)
