"""Pictures of signed relevance: a diverging colormap centred on zero, and the LRP demo panel.

`relevance_picture` draws positive relevance red and negative blue on white (Zennit's `bwr`),
both scaled by one symmetric bound (a high percentile of |R|), so zero is always white and the
two signs are comparable. Over an image, the colour covers the photo in proportion to |R|.
`relevance_panel` puts LRP maps of two composites beside Grad-CAM for several models.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

from ..checks import check_number
from ..errors import ImageError
from ..images import as_image_batch, image_grid, overlay_heatmap
from ..images.arrays import resize_map

__all__ = ["relevance_colors", "relevance_panel", "relevance_picture", "render_lrp_panel"]

_BLUE = np.array([0.0, 0.0, 255.0], np.float32)
_RED = np.array([255.0, 0.0, 0.0], np.float32)
_WHITE = np.array([255.0, 255.0, 255.0], np.float32)


def relevance_colors(scaled: np.ndarray) -> np.ndarray:
    """Blue-white-red colours of values in `[-1, 1]` (0 is white).

    Args:
        scaled: Array `(...)` in `[-1, 1]`.

    Returns:
        float32 `(..., 3)` RGB in `[0, 255]`.
    """
    value = np.clip(scaled, -1.0, 1.0)[..., None].astype(np.float32)
    toward = np.where(value >= 0, _RED, _BLUE)
    return _WHITE + np.abs(value) * (toward - _WHITE)


def relevance_picture(
    relevance: Any,
    image: Any = None,
    *,
    percentile: float = 99.5,
) -> np.ndarray:
    """Draw signed relevance with a diverging colormap centred on zero.

    Args:
        relevance: `(H, W)` or `(N, H, W)` signed relevance (e.g. from `lrp`), any finite range.
        image: Optional `(h, w, 3)` / `(N, h, w, 3)` pixels in `[0, 255]`: the map is resized to
            it and drawn over a faded gray copy, covering it in proportion to |relevance|.
        percentile: The value of |relevance| drawn at full colour, as a percentile in
            `(0, 100]` of each map's |relevance| (larger values are clipped).

    Returns:
        uint8 `(H, W, 3)` (or `(N, H, W, 3)`).

    Raises:
        ImageError: A map that is not 2-D / 3-D, not finite, or a count that differs from the
            images'.
        ParameterError: `percentile` outside `(0, 100]`.
    """
    q = check_number(percentile, "percentile", low=0.0, high=100.0, open_low=True)
    maps = np.asarray(relevance, np.float32)
    single = maps.ndim == 2
    if maps.ndim not in (2, 3) or not np.isfinite(maps).all():
        raise ImageError(
            "`relevance` must be finite maps shaped (H, W) or (N, H, W). Received: relevance "
            f"with shape {maps.shape}"
        )
    maps = maps[None] if single else maps
    bound = np.percentile(np.abs(maps).reshape(len(maps), -1), q, axis=1).reshape(-1, 1, 1)
    scaled = maps / np.where(bound > 0, bound, 1.0)
    if image is None:
        picture = relevance_colors(scaled)
    else:
        batch, _ = as_image_batch(image, name="image")
        if len(batch) != len(maps):
            raise ImageError(
                f"Got {len(batch)} image(s) but {len(maps)} relevance map(s); pass one per "
                f"image. Received: relevance with shape {np.shape(relevance)}"
            )
        scaled = resize_map(scaled, batch.shape[1:3])
        gray = batch.mean(axis=-1, keepdims=True) * 0.5 + 127.5  # faded photo
        cover = np.clip(np.abs(scaled), 0.0, 1.0)[..., None]
        picture = gray * (1.0 - cover) + relevance_colors(scaled) * cover
    picture = np.clip(np.rint(picture), 0, 255).astype(np.uint8)
    return picture[0] if single else picture


def relevance_panel(
    models: Dict[str, Any],
    images: Dict[str, np.ndarray],
    targets: Dict[str, int],
    *,
    composites: Sequence[str] = ("epsilon_plus_flat", "epsilon_gamma_box"),
    gradcam_layers: Optional[Dict[str, str]] = None,
) -> np.ndarray:
    """The LRP demo panel: per model and image, the photo, Grad-CAM and LRP of two composites.

    Args:
        models: Label -> `Backbone` / pixels-in `keras.Model` (e.g. `{"Lite0": lite0,
            "VGG16": vgg16}`), each taking the images' size.
        images: Label -> `(H, W, 3)` pixels in `[0, 255]` (e.g. chelsea and coffee at 224²).
        targets: Image label -> class index explained on it (e.g. 285 for the cat).
        composites: LRP composites drawn beside Grad-CAM.
        gradcam_layers: Model label -> Grad-CAM layer (default: the backbone's own).

    Returns:
        uint8 RGB picture: one row per (model, image), columns input | Grad-CAM | LRP....

    Raises:
        KerasvizError: As `lrp` and `gradcam` raise.
    """
    from ..attribution import gradcam
    from ..backbones import as_backbone
    from .lrp import lrp

    tiles, labels = [], []
    for model_label, model in models.items():
        backbone = as_backbone(model)
        layer = (gradcam_layers or {}).get(model_label)
        for image_label, image in images.items():
            if image_label not in targets:
                raise ImageError(f"No target for image {image_label!r}. Received: targets={targets!r}")
            target = targets[image_label]
            cam = gradcam(backbone, image, target, layer=layer)
            tiles += [image, overlay_heatmap(image, cam)]
            labels += [f"{model_label}: {image_label} ({target})", "Grad-CAM"]
            for composite in composites:
                tiles.append(relevance_picture(lrp(backbone, image, target, composite=composite), image))
                labels.append(f"LRP {composite}")
    return image_grid(tiles, ncols=2 + len(composites), labels=labels)


def render_lrp_panel(ctx: Any) -> Tuple[np.ndarray, str]:
    """The demo gallery's LRP panel: `relevance_panel` on Lite0 (and ImageNet VGG16 when its
    weights are cached offline), chelsea (class 285) and coffee (967), beside Grad-CAM.

    Args:
        ctx: The demo's `DemoContext` (its `backbone`, `image(name)`).

    Returns:
        `(picture, caption details)`.
    """
    from ..backbones import load_backbone
    from ..backbones.applications import keras_models_dir

    models: Dict[str, Any] = {"Lite0": ctx.backbone}
    note = "VGG16 ImageNet weights not cached: Lite0 only"
    if (keras_models_dir() / "vgg16_weights_tf_dim_ordering_tf_kernels.h5").exists():  # offline
        models["VGG16"] = load_backbone("vgg16")
        note = "VGG16 and Lite0 (ImageNet weights)"
    images = {"chelsea": ctx.image("chelsea"), "coffee": ctx.image("coffee")}
    # quick mode (tests): one composite, one relevance clone to trace instead of two
    composites = ("epsilon_plus_flat",) if getattr(ctx, "quick", False) else ("epsilon_plus_flat", "epsilon_gamma_box")
    picture = relevance_panel(models, images, {"chelsea": 285, "coffee": 967}, composites=composites)
    return picture, f"{note}; relevance from the class logit, red > 0 > blue, 99.5th-percentile scale"
