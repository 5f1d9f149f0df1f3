"""Exported style models as files: the signature names, the version folders under a model base
path, and loading one back to stylize locally (`export.py` writes them).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Union

import numpy as np
import tensorflow as tf

from ..errors import ImageError, ModelError, ParameterError
from ..images import as_image_batch, to_uint8
from ..serving.versioned_export import highest_version
from .inference import check_style_weights
from .network import IMAGES, MIN_SIZE, STYLE_WEIGHTS

__all__ = [
    "SERVING_DEFAULT",
    "STYLIZE_BYTES",
    "STYLIZED",
    "latest_version",
    "load_style_model",
    "saved_model_styles",
    "stylize_saved_model",
]

#: Signature taking float32 pixels.
SERVING_DEFAULT = "serving_default"
#: Signature taking encoded image bytes and returning PNG bytes.
STYLIZE_BYTES = "stylize_bytes"
#: Output key of both signatures.
STYLIZED = "stylized"
#: The highest numeric version folder under a model base path, or None (`highest_version`).
latest_version = highest_version


def load_style_model(model_dir: Union[str, os.PathLike]) -> Any:
    """Load an exported style model: a version folder, or a base path (its newest version).

    Args:
        model_dir: `export_dir/<version>` or `export_dir`.

    Returns:
        The loaded object; `.signatures["serving_default"]` and `.signatures["stylize_bytes"]`.

    Raises:
        ModelError: No SavedModel (or version folder) there, or one without these signatures.
    """
    path = Path(model_dir)
    if not (path / "saved_model.pb").is_file():
        version = latest_version(path)
        if version is None:
            raise ModelError(
                "No SavedModel there: give a version folder holding saved_model.pb or a base path "
                f"with numeric version folders. Received: model_dir={str(model_dir)!r}"
            )
        path = path / str(version)
    loaded = tf.saved_model.load(str(path))
    if not {SERVING_DEFAULT, STYLIZE_BYTES} <= set(loaded.signatures):
        raise ModelError(
            f"The SavedModel lacks the {SERVING_DEFAULT!r} / {STYLIZE_BYTES!r} signatures of "
            f"export_style_model. Received: signatures {sorted(loaded.signatures)} in {path}"
        )
    return loaded


def saved_model_styles(loaded: Any) -> int:
    """Number of styles of a loaded style model.

    Args:
        loaded: An object returned by `load_style_model`.

    Returns:
        The width of its `style_weights` input, or 1 when it takes none.
    """
    _, kwargs = loaded.signatures[SERVING_DEFAULT].structured_input_signature
    spec = kwargs.get(STYLE_WEIGHTS)
    return 1 if spec is None else int(spec.shape[-1])


def stylize_saved_model(
    model_dir: Union[str, os.PathLike, Any], images: Any, style_weights: Any = None, *, style: Any = None, alpha: Any = None
) -> np.ndarray:
    """Stylize images with an exported style model (its `serving_default` signature).

    Args:
        model_dir: A version folder, a base path (newest version), or an object returned by
            `load_style_model`.
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`, `H, W >= 4` (an arbitrary
            stylizer's content: sides >= 16).
        style_weights: Convex mix `(n_styles,)` or `(N, n_styles)` for a multi-style model;
            `None` means style 0.
        style: Only for an exported arbitrary stylizer (and required there): one style image
            `(h, w, 3)` or one per image `(N, h, w, 3)`, pixels in `[0, 255]`, sides >= 32.
        alpha: Only for an arbitrary stylizer: style strength in `[0, 1]`, one number or one per
            image (`None`: 1, full style).

    Returns:
        uint8 `(H, W, 3)` or `(N, H, W, 3)`.

    Raises:
        ModelError: No usable SavedModel.
        ImageError: Invalid images (or style images).
        ParameterError: Bad `style_weights` or `alpha`; `style` / `alpha` given to a transform
            network's export, or `style` missing for an arbitrary stylizer's.
    """
    from .export_arbitrary import is_arbitrary_export, stylize_arbitrary_saved_model  # it imports this module

    loaded = model_dir if hasattr(model_dir, "signatures") else load_style_model(model_dir)
    if is_arbitrary_export(loaded):
        if style is None or style_weights is not None:
            raise ParameterError(
                "This export is an arbitrary stylizer: pass a style image as `style=` (and `alpha=`), "
                f"not style_weights. Received: style={'None' if style is None else 'an image'}, style_weights "
                f"{'None' if style_weights is None else f'of shape {np.shape(style_weights)}'}"
            )
        return stylize_arbitrary_saved_model(loaded, images, style, 1.0 if alpha is None else alpha)
    if style is not None or alpha is not None:
        raise ParameterError(
            "This export is a transform network with its own trained styles: drop `style` / `alpha` "
            f"(mix its styles with `style_weights`). Received: alpha={alpha!r}, style={'None' if style is None else 'an image'}"
        )
    batch, single = as_image_batch(images)
    if min(batch.shape[1:3]) < MIN_SIZE:
        raise ImageError(f"Images must be at least {MIN_SIZE}×{MIN_SIZE}. Received: images with shape {batch.shape}")
    n_styles = saved_model_styles(loaded)
    weights = check_style_weights(style_weights, n_styles, len(batch))
    inputs = {IMAGES: tf.constant(batch)}
    if n_styles > 1:
        inputs[STYLE_WEIGHTS] = tf.constant(weights)
    result = to_uint8(loaded.signatures[SERVING_DEFAULT](**inputs)[STYLIZED].numpy())
    return result[0] if single else result
