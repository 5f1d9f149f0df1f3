"""The one validation of what style losses take: layer lists, style images, their blend weights
and their scale (used by style transfer, texture synthesis, Gram targets and fast-style training)."""

from __future__ import annotations

from typing import Any, List, Sequence, Tuple

import numpy as np

from ..checks import check_names
from ..errors import ParameterError
from ..graph_nodes import opaque_models, subclassed_model_error
from ..images import as_image_batch, resize_image
from .objective_inputs import layer_argument

__all__ = ["layer_list", "refuse_hidden_defaults", "style_images", "style_weights", "rescale_style"]


def layer_list(layers: Any, name: str, default: Sequence[str] = ()) -> Tuple[str, ...]:
    """One layer name or several as a non-empty tuple of unique names.

    Args:
        layers: A name, a sequence of names, or `None` for `default`.
        name: The argument's name, for the message.
        default: The names used when `layers` is `None` (e.g. `backbone.style_layers`).

    Returns:
        The names, in order.

    Raises:
        ParameterError: Empty, duplicated, or not names (see `kerasviz.layer_names`).
    """
    names = check_names(layers, name, default=default)
    if len(set(names)) != len(names):
        raise ParameterError(f"`{name}` must not repeat a layer. Received: {name}={list(names)}")
    return tuple(layer_argument(n) for n in names)


def refuse_hidden_defaults(model: Any, layers: Any, default: Sequence[str], name: str) -> None:
    """Refuse to fall back on defaults that a subclassed model cannot have (its layers are hidden).

    Args:
        model: The `Backbone` or Keras model the technique runs on.
        layers: The user's layer argument (`None` asks for the defaults).
        default: The backbone's default layers for this argument.
        name: The argument's name, for the message.

    Raises:
        ModelError: `layers` is None, there are no defaults, and the model is (or holds) a
            subclassed model.
    """
    if layers is None and not default:
        hidden = opaque_models(model)
        if hidden:
            raise subclassed_model_error(getattr(model, "model", model).name, hidden, f"Choosing default `{name}`")


def style_images(style: Any, name: str = "style") -> List[np.ndarray]:
    """One or several style images (sizes may differ) as float32 `(h, w, 3)` arrays.

    Args:
        style: One image `(h, w, 3)`, a batch `(K, h, w, 3)`, or a list of `(h, w, 3)` images, in
            `[0, 255]`.
        name: The argument's name, for messages.

    Returns:
        A list of K float32 images.

    Raises:
        ParameterError: An empty list, or a list entry that is a batch.
        ImageError: An image is not a valid pixel image.
    """
    if not isinstance(style, (list, tuple)):
        return list(as_image_batch(style, name=name)[0])
    if not style:
        raise ParameterError(f"`{name}` is an empty list; pass at least one style image. Received: {name}=[]")
    images = []
    for index, one in enumerate(style):
        batch, single = as_image_batch(one, name=f"{name}[{index}]")
        if not single:
            raise ParameterError(
                f"Each style image in a list must be one (h, w, 3) image. Received: "
                f"{name}[{index}] with shape {batch.shape}"
            )
        images.append(batch[0])
    return images


def style_weights(weights: Any, count: int, name: str = "style_weights") -> np.ndarray:
    """Blend weights of `count` style images: non-negative, summing to 1 (`None`: equal).

    Args:
        weights: A sequence of `count` numbers, or `None`.
        count: Number of style images.
        name: The argument's name, for messages.

    Returns:
        float64 `(count,)` weights.

    Raises:
        ParameterError: Wrong length, not finite, negative, or not summing to 1.
    """
    if weights is None:
        return np.full(count, 1.0 / count)
    try:
        values = np.asarray(weights, dtype=np.float64).ravel() if np.ndim(weights) <= 1 else None
    except (TypeError, ValueError):
        values = None
    if values is None or values.size != count:
        raise ParameterError(
            f"`{name}` must have one weight per style image ({count}). Received: {name}={weights!r}"
        )
    if not np.all(np.isfinite(values)) or np.any(values < 0) or abs(values.sum() - 1.0) > 1e-4:
        raise ParameterError(
            f"`{name}` must be non-negative and sum to 1 (a convex blend of the styles). "
            f"Received: {name}={weights!r}"
        )
    return values


def rescale_style(style: np.ndarray, content_shape: Tuple[int, int], scale: float, min_side: int = 32) -> np.ndarray:
    """The style image resized so its longer side is `scale` times the content's longer side.

    Args:
        style: float32 `(h, w, 3)` pixels.
        content_shape: `(height, width)` of the content.
        scale: Ratio of the longer sides (> 0).
        min_side: The shorter side is never made smaller than this (a wide painting for a
            small content would otherwise drop below what the backbone can use).

    Returns:
        The resized (or unchanged) image.
    """
    factor = scale * max(content_shape) / max(style.shape[:2])
    factor = max(factor, min_side / min(style.shape[:2]))
    size = (max(1, round(style.shape[0] * factor)), max(1, round(style.shape[1] * factor)))
    return resize_image(style, size) if size != style.shape[:2] else style
