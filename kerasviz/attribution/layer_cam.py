"""LayerCAM (Jiang et al. 2021): position-wise positive gradients weight the activations, so the
map stays faithful on shallow layers (fine, high-resolution maps); several layers fuse into one.

Each layer is one call of the shared compiled feature gradient (`core.feature_gradients`, the
same trace as Grad-CAM on that layer).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import numpy as np

from ..checks import check_int, check_names, check_number
from ..images import resize_map
from ..targets import TargetLike
from .cam_maps import gradient_coarse_maps, resolve_layer
from .cam_surface import documented_cam
from .inputs import prepare_inputs, scale_to_unit, squeeze

__all__ = ["layer_cam", "layer_cam_contributions"]


def layer_cam_contributions(features: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """LayerCAM's coarse map `sum_k relu(G_k) * A_k` `(N, h, w)`.

    Args:
        features: `(N, h, w, K)` activations.
        grads: `(N, h, w, K)` gradients.

    Returns:
        `(N, h, w)` maps before the final ReLU.
    """
    return np.einsum("nhwk,nhwk->nhw", features, np.maximum(grads, 0.0))


@documented_cam(
    """LayerCAM: ReLU of `sum_k relu(dScore/dA_k) * A_k`, for one layer or fused over several.

    With several layers (e.g. the last layer of each stage), each layer's map is upsampled,
    divided by its maximum and scaled by `tanh(gamma * map)` (the paper's scaling that lifts the
    weak but precise maps of shallow layers), then fused by the element-wise maximum.""",
    extra_args="""\
    gamma: Scaling of each map before fusion, `> 0` (only used with several layers).
""",
    extra_raises=', `gamma` or layer list',
    layer="""\
    layer: A layer with a 4-D output, a list of them to fuse, or `None` for the backbone's
        `gradcam_layer`.
""",
    returns="""\
    float32 `(N, H, W)` (or `(H, W)`) in `[0, 1]`; all zeros where nothing is positive.
""",
)
def layer_cam(
    model: Any,
    images: Any,
    target: Optional[TargetLike] = None,
    *,
    layer: Union[None, str, Sequence[str]] = None,
    batch_size: int = 32,
    gamma: float = 2.0,
    token_grid: Optional[Any] = None,
    skip_tokens: Optional[int] = None,
) -> np.ndarray:
    batch_size = check_int(batch_size, "batch_size", low=1)
    gamma = check_number(gamma, "gamma", low=0.0, open_low=True)
    inputs = prepare_inputs(model, images, target, batch_size, technique="LayerCAM")
    layers = (
        (resolve_layer(inputs.backbone, None, "LayerCAM"),)
        if layer is None
        else check_names(layer, "layer")
    )
    fused = None
    for name in layers:
        coarse, _ = gradient_coarse_maps(
            inputs, name, layer_cam_contributions, batch_size=batch_size,
            token_grid=token_grid, skip_tokens=skip_tokens,
        )
        maps = scale_to_unit(resize_map(coarse, inputs.images.shape[1:3]))
        if len(layers) > 1:
            maps = np.tanh(gamma * maps)
            fused = maps if fused is None else np.maximum(fused, maps)
        else:
            fused = maps
    return squeeze(scale_to_unit(fused), inputs.single)
