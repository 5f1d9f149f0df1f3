"""The steps every CAM shares: which layer, coarse maps from a layer's gradients, per-image
channel weights, and the way back to the image (ReLU, bilinear upsampling, division by the max).

Each CAM module keeps only what makes it different: its channel weights (Grad-CAM, Grad-CAM++,
XGrad-CAM, Ablation-CAM, Score-CAM) or its coarse map (HiResCAM, LayerCAM, Eigen-CAM).
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, List, Optional, Tuple

import numpy as np
import tensorflow as tf

from ..checks import check_int
from ..errors import ModelError
from ..graph_nodes import opaque_models
from ..images import resize_map
from ..progress import progress_bar
from ..targets import TargetLike
from .inputs import AttributionInputs, prepare_inputs, scale_to_unit, squeeze, target_indices
from .layer_gradients import feature_gradients

__all__ = [
    "ALL_CHANNELS",
    "Combine",
    "cam_inputs",
    "channel_signature",
    "channel_weighted",
    "gradient_cam",
    "gradient_coarse_maps",
    "resolve_layer",
    "scored_channel_maps",
    "unit_maps",
]

Combine = Callable[[np.ndarray, np.ndarray], np.ndarray]

ALL_CHANNELS = 2**31 - 1
"""The channel count meaning "every channel" for the compiled per-channel scorers."""


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


def cam_inputs(
    model: Any, images: Any, target: Optional[TargetLike], layer: Optional[str], batch_size: Any, technique: str
) -> Tuple[AttributionInputs, str, int]:
    """A CAM's checked inputs: prepared images and target, the layer it explains, the batch size.

    Args:
        model: A `Backbone` or a pixels-in `keras.Model`.
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`.
        target: Class index, one per image, callable on logits, or `None` (predicted class).
        layer: A layer name, or `None` for the backbone's `gradcam_layer`.
        batch_size: Largest batch per compiled call, `>= 1`.
        technique: The caller's name, for messages.

    Returns:
        `(inputs, layer name, batch_size)`.

    Raises:
        ImageError, TargetError, ModelError, ParameterError: As `gradcam`.
    """
    batch_size = check_int(batch_size, "batch_size", low=1)
    inputs = prepare_inputs(model, images, target, batch_size, technique=technique)
    return inputs, resolve_layer(inputs.backbone, layer, technique), batch_size


def channel_weighted(features: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ReLU of the activations summed over channels with per-channel weights.

    Args:
        features: `(..., h, w, K)` activations (one image or a batch).
        weights: `(..., K)` channel weights (matching leading axes).

    Returns:
        `(..., h, w)` maps, `>= 0`.
    """
    return np.maximum(np.einsum("...hwk,...k->...hw", features, weights), 0.0)


def unit_maps(coarse: np.ndarray, inputs: AttributionInputs) -> np.ndarray:
    """Coarse maps upsampled bilinearly to the images, divided by their max, squeezed.

    Args:
        coarse: `(N, h, w)` maps, `>= 0`.
        inputs: The prepared inputs they explain.

    Returns:
        float32 `(N, H, W)` (or `(H, W)` for one unbatched image) in `[0, 1]`.
    """
    return squeeze(scale_to_unit(resize_map(coarse, inputs.images.shape[1:3])), inputs.single)


def gradient_coarse_maps(
    inputs: AttributionInputs,
    layer: str,
    combine: Combine,
    *,
    batch_size: int,
    token_grid: Optional[Any] = None,
    skip_tokens: Optional[int] = None,
) -> Tuple[np.ndarray, bool]:
    """ReLU of `combine(activations, gradients)` of one layer, over every image in batches.

    Args:
        inputs: Prepared inputs (`prepare_inputs`).
        layer: A feature-map or token layer.
        combine: `(activations (B, h, w, K), gradients (B, h, w, K)) -> (B, h, w)`.
        batch_size: Largest batch per compiled call.
        token_grid: Token layers: patch grid `(h, w)` (`None`: detected).
        skip_tokens: Token layers: leading class / register tokens (`None`: detected).

    Returns:
        `(coarse (N, h, w) >= 0, reached)`: `reached` is False when every gradient is zero.
    """
    coarse, reached = [], False
    for _, features, grads in feature_gradients(
        inputs.backbone, layer, inputs.images, inputs.target, batch_size=batch_size,
        token_grid=token_grid, skip_tokens=skip_tokens,
    ):
        reached = reached or bool(np.any(grads))
        coarse.append(np.maximum(combine(features, grads), 0.0))
    return np.concatenate(coarse), reached


def gradient_cam(
    model: Any,
    images: Any,
    target: Optional[TargetLike],
    combine: Combine,
    *,
    layer: Optional[str] = None,
    batch_size: int = 32,
    token_grid: Optional[Any] = None,
    skip_tokens: Optional[int] = None,
    technique: str = "Grad-CAM",
    warn_unreached: bool = False,
) -> np.ndarray:
    """A gradient CAM: ReLU of `combine(activations, gradients)`, upsampled, divided by its max.

    Args:
        model: A `Backbone` or a pixels-in `keras.Model`.
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`.
        target: Class index, one per image, callable on logits, or `None` (predicted class).
        combine: `(activations (B, h, w, K), gradients (B, h, w, K)) -> (B, h, w)` coarse maps.
        layer: A feature-map or token layer, or `None` for the backbone's `gradcam_layer`.
        batch_size: Largest batch per compiled call.
        token_grid: Token layers: patch grid `(h, w)` (`None`: detected).
        skip_tokens: Token layers: leading class / register tokens (`None`: detected).
        technique: The caller's name, for messages.
        warn_unreached: Warn when the score's gradient at the layer is zero for every image.

    Returns:
        float32 `(N, H, W)` (or `(H, W)`) in `[0, 1]`; all zeros where nothing is positive.

    Warns:
        UserWarning: With `warn_unreached`, every gradient is zero (all maps zero).

    Raises:
        ImageError, TargetError, LayerNotFoundError, ModelError, ParameterError: As `gradcam`.
    """
    inputs, layer, batch_size = cam_inputs(model, images, target, layer, batch_size, technique)
    coarse, reached = gradient_coarse_maps(
        inputs, layer, combine, batch_size=batch_size, token_grid=token_grid,
        skip_tokens=skip_tokens,
    )
    if warn_unreached and not reached:
        warnings.warn(
            f"{technique}: the target score's gradient with respect to layer {layer!r} is zero "
            "for every image, so every map is zero. The score does not depend on this layer "
            "(on a vision transformer, tokens after the last attention reach the head only "
            "through the class token): pick an earlier layer.",
            stacklevel=4,
        )
    return unit_maps(coarse, inputs)


def channel_signature(backbone: Any) -> List[tf.TensorSpec]:
    """Input signature of the per-image channel scorers: `(image (H, W, 3), index, count)`.

    Args:
        backbone: A `Backbone` with a fixed input size.

    Returns:
        Three `tf.TensorSpec`s: float32 image, int32 class index, int32 channel count.
    """
    height, width = backbone.model.inputs[0].shape[1:3]
    return [
        tf.TensorSpec((height, width, 3), tf.float32, name="image"),
        tf.TensorSpec((), tf.int32, name="index"),
        tf.TensorSpec((), tf.int32, name="count"),
    ]


def scored_channel_maps(
    inputs: AttributionInputs,
    weigh: Callable[[np.ndarray, int], Tuple[np.ndarray, np.ndarray]],
    *,
    desc: str,
    progress: Optional[bool] = None,
) -> np.ndarray:
    """Per-image channel weights (from a compiled scorer) applied to the activations, upsampled.

    Args:
        inputs: Prepared inputs (`prepare_inputs`).
        weigh: `(image (H, W, 3), class index) -> (weights (K,), activations (h, w, K))`.
        desc: Progress-bar label.
        progress: Show a progress bar over images (`None`: global setting).

    Returns:
        float32 `(N, H, W)` (or `(H, W)`) in `[0, 1]`; all zeros where nothing is positive.
    """
    coarse = []
    with progress_bar(total=len(inputs.images), desc=desc, progress=progress) as bar:
        for image, index in zip(inputs.images, target_indices(inputs)):
            weights, activations = weigh(image, int(index))
            coarse.append(channel_weighted(activations, weights))
            bar.update(1)
    return unit_maps(np.stack(coarse), inputs)
