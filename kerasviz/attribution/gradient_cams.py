"""Gradient-weighted CAM variants: HiResCAM and XGrad-CAM.

Both use the same compiled call as Grad-CAM (`core.feature_gradients`: a layer's activations
`A` and the gradient `G` of the target score with respect to them, cached per model and layer,
so Grad-CAM, Grad-CAM++, HiResCAM, XGrad-CAM and LayerCAM share one trace); they differ only
in how `A` and `G` are combined into a coarse map, in NumPy:

* HiResCAM (Draelos & Carin 2020): `sum_k G_k * A_k`, element-wise (no spatial averaging of the
  gradient, so the map is exactly the score's first-order contribution of each position).
* XGrad-CAM (Fu et al. 2020): channel weights `w_k = sum_ij (A_kij / sum_ij A_kij) G_kij`, the
  gradient averaged with the activations' own spatial distribution.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..targets import TargetLike
from .cam_maps import gradient_cam

__all__ = ["hires_cam", "hires_contributions", "xgrad_cam", "xgrad_weighted"]


def hires_contributions(features: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """HiResCAM's coarse map `sum_k G_k * A_k` `(N, h, w)`.

    Args:
        features: `(N, h, w, K)` activations.
        grads: `(N, h, w, K)` gradients.

    Returns:
        `(N, h, w)` maps before the ReLU.
    """
    return np.einsum("nhwk,nhwk->nhw", features, grads)


def xgrad_weighted(features: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """XGrad-CAM's coarse map `sum_k w_k A_k` with `w_k = sum_ij A_kij G_kij / sum_ij A_kij`.

    Args:
        features: `(N, h, w, K)` activations.
        grads: `(N, h, w, K)` gradients.

    Returns:
        `(N, h, w)` maps before the ReLU (a channel whose activations sum to 0 gets weight 0).
    """
    total = features.sum(axis=(1, 2))
    weighted = (features * grads).sum(axis=(1, 2))
    weights = np.where(total != 0, weighted / np.where(total != 0, total, 1.0), 0.0)
    return np.einsum("nhwk,nk->nhw", features, weights)


def hires_cam(
    model: Any,
    images: Any,
    target: Optional[TargetLike] = None,
    *,
    layer: Optional[str] = None,
    batch_size: int = 32,
    token_grid: Optional[Any] = None,
    skip_tokens: Optional[int] = None,
) -> np.ndarray:
    """HiResCAM (Draelos & Carin 2020): ReLU of the element-wise product of gradients and
    activations summed over channels, upsampled.

    Unlike Grad-CAM it does not average the gradient over positions, so for a model whose head
    is global average pooling + dense it equals CAM exactly and never highlights a position the
    score does not depend on.

    Args:
        model: A `Backbone` or a `keras.Model` taking pixels in `[0, 255]` (softmax removed).
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`, at the model's input size.
        target: Class index, one per image, callable `scores(logits) -> (N,)`, or `None` for
            each image's predicted class. Scores are logits.
        layer: A layer with a 4-D output, or a vision transformer's token layer `(N, T, C)`;
            default the backbone's `gradcam_layer`.
        batch_size: Largest batch per compiled call.
        token_grid: Token layers: the patch grid `(h, w)` (`None`: detected).
        skip_tokens: Token layers: leading class / register tokens (`None`: detected).

    Returns:
        float32 `(N, H, W)` (or `(H, W)`) in `[0, 1]`; all zeros where nothing is positive.

    Raises:
        ImageError: Invalid images.
        TargetError: Invalid target.
        LayerNotFoundError: Unknown layer.
        ModelError: The layer is not convolutional (output not 4-D); unusable model or size.
        ParameterError: Bad `batch_size`.
    """
    return gradient_cam(
        model, images, target, hires_contributions, layer=layer, batch_size=batch_size,
        token_grid=token_grid, skip_tokens=skip_tokens, technique="HiResCAM",
    )


def xgrad_cam(
    model: Any,
    images: Any,
    target: Optional[TargetLike] = None,
    *,
    layer: Optional[str] = None,
    batch_size: int = 32,
    token_grid: Optional[Any] = None,
    skip_tokens: Optional[int] = None,
) -> np.ndarray:
    """XGrad-CAM (Fu et al. 2020): channel weights are the activation-weighted mean gradient.

    Args:
        model: A `Backbone` or a `keras.Model` taking pixels in `[0, 255]` (softmax removed).
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`, at the model's input size.
        target: Class index, one per image, callable `scores(logits) -> (N,)`, or `None` for
            each image's predicted class. Scores are logits.
        layer: A layer with a 4-D output, or a vision transformer's token layer `(N, T, C)`;
            default the backbone's `gradcam_layer`.
        batch_size: Largest batch per compiled call.
        token_grid: Token layers: the patch grid `(h, w)` (`None`: detected).
        skip_tokens: Token layers: leading class / register tokens (`None`: detected).

    Returns:
        float32 `(N, H, W)` (or `(H, W)`) in `[0, 1]`; all zeros where nothing is positive.

    Raises:
        ImageError: Invalid images.
        TargetError: Invalid target.
        LayerNotFoundError: Unknown layer.
        ModelError: The layer is not convolutional (output not 4-D); unusable model or size.
        ParameterError: Bad `batch_size`.
    """
    return gradient_cam(
        model, images, target, xgrad_weighted, layer=layer, batch_size=batch_size,
        token_grid=token_grid, skip_tokens=skip_tokens, technique="XGrad-CAM",
    )
