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

import numpy as np

from .cam_surface import gradient_cam_function

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


hires_cam = gradient_cam_function(
    "hires_cam", hires_contributions,
    """HiResCAM (Draelos & Carin 2020): ReLU of the element-wise product of gradients and
    activations summed over channels, upsampled.

    Unlike Grad-CAM it does not average the gradient over positions, so for a model whose head
    is global average pooling + dense it equals CAM exactly and never highlights a position the
    score does not depend on.""",
)

xgrad_cam = gradient_cam_function(
    "xgrad_cam", xgrad_weighted,
    "XGrad-CAM (Fu et al. 2020): channel weights are the activation-weighted mean gradient.",
)
