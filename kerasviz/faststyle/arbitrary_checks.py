"""What the arbitrary stylizer's exports (SavedModel, LiteRT) share: the input names, recognising the
model, and checking a local call's content, style and `alpha` with `stylize_arbitrary`'s rules.
"""

from __future__ import annotations

from typing import Any, Tuple

import keras
import numpy as np

from ..errors import ImageError, ParameterError
from ..images import as_image_batch
from ..images.arrays import to_numpy
from .arbitrary import prepare_style

__all__ = [
    "ALPHA",
    "CONTENT",
    "MIN_CONTENT_SIDE",
    "STYLE",
    "STYLE_SIZE",
    "check_arbitrary_inputs",
    "is_arbitrary_stylizer",
]

#: Input names of the arbitrary stylizer and of its exported signatures.
CONTENT, STYLE, ALPHA = "content", "style", "alpha"
#: Smallest content side (`build_arbitrary_stylizer`'s size rule).
MIN_CONTENT_SIDE = 16
#: Shorter side a style image is resized to before encoding (`stylize_arbitrary`'s default).
STYLE_SIZE = 256


def is_arbitrary_stylizer(model: Any) -> bool:
    """Whether `model` is an arbitrary stylizer: a Keras model with `content`, `style`, `alpha` inputs.

    Args:
        model: Anything.

    Returns:
        True for a model from `build_arbitrary_stylizer` / `load_arbitrary_stylizer`.
    """
    if not isinstance(model, keras.Model):
        return False
    try:
        names = {tensor.name for tensor in model.inputs}
    except (AttributeError, ValueError, TypeError):
        return False
    return names == {CONTENT, STYLE, ALPHA}


def _alphas(alpha: Any, n: int) -> np.ndarray:
    try:
        values = np.asarray(alpha, dtype=np.float64)
    except (TypeError, ValueError):
        values = np.array([np.nan])
    values = np.full(n, float(values)) if values.ndim == 0 else values
    if values.shape != (n,) or not np.all((values >= 0.0) & (values <= 1.0)):
        raise ParameterError(
            f"`alpha` must be a number in [0, 1] (0 = the content, 1 = full style) or one per content "
            f"image ({n}). Received: alpha={alpha!r}"
        )
    return values.astype(np.float32)


def check_arbitrary_inputs(
    content: Any, style: Any, alpha: Any, style_size: int = STYLE_SIZE
) -> Tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Check an arbitrary stylizer's inputs as `stylize_arbitrary` does, and prepare the styles.

    Args:
        content: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`, sides >= `MIN_CONTENT_SIDE`.
        style: One style image for every content image (`(h, w, 3)`, grey `(h, w)` / `(h, w, 1)`
            or opaque `(h, w, 4)`; see `prepare_style`), or one per content image `(N, h, w, C)`;
            sides >= 32, at most `MAX_STYLE_PIXELS` pixels, no transparency.
        alpha: Style strength in `[0, 1]`: one number or one per content image.
        style_size: Shorter side each style is resized to (antialiased), as `stylize_arbitrary`.

    Returns:
        `(content, style, alpha, single)`: float32 `(N, H, W, 3)`, float32 `(N, h', w', 3)` (the
        prepared styles), float32 `(N,)`, and whether one content image was given.

    Raises:
        ImageError: Invalid or too small content, an invalid style (see `prepare_style`), or a
            style count that is neither 1 nor `N`.
        ParameterError: `alpha` outside `[0, 1]` (or NaN) or of the wrong length; a bad
            `style_size`.
    """
    batch, single = as_image_batch(content, name="content")
    if min(batch.shape[1:3]) < MIN_CONTENT_SIDE:
        raise ImageError(
            f"`content` must be at least {MIN_CONTENT_SIDE}×{MIN_CONTENT_SIDE} pixels. Received: content with shape {batch.shape}"
        )
    alphas = _alphas(alpha, len(batch))
    array = to_numpy(style)
    styles = list(array) if array.ndim == 4 else [array]
    if len(styles) not in (1, len(batch)):
        raise ImageError(f"Give one style image or one per content image ({len(batch)}). Received: style with shape {array.shape}")
    names = [f"style[{i}]" if array.ndim == 4 else "style" for i in range(len(styles))]
    prepared = np.stack([prepare_style(image, style_size, name=name) for image, name in zip(styles, names)])
    return batch, np.ascontiguousarray(np.broadcast_to(prepared, (len(batch),) + prepared.shape[1:])), alphas, single
