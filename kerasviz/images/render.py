"""Pictures from arrays: colormaps, heatmap overlays, gradient pictures and the one
"attribution -> heatmap picture" renderer shared by the CLI, the demo and the notebooks.

Colormaps come from OpenCV; every function returns `uint8` RGB. Image grids live in `grid.py`.
"""

from __future__ import annotations

from typing import Any, Optional

import cv2
import numpy as np

from ..checks import check_choice, check_fraction, check_number
from ..errors import ImageError, ParameterError
from .arrays import as_image_batch, as_maps, normalize_map, resize_map, to_uint8

__all__ = [
    "ATTRIBUTION_VIEWS",
    "COLORMAPS",
    "attribution_picture",
    "colorize_map",
    "gradient_image",
    "overlay_heatmap",
]

# OpenCV colormap ids by name; "gray" is the identity map (no OpenCV colormap is needed).
COLORMAPS = {
    "jet": cv2.COLORMAP_JET,
    "turbo": cv2.COLORMAP_TURBO,
    "viridis": cv2.COLORMAP_VIRIDIS,
    "inferno": cv2.COLORMAP_INFERNO,
    "magma": cv2.COLORMAP_MAGMA,
    "hot": cv2.COLORMAP_HOT,
    "gray": None,
}

#: How `attribution_picture` draws: a colormap blended over the image, or the map alone.
ATTRIBUTION_VIEWS = ("overlay", "map")


def _colormap_id(colormap: str) -> Optional[int]:
    """Look up an OpenCV colormap id by name (None for "gray")."""
    key = colormap.lower() if isinstance(colormap, str) else colormap
    if key not in COLORMAPS:
        raise ParameterError(
            f"Unknown colormap; choose one of {sorted(COLORMAPS)}. Received: colormap={colormap!r}"
        )
    return COLORMAPS[key]


def _check_unit_range(maps: np.ndarray) -> np.ndarray:
    """Refuse heatmaps clearly outside [0, 1]; clip tiny rounding excursions."""
    low, high = float(maps.min()), float(maps.max())
    if low < -1e-3 or high > 1.0 + 1e-3:
        raise ImageError(
            f"A heatmap must hold values in [0, 1]; found [{low:g}, {high:g}]. Normalize it "
            f"with `kerasviz.images.normalize_map`. Received: heatmap with shape {maps.shape}"
        )
    return np.clip(maps, 0.0, 1.0)


def colorize_map(heatmap: Any, colormap: str = "jet") -> np.ndarray:
    """Colour a heatmap with an OpenCV colormap, as RGB.

    Args:
        heatmap: `(H, W)` or `(N, H, W)` with values in `[0, 1]` (1 = high; red for `"jet"`).
        colormap: one of `"jet"`, `"turbo"`, `"viridis"`, `"inferno"`, `"magma"`, `"hot"`,
            `"gray"`.

    Returns:
        A uint8 RGB array `(H, W, 3)` or `(N, H, W, 3)`.

    Raises:
        ImageError: the heatmap has the wrong rank, is empty, holds NaN / inf or leaves [0, 1].
        ParameterError: unknown `colormap`.
    """
    code = _colormap_id(colormap)
    maps, single = as_maps(heatmap, "colorize_map")
    levels = np.rint(_check_unit_range(maps) * 255.0).astype(np.uint8)
    if code is None:
        colored = np.repeat(levels[..., None], 3, axis=-1)
    else:
        n, h, w = levels.shape
        bgr = cv2.applyColorMap(levels.reshape(n * h, w), code)
        colored = bgr[..., ::-1].reshape(n, h, w, 3)  # OpenCV gives BGR.
    colored = np.ascontiguousarray(colored)
    return colored[0] if single else colored


def overlay_heatmap(
    image: Any,
    heatmap: Any,
    *,
    alpha: float = 0.5,
    colormap: str = "jet",
) -> np.ndarray:
    """Blend a coloured heatmap over an image: `(1 - alpha) * image + alpha * colored`.

    Args:
        image: `(H, W, 3)` (or a batch `(N, H, W, 3)`), uint8 or float in `[0, 255]`.
        heatmap: `(h, w)` (or `(N, h, w)` for a batch) with values in `[0, 1]`; resized
            bilinearly to `(H, W)` when its size differs.
        alpha: weight of the coloured heatmap, in `[0, 1]`.
        colormap: one of `"jet"`, `"turbo"`, `"viridis"`, `"inferno"`, `"magma"`, `"hot"`,
            `"gray"`.

    Returns:
        A uint8 array `(H, W, 3)` (or `(N, H, W, 3)` for a batch).

    Raises:
        ImageError: the image or heatmap is unusable, or their counts differ.
        ParameterError: `alpha` outside [0, 1] or an unknown `colormap`.
    """
    alpha = check_fraction(alpha, "alpha")
    _colormap_id(colormap)
    batch, single = as_image_batch(image, name="image")
    maps, _ = as_maps(heatmap, "overlay_heatmap")
    if maps.shape[0] != batch.shape[0]:
        raise ImageError(
            f"Got {batch.shape[0]} image(s) but {maps.shape[0]} heatmap(s); pass one heatmap "
            f"per image. Received: heatmap with shape {maps.shape}"
        )
    maps = resize_map(maps, batch.shape[1:3])
    colored = colorize_map(maps, colormap).astype(np.float32)
    blended = to_uint8((1.0 - alpha) * batch + alpha * colored)
    return blended[0] if single else blended


def gradient_image(gradients: Any, *, contrast: float = 0.1) -> np.ndarray:
    """Render raw pixel gradients as a picture: centred on gray, scaled by their spread.

    Each image is standardized (`(g - mean) / std`), scaled by `contrast`, shifted to 0.5 and
    clipped, as in the lecture's guided-backprop pictures.

    Args:
        gradients: `(H, W, 3)` or `(N, H, W, 3)` finite gradients (any scale).
        contrast: Gray levels per standard deviation, as a fraction of the full range, in
            `[1e-6, 1]`.

    Returns:
        uint8 `(H, W, 3)` or `(N, H, W, 3)`.

    Raises:
        ParameterError: Wrong shape, non-finite values, or bad `contrast`.
    """
    values = np.asarray(gradients, np.float32)
    if values.ndim not in (3, 4) or values.shape[-1] != 3 or not np.all(np.isfinite(values)):
        raise ParameterError(
            "`gradients` must be finite, shaped (H, W, 3) or (N, H, W, 3). Received: gradients "
            f"with shape {values.shape}"
        )
    contrast = check_fraction(contrast, "contrast", low=1e-6, high=1.0)
    axes = tuple(range(values.ndim - 3, values.ndim))
    centred = values - values.mean(axis=axes, keepdims=True)
    spread = centred.std(axis=axes, keepdims=True)
    standard = centred / np.where(spread > 0, spread, 1.0)
    return to_uint8(np.clip(standard * contrast + 0.5, 0.0, 1.0) * 255.0)


def _attribution_maps(attributions: Any, image_rank: int) -> np.ndarray:
    """`(N, h, w)` non-negative maps from maps or per-colour attributions."""
    values = np.asarray(attributions, np.float32)
    if values.ndim == image_rank and values.shape[-1] == 3:  # per colour: |a| summed
        values = np.abs(values).sum(axis=-1)
    elif values.ndim == image_rank - 1:  # one value per pixel: its positive part
        values = np.maximum(values, 0.0)
    else:
        expected = "(H, W) or (H, W, 3)" if image_rank == 3 else "(N, H, W) or (N, H, W, 3)"
        raise ImageError(
            f"`attributions` must be shaped {expected} to match the image. Received: "
            f"attributions with shape {values.shape}"
        )
    maps, _ = as_maps(values[None] if image_rank == 3 else values, "attribution_picture")
    return maps


def attribution_picture(
    image: Any,
    attributions: Any,
    *,
    view: str = "overlay",
    colormap: str = "jet",
    alpha: float = 0.5,
    percentile: Optional[float] = None,
) -> np.ndarray:
    """Turn any attribution result into a picture at the image's resolution and aspect.

    The one renderer behind every attribution picture of the CLI, the demo and the notebooks.
    The map is the positive part of a per-pixel result (saliency, Grad-CAM, occlusion drops) or
    `|a|` summed over colours for per-colour results (integrated gradients); it is scaled to
    `[0, 1]` (min-max, or divided by its `percentile`-th value and clipped, which makes sparse
    gradient maps visible), resized bilinearly to the image's size, then drawn.

    Args:
        image: `(H, W, 3)` or `(N, H, W, 3)`, uint8 or float in `[0, 255]`.
        attributions: `(h, w)` / `(N, h, w)` maps (any finite range, any resolution), or
            `(H, W, 3)` / `(N, H, W, 3)` per-colour attributions.
        view: `"overlay"` (colormap blended over the image) or `"map"` (the map alone, e.g.
            with `colormap="gray"` for the lecture's saliency picture).
        colormap: a name in `COLORMAPS`.
        alpha: weight of the coloured map in the overlay, in `[0, 1]`.
        percentile: `None` for min-max scaling, or a percentile in `(0, 100]` to divide by.

    Returns:
        uint8 `(H, W, 3)` (or `(N, H, W, 3)` for a batch).

    Raises:
        ImageError: Unusable image or attributions, or counts that differ.
        ParameterError: Unknown `view` or `colormap`, `alpha` or `percentile` out of range.
    """
    check_choice(view, "view", ATTRIBUTION_VIEWS)
    _colormap_id(colormap)
    alpha = check_fraction(alpha, "alpha")
    batch, single = as_image_batch(image, name="image")
    maps = _attribution_maps(attributions, 3 if single else 4)
    if maps.shape[0] != batch.shape[0]:
        raise ImageError(
            f"Got {batch.shape[0]} image(s) but {maps.shape[0]} attribution map(s); pass one "
            f"per image. Received: attributions with shape {np.shape(attributions)}"
        )
    if percentile is None:
        maps = normalize_map(maps)
    else:
        q = check_number(percentile, "percentile", low=0.0, high=100.0, open_low=True)
        top = np.percentile(maps.reshape(len(maps), -1), q, axis=1).reshape(-1, 1, 1)
        maps = np.clip(maps / np.where(top > 0, top, 1.0), 0.0, 1.0)
    maps = np.clip(resize_map(maps, batch.shape[1:3]), 0.0, 1.0)
    if view == "overlay":
        picture = overlay_heatmap(batch, maps, alpha=alpha, colormap=colormap)
    else:
        picture = colorize_map(maps, colormap)
    return picture[0] if single else picture
