"""Gradients at a layer: the activations of a feature-map or token layer and the gradient of
the target score with respect to them, compiled once per (model, layer, target kind) and run in
batches. Grad-CAM and the whole CAM family stand on `feature_gradients`.
"""

from __future__ import annotations

from typing import Any, Iterator, Optional, Tuple

import numpy as np

from ..backbones import Backbone, as_backbone
from ..compiled import batch_slices, cached
from ..errors import ModelError, ParameterError
from ..features import FeatureModel
from ..targets import Target
from ..tokens import TokenGrid, token_grid
from .core import ScoreGradient

__all__ = ["feature_gradient_function", "feature_gradients", "map_layer_tokens"]


def feature_gradient_function(
    backbone: Backbone,
    layer: str,
    target: Target,
    *,
    grid: Optional[Any] = None,
    skip_tokens: Optional[int] = None,
) -> ScoreGradient:
    """The cached compiled layer gradient of a backbone (one per model, layer, grid, target kind).

    Args:
        backbone: A `Backbone`.
        layer: Name of a layer (or operation node) with a feature-map output `(N, h, w, K)`, or
            a token layer `(N, T, K)` of a vision transformer.
        target: A resolved `Target` (its callable, if any, is compiled in).
        grid: Token layers only: the patch grid `(h, w)`; `None` detects it.
        skip_tokens: Token layers only: leading class / register tokens; `None` detects them.

    Returns:
        A `ScoreGradient` with respect to the layer's activations (token layers as maps).

    Raises:
        LayerNotFoundError: No such layer.
        ModelError: The layer's output is neither a 4-D feature map nor tokens with a patch
            grid, or the model's layers cannot be reached (subclassed).
        ParameterError: `grid` / `skip_tokens` given for a feature-map layer.
    """
    features = FeatureModel(backbone, [layer])
    tokens = map_layer_tokens(
        tuple(features.model.output[layer].shape), layer, grid, skip_tokens,
        subject="Grad-CAM needs",
        hint=f" Pick such a layer (default: the backbone's gradcam_layer "
        f"{backbone.gradcam_layer!r}).",
    )
    return cached(
        backbone.model,
        ("feature_gradients", layer, tokens),
        lambda: ScoreGradient(features.model, target.fn, layer=layer, grid=tokens),
        target.fn,
    )


def map_layer_tokens(
    shape: Tuple[Any, ...],
    layer: str,
    grid: Optional[Any],
    skip_tokens: Optional[int],
    *,
    subject: str = "CAMs need",
    hint: str = "",
) -> Optional[TokenGrid]:
    """Check that a layer's output is a feature map or tokens on a patch grid.

    Args:
        shape: The layer's output shape, `(N, h, w, K)` or `(N, T, C)`.
        layer: Its name, for messages.
        grid: Token layers: the patch grid `(h, w)`; `None` detects it.
        skip_tokens: Token layers: leading class / register tokens; `None` detects them.
        subject: Start of the error message (who needs the layer).
        hint: Sentence added to the shape error.

    Returns:
        The `TokenGrid` of a token layer, `None` for a 4-D feature map.

    Raises:
        ModelError: Neither 4-D nor tokens with a patch grid.
        ParameterError: `grid` / `skip_tokens` given for a feature-map layer.
    """
    if len(shape) == 3:
        return token_grid(shape, grid=grid, skip_tokens=skip_tokens, layer=layer)
    if len(shape) != 4:
        raise ModelError(
            f"{subject} a convolutional layer with a 4-D output (N, h, w, channels) or a "
            f"token layer (N, tokens, channels); layer {layer!r} outputs shape {shape}.{hint} "
            f"Received: layer={layer!r}"
        )
    if grid is not None or skip_tokens is not None:
        raise ParameterError(
            f"`token_grid` and `skip_tokens` apply to token layers (N, tokens, C); layer "
            f"{layer!r} is a feature map {shape}. Received: token_grid={grid!r}, "
            f"skip_tokens={skip_tokens!r}"
        )
    return None


def feature_gradients(
    model: Any,
    layer: str,
    images: np.ndarray,
    target: Any,
    *,
    batch_size: int = 32,
    token_grid: Optional[Any] = None,
    skip_tokens: Optional[int] = None,
) -> Iterator[Tuple[slice, np.ndarray, np.ndarray]]:
    """Activations of `layer` and the gradient of the target score with respect to them.

    Args:
        model: A `Backbone` or a pixels-in `keras.Model`.
        layer: Name of a layer with a 4-D output, or a token layer `(N, T, C)`.
        images: float32 `(N, H, W, 3)` validated pixels (see `prepare_inputs`).
        target: A resolved `Target`, or `(N,)` int class indices.
        batch_size: Largest batch per compiled call.
        token_grid: Token layers: the patch grid `(h, w)` (`None`: detected).
        skip_tokens: Token layers: leading class / register tokens (`None`: detected).

    Returns:
        An iterator of `(rows, activations (B, h, w, K), gradients (B, h, w, K))`, one per
        batch of at most `batch_size` images; `rows` is the slice of `images` it covers. Token
        layers come back as maps of their patch tokens. The layer is checked before returning.

    Raises:
        LayerNotFoundError: No such layer.
        ModelError: The layer is neither a feature map nor a token layer with a patch grid.
        ParameterError: Token options for a feature-map layer.
    """
    if not isinstance(target, Target):
        target = Target(indices=np.asarray(target, np.int32), fn=None)
    compiled = feature_gradient_function(
        as_backbone(model), layer, target, grid=token_grid, skip_tokens=skip_tokens
    )
    indices = target.indices if target.indices is not None else np.zeros(len(images), np.int32)
    parts = batch_slices(len(images), batch_size)  # compiled (and checked) eagerly, above
    return ((part, *compiled(images[part], indices[part])) for part in parts)
