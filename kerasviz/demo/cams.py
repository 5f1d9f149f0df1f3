"""The CAM family side by side: Grad-CAM, Grad-CAM++, HiResCAM, XGrad-CAM, LayerCAM, Score-CAM,
Ablation-CAM and Eigen-CAM on the same cat | espresso image, one row per class."""

from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import DemoContext, Panel

__all__ = ["PANELS", "compare_cams_picture"]

CAT, ESPRESSO = 285, 967

def compare_cams_picture(
    backbone: Any,
    image: np.ndarray,
    targets: Union[None, int, Sequence[int]] = None,
    *,
    channels: Optional[int] = None,
    layer: Optional[str] = None,
) -> Tuple[np.ndarray, str]:
    """Every CAM of one image, one row per target class, as one labelled picture.

    Args:
        backbone: A `Backbone`.
        image: `(H, W, 3)` pixels in `[0, 255]` at the backbone's input size.
        targets: A class index, several (one row each), or `None` for the predicted class.
        channels: Score-CAM channel subsampling (`None`: all channels).
        layer: Layer for every method (default: the backbone's `gradcam_layer`).

    Returns:
        `(picture uint8 (H, W, 3), caption)`.
    """
    from ..attribution.technique_maps import technique_map
    from ..images import image_grid, overlay_heatmap
    from ..registry import get_technique, technique_names

    cams = technique_names(family="cams")

    if targets is None:
        targets = [int(backbone.logits(image).argmax())]
    elif np.ndim(targets) == 0:
        targets = [int(targets)]
    names = backbone.class_names or [str(i) for i in range(backbone.num_classes)]
    tiles: List[np.ndarray] = []
    labels: List[str] = []
    for target in targets:
        tiles.append(image)
        labels.append(f"{names[target]} ({target})")
        for name in cams:
            options = {"layer": layer}
            if name == "score_cam":
                options["channels"] = channels
            heatmap = technique_map(name, backbone, image, target, **options)
            tiles.append(overlay_heatmap(image, heatmap))
            subsampled = name == "score_cam" and channels is not None
            title = get_technique(name).title
            labels.append(f"{title} ({channels} ch)" if subsampled else title)
    used = layer or backbone.gradcam_layer
    if channels is None:
        scored = "all channels"
    else:
        scored = f"the {channels} channels of largest spatial variance (subsampled)"
    caption = f"layer {used}; Score-CAM on {scored}; Eigen-CAM is class-agnostic"
    return image_grid(tiles, ncols=len(cams) + 1, labels=labels), caption


def _render_cams(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    # Score-CAM scores one masked copy per channel: all 1280 of Lite0's cost ~100 s on 2 cores, so
    # the demo scores the 128 (quick: 32) channels of largest spatial variance; the caption says so.
    return compare_cams_picture(
        ctx.backbone, ctx.cat_and_espresso(), [CAT, ESPRESSO], channels=32 if ctx.quick else 128
    )


PANELS = [Panel("cam_family", "The CAM family side by side", _render_cams, family="attribution")]
