"""The demo panel: one photo explained by RISE, LIME, Kernel SHAP and Sobol beside Grad-CAM."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import keras
import numpy as np

from ..backbones import Backbone
from ..images import as_image_batch, image_grid, normalize_map, overlay_heatmap
from .kernel_shap import kernel_shap
from .lime import lime
from .predictors import as_predictor
from .queries import top_classes
from .rise import rise
from .sobol import sobol_attribution

__all__ = ["blackbox_maps", "blackbox_panel", "positive_part", "render_blackbox_panel"]


def positive_part(heatmap: np.ndarray) -> np.ndarray:
    """A signed map's positive evidence scaled to [0, 1] (all zeros when nothing is positive).

    Args:
        heatmap: `(H, W)` any sign.

    Returns:
        float32 `(H, W)` in [0, 1].
    """
    positive = np.maximum(np.asarray(heatmap, np.float64), 0.0)
    peak = positive.max()
    return (positive / peak if peak > 0 else positive).astype(np.float32)


def blackbox_maps(
    predictor: Any,
    image: Any,
    target: Any = None,
    *,
    masks: int = 2000,
    samples: int = 500,
    grid: int = 11,
    design: int = 32,
    seed: int = 0,
    progress: Optional[bool] = None,
) -> Dict[str, np.ndarray]:
    """The four black-box maps of one image, each scaled to [0, 1] for display.

    Args:
        predictor: Any predictor (see `kerasviz.blackbox.as_predictor`).
        image: `(H, W, 3)` pixels in [0, 255] at the predictor's input size.
        target: Class index or None (the top class).
        masks: RISE masks.
        samples: LIME and Kernel SHAP samples.
        grid: Sobol grid.
        design: Sobol design size.
        seed: Random seed of every method.
        progress: Show progress bars (None: global setting).

    Returns:
        `{"RISE", "LIME", "Kernel SHAP", "Sobol"}` -> float32 `(H, W)` in [0, 1] (LIME and
        Kernel SHAP: their positive part).

    Raises:
        KerasvizError: as the four methods.
    """
    model = as_predictor(predictor)
    batch, _ = as_image_batch(image, name="image")
    cls = int(top_classes(model, batch[:1], target)[0])
    pixels = batch[0]
    return {
        "RISE": normalize_map(rise(model, pixels, cls, masks=masks, seed=seed, progress=progress)),
        "LIME": positive_part(lime(model, pixels, cls, samples=samples, seed=seed, progress=progress)),
        "Kernel SHAP": positive_part(kernel_shap(model, pixels, cls, samples=samples, seed=seed, progress=progress)),
        "Sobol": normalize_map(sobol_attribution(model, pixels, cls, grid=grid, design=design, seed=seed, progress=progress)),
    }


def blackbox_panel(
    predictor: Any,
    image: Any,
    target: Any = None,
    *,
    gradcam_model: Any = None,
    masks: int = 2000,
    samples: int = 500,
    grid: int = 11,
    design: int = 32,
    seed: int = 0,
    progress: Optional[bool] = None,
) -> np.ndarray:
    """One row: the photo, Grad-CAM, RISE, LIME, Kernel SHAP and Sobol overlays, labelled.

    Args:
        predictor: Any predictor; when it is a `Backbone` / `keras.Model`, Grad-CAM uses it.
        image: `(H, W, 3)` pixels in [0, 255] at the predictor's input size.
        target: Class index or None (the predictor's top class).
        gradcam_model: The in-process model for the Grad-CAM tile when `predictor` is remote or
            a callable (None: no Grad-CAM tile for such predictors).
        masks: RISE masks.
        samples: LIME and Kernel SHAP samples.
        grid: Sobol grid.
        design: Sobol design size.
        seed: Random seed of every method.
        progress: Show progress bars (None: global setting).

    Returns:
        uint8 `(H', W', 3)` panel.

    Raises:
        KerasvizError: as the methods.
    """
    from ..attribution.gradcam import gradcam

    model = as_predictor(predictor)
    batch, _ = as_image_batch(image, name="image")
    pixels = batch[0]
    cls = int(top_classes(model, batch[:1], target)[0])
    maps = blackbox_maps(model, pixels, cls, masks=masks, samples=samples, grid=grid, design=design, seed=seed, progress=progress)
    cam_model = gradcam_model if gradcam_model is not None else predictor
    names = predictor.class_names if isinstance(predictor, Backbone) else None
    tiles, labels = [pixels], [f"class {cls}" + (f" ({names[cls]})" if names else "")]
    if isinstance(cam_model, (Backbone, keras.Model)):
        tiles.append(overlay_heatmap(pixels, gradcam(cam_model, pixels, cls)))
        labels.append("Grad-CAM")
    for name, heatmap in maps.items():
        tiles.append(overlay_heatmap(pixels, heatmap))
        labels.append(name)
    return image_grid(tiles, ncols=len(tiles), labels=labels)


def render_blackbox_panel(ctx: Any) -> Tuple[np.ndarray, str]:
    """The demo gallery's black-box panel: Lite0 explained by queries only, on the cat | espresso
    picture for both classes (one row each), beside Grad-CAM.

    Args:
        ctx: The demo's `DemoContext` (its `backbone`, `cat_and_espresso()`, `quick`).

    Returns:
        `(picture, caption details)`.
    """
    masks, samples, grid, design = (200, 100, 5, 8) if ctx.quick else (2000, 500, 11, 32)
    image = ctx.cat_and_espresso()
    rows = [
        blackbox_panel(ctx.backbone, image, target, masks=masks, samples=samples, grid=grid, design=design, seed=ctx.seed)
        for target in (285, 967)
    ]
    details = (
        f"Lite0 queried as a black box (softmax probabilities only); rows: Egyptian cat (285), espresso (967); "
        f"RISE {masks} masks, LIME / Kernel SHAP {samples} samples over quickshift superpixels, "
        f"Sobol {grid}x{grid} grid x {design} designs"
    )
    return np.concatenate(rows, axis=0), details
