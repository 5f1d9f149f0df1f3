"""Attribution panels: which pixels made Lite0 say *cat* (and *espresso*)?"""

from __future__ import annotations

from typing import Tuple

import numpy as np

from . import DemoContext, Panel

CAT, ESPRESSO = 285, 967


def _visible(maps: np.ndarray) -> np.ndarray:
    """Pixel-gradient maps are a few bright pixels: clip each at its 99th percentile to show them."""
    top = np.percentile(maps.reshape(len(maps), -1), 99, axis=1).reshape(-1, 1, 1)
    return np.clip(maps / np.where(top > 0, top, 1.0), 0.0, 1.0)


def _two_classes(ctx: DemoContext, maps: np.ndarray) -> np.ndarray:
    from ..images import image_grid, overlay_heatmap

    image = ctx.cat_and_espresso()
    tiles = [image, overlay_heatmap(image, maps[0]), overlay_heatmap(image, maps[1])]
    return image_grid(tiles, ncols=3, labels=["input", "Egyptian cat (285)", "espresso (967)"])


def render_gradcam(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    from ..attribution import gradcam

    image = ctx.cat_and_espresso()
    maps = gradcam(ctx.backbone, np.stack([image, image]), [CAT, ESPRESSO])
    return _two_classes(ctx, maps), f"layer {ctx.backbone.gradcam_layer}, classes 285 / 967"


def render_gradcam_plus_plus(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    from ..attribution import gradcam_plus_plus

    image = ctx.cat_and_espresso()
    maps = gradcam_plus_plus(ctx.backbone, np.stack([image, image]), [CAT, ESPRESSO])
    return _two_classes(ctx, maps), f"layer {ctx.backbone.gradcam_layer}, classes 285 / 967"


def render_occlusion(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    from ..attribution import occlusion
    from ..images import normalize_map

    patch, stride = (56, 56) if ctx.quick else (32, 16)
    image = ctx.cat_and_espresso()
    drops = occlusion(
        ctx.backbone, np.stack([image, image]), [CAT, ESPRESSO], patch=patch, stride=stride
    )
    details = f"drop in class probability (positive part), gray {patch} px patches, stride {stride}"
    return _two_classes(ctx, normalize_map(np.maximum(drops, 0.0))), details


def render_saliency(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    from ..attribution import saliency
    from ..images import image_grid, overlay_heatmap

    image = ctx.cat_and_espresso()
    maps = _visible(saliency(ctx.backbone, np.stack([image, image]), [CAT, ESPRESSO]))
    tiles = [image, maps[0] * 255.0, maps[1] * 255.0]  # the paper's grey maps, white = salient
    tiles += [overlay_heatmap(image, maps[0]), overlay_heatmap(image, maps[1])]
    labels = ["input", "Egyptian cat (285)", "espresso (967)", "285, overlay", "967, overlay"]
    details = "max |d logit / d pixel| over colours, clipped at the 99th percentile"
    return image_grid(tiles, ncols=5, labels=labels), details


def render_smoothgrad(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    from ..attribution import smoothgrad

    samples = 8 if ctx.quick else 50
    image = ctx.cat_and_espresso()
    maps = smoothgrad(
        ctx.backbone, np.stack([image, image]), [CAT, ESPRESSO], samples=samples, seed=ctx.seed
    )
    details = f"{samples} samples, noise 0.15 of the value range, clipped at the 99th percentile"
    return _two_classes(ctx, _visible(maps)), details


def render_integrated_gradients(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    from ..attribution import integrated_gradients

    steps = 8 if ctx.quick else 64
    image = ctx.cat_and_espresso()
    result = integrated_gradients(
        ctx.backbone, np.stack([image, image]), [CAT, ESPRESSO], steps=steps
    )
    maps = _visible(np.abs(result.attributions).sum(axis=-1))
    relative = np.abs(result.completeness_error) / np.abs(result.score_difference)
    details = (
        f"black baseline, {steps} steps, |attribution| summed over colours (99th percentile "
        f"clip); completeness "
        f"error {relative[0]:.1%} / {relative[1]:.1%}"
    )
    return _two_classes(ctx, maps), details


def render_guided_backprop(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    """The lecture's figure: a few intermediate neurons, their top patches and guided backprop."""
    from ..attribution import gradient_image, guided_backprop
    from ..images import image_grid
    from .crop_pool import PATCH_LAYER, crop_pool, photo_label
    from .inspect import patch_rows

    rows, patches = patch_rows(ctx)
    units, shown = (2, 3) if ctx.quick else (4, 4)
    rows, patches = rows[:units], [row[:shown] for row in patches[:units]]
    images = np.concatenate(patches).astype(np.float32)
    channels = np.repeat([unit.channel for unit in rows], shown).astype(np.int64)
    grads = gradient_image(
        guided_backprop(ctx.vgg16, images, layer=PATCH_LAYER, channel=channels)
    )
    pool = crop_pool(ctx)
    tiles, labels = [], []
    for index, unit in enumerate(rows):
        part = slice(index * shown, (index + 1) * shown)
        tiles += list(grads[part]) + list(images[part])
        names = [photo_label(pool.photos[c]) for c in unit.crops[:shown]]
        labels += [f"#{unit.channel} guided"] + [""] * (shown - 1) + names
    picture = image_grid(tiles, ncols=2 * shown, labels=labels, tile_size=128)
    size = images.shape[1]
    return picture, (
        f"vgg16_hed {PATCH_LAYER}: per unit (row), guided backprop of the unit's channel on each "
        f"of its top {shown} patches ({size}x{size}, left) beside the patches (right)"
    )


def _render_guided_backprop_class(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    from ..attribution import gradient_image, guided_backprop
    from ..images import image_grid

    image = ctx.image("chelsea", 224)
    # Channel 45 of block5c_expand_activation fires on the cat's eyes (its peak is the strongest
    # relative to its mean among that layer's channels): an intermediate neuron of Lite0.
    layer, channel = "block5c_expand_activation", 45
    # 2 x 2 one-pixel translations undo the checkerboard of Lite0's stride-2 convolutions.
    grads = [guided_backprop(ctx.backbone, image, CAT, shifts=2)]
    labels = ["input", "class 285"]
    if not ctx.quick:  # a second guided clone (ending at `layer`) costs a second trace
        grads.append(guided_backprop(ctx.backbone, image, layer=layer, channel=channel, shifts=2))
        labels.append(f"{layer}[{channel}] (eyes)")
    picture = image_grid([image] + [gradient_image(g) for g in grads], ncols=3, labels=labels)
    return picture, (
        f"Lite0, guided ReLU6 gradients averaged over 2 x 2 one-pixel shifts; class 285 (and "
        f"channel {channel} of {layer})"
    )


def render_gradient_x_input(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    from ..attribution import gradient_x_input

    image = ctx.cat_and_espresso()
    attributions = gradient_x_input(ctx.backbone, np.stack([image, image]), [CAT, ESPRESSO])
    maps = _visible(np.abs(attributions).sum(axis=-1))
    details = "|pixel x d logit / d pixel| summed over colours, clipped at the 99th percentile"
    return _two_classes(ctx, maps), details


def _render_grabcut(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    from ..attribution import grabcut_segmentation, gradcam
    from ..images import image_grid, overlay_heatmap

    tiles, labels = [], []
    for name, index in (("chelsea", CAT), ("coffee", ESPRESSO)):
        image = ctx.image(name, 224)
        heat = gradcam(ctx.backbone, image, index)
        mask = grabcut_segmentation(image, heat)
        tiles += [overlay_heatmap(image, heat), image * (0.2 + 0.8 * mask[..., None])]
        labels += [f"Grad-CAM {index}", f"GrabCut ({mask.mean():.0%} foreground)"]
    return image_grid(tiles, ncols=4, labels=labels), "GrabCut seeded by Grad-CAM quantiles 0.3 / 0.7 / 0.95"


#: Panels of more than one technique (each technique's own panel is named in `kerasviz.registry`).
PANELS = [
    Panel(
        "guided_backprop_class", "Guided backpropagation of a class",
        _render_guided_backprop_class, family="attribution",
    ),
    Panel("grabcut", "Saliency to segmentation (GrabCut)", _render_grabcut, family="attribution"),
]
