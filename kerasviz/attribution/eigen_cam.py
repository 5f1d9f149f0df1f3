"""Eigen-CAM (Muhammad & Yeasin 2020): the first principal component of a layer's activations.

Class-agnostic and gradient-free: the activations `(h * w, K)` of each image are centred over
positions and projected on their first right singular vector; the projection, as an `(h, w)`
map, is what the layer "sees most". The activations come from one cached compiled forward pass
per (model, layer).
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np
import tensorflow as tf

from ..backbones import as_backbone
from ..checks import check_int
from ..compiled import batch_slices, cached
from ..errors import ModelError
from ..features import FeatureModel
from ..images import as_image_batch, normalize_map, resize_map
from ..targets import TargetLike, resolve_target
from ..tokens import token_grid, tokens_to_maps
from .cam_maps import resolve_layer
from .cam_surface import documented_cam
from .inputs import squeeze
from .layer_gradients import map_layer_tokens

__all__ = ["activation_function", "activation_shape", "eigen_cam", "first_component"]


def activation_function(
    backbone: Any, layer: str, *, grid: Optional[Any] = None, skip_tokens: Optional[int] = None
) -> Any:
    """The cached compiled forward `pixels (B, H, W, 3) -> activations (B, h, w, K)` of a layer.

    Args:
        backbone: A `Backbone`.
        layer: Name of a layer with a 4-D output, or a token layer `(N, T, C)` of a vision
            transformer (returned as maps of its patch tokens).
        grid: Token layers: the patch grid `(h, w)`; `None` detects it.
        skip_tokens: Token layers: leading class / register tokens; `None` detects them.

    Returns:
        A `tf.function` with a fixed input signature (its tracing count shows retraces).

    Raises:
        LayerNotFoundError: No such layer.
        ModelError: The layer's output is neither 4-D nor tokens on a patch grid.
        ParameterError: `grid` / `skip_tokens` given for a feature-map layer.
    """
    features = FeatureModel(backbone, [layer], logits=False).model
    tokens = map_layer_tokens(tuple(features.output[layer].shape), layer, grid, skip_tokens)
    pixels = tuple(backbone.model.inputs[0].shape[1:])

    def build():
        @tf.function(input_signature=[tf.TensorSpec((None, *pixels), tf.float32)])
        def activations(images):
            output = features(images, training=False)[layer]
            return output if tokens is None else tokens_to_maps(output, tokens)

        return activations

    return cached(backbone.model, ("layer_activations", layer, tokens), build)


def activation_shape(
    backbone: Any, layer: str, *, grid: Optional[Any] = None, skip_tokens: Optional[int] = None
) -> Tuple[int, int]:
    """`(h, w)` of a layer's activation maps at the backbone's input size.

    Args:
        backbone: A `Backbone` with a fixed input size.
        layer: Name of a layer with a 4-D output, or a token layer.
        grid: Token layers: the patch grid `(h, w)`; `None` detects it.
        skip_tokens: Token layers: leading class / register tokens; `None` detects them.

    Returns:
        `(h, w)` ints.

    Raises:
        ModelError: The spatial size is not fixed (a model taking any image size).
    """
    shape = tuple(FeatureModel(backbone, [layer], logits=False).model.output[layer].shape)
    if len(shape) == 3:
        tokens = token_grid(shape, grid=grid, skip_tokens=skip_tokens, layer=layer)
        return tokens.height, tokens.width
    if shape[1] is None or shape[2] is None:
        raise ModelError(
            f"Layer {layer!r} has no fixed spatial size (output shape {shape}); give the "
            f"model a fixed input size. Received: layer={layer!r}"
        )
    return int(shape[1]), int(shape[2])


def first_component(activations: np.ndarray) -> np.ndarray:
    """Projection of each image's centred activations on their first principal direction.

    The sign (which an SVD leaves free) is chosen so the map correlates positively with the
    summed activations: the component points where the layer is active.

    Args:
        activations: `(N, h, w, K)`.

    Returns:
        float64 `(N, h, w)` projections.
    """
    n, h, w, k = activations.shape
    maps = np.zeros((n, h, w))
    for i, a in enumerate(activations.reshape(n, h * w, k).astype(np.float64)):
        centred = a - a.mean(axis=0)
        if not np.any(centred):
            continue
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        projection = centred @ vt[0]
        if np.dot(projection, a.sum(axis=1) - a.sum(axis=1).mean()) < 0:
            projection = -projection
        maps[i] = projection.reshape(h, w)
    return maps


@documented_cam(
    """Eigen-CAM: the first principal component of the layer's activations, upsampled.

    Class-agnostic: `target` is validated but does not change the map (it is accepted so that
    Eigen-CAM fits wherever a CAM with the Grad-CAM signature does).""",
    layer="""\
    layer: A layer with a 4-D output, or a vision transformer's token layer `(N, T, C)`;
        default the backbone's `gradcam_layer`.
""",
    returns="""\
    float32 `(N, H, W)` (or `(H, W)`) in `[0, 1]`, min-max normalized per map (a constant
    map is all zeros).
""",
)
def eigen_cam(
    model: Any,
    images: Any,
    target: Optional[TargetLike] = None,
    *,
    layer: Optional[str] = None,
    batch_size: int = 32,
    token_grid: Optional[Any] = None,
    skip_tokens: Optional[int] = None,
) -> np.ndarray:
    batch_size = check_int(batch_size, "batch_size", low=1)
    backbone = as_backbone(model)
    batch, single = as_image_batch(images)
    backbone.check_size(batch.shape[1:3])
    resolve_target(target, len(batch), None, allow_none=True)
    forward = activation_function(
        backbone, resolve_layer(backbone, layer, "Eigen-CAM"), grid=token_grid,
        skip_tokens=skip_tokens,
    )
    coarse = [
        first_component(forward(tf.constant(batch[part], tf.float32)).numpy())
        for part in batch_slices(len(batch), batch_size)
    ]
    maps = normalize_map(resize_map(np.concatenate(coarse), batch.shape[1:3]))
    return squeeze(maps, single)
