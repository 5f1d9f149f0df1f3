"""Synthesis panels: class and feature visualization, fooling / adversarial images (on
EfficientNet-Lite0's real weights: they need class scores), DeepDream and feature inversion on
the offline VGG16 (`vgg16_hed`), as in the lecture's figures."""

from __future__ import annotations

from typing import Tuple

import numpy as np

from ..images import image_grid
from . import DemoContext, Panel

CLASSES = [1, 130, 285, 963]  # goldfish, flamingo, Egyptian cat, pizza


def _names(ctx: DemoContext, indices) -> list:
    return [ctx.backbone.class_names[i] for i in indices]


def _class_visualization(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    from ..synthesis import Execution, visualize_class

    classes = CLASSES[:2] if ctx.quick else CLASSES
    size, steps = (64, 16) if ctx.quick else (128, 96)
    images = visualize_class(ctx.backbone, classes, size=size, steps=steps, execution=Execution(seed=ctx.seed))
    grid = image_grid(list(images), labels=_names(ctx, classes), tile_size=128)
    names = ", ".join(_names(ctx, classes))
    return grid, f"logits of {names}; Fourier + decorrelated colour, Adam, jitter/zoom/rotation; {size} px, {steps} steps"


def _feature_visualization(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    from ..synthesis import Execution, visualize_feature

    layer = "block4c_add"
    channels = list(range(4)) if ctx.quick else list(range(8))
    size, steps = (48, 12) if ctx.quick else (96, 64)
    images = visualize_feature(
        ctx.backbone, layer, channels, size=size, steps=steps, execution=Execution(seed=ctx.seed)
    )
    grid = image_grid(list(images), ncols=4, labels=[f"ch {c}" for c in channels], tile_size=96)
    return grid, f"layer {layer}, channels {channels[0]}..{channels[-1]} in one batch; {size} px, {steps} steps"


def _adversarial(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    from ..synthesis import adversarial_example, fooling_image

    backbone = ctx.backbone
    photo = ctx.image("chelsea", 224)
    fooled, report = fooling_image(backbone, photo, 1)
    pgd = adversarial_example(backbone, photo, 2.0, method="pgd", steps=4 if ctx.quick else 10)
    difference = np.clip(127.5 + 40.0 * (fooled - photo), 0, 255)
    names = backbone.class_names
    after = backbone.predict(pgd).argmax()
    labels = [
        f"original: {names[report.original_class[0]]}",
        f"fooling: {names[report.predicted_class[0]]}",
        "difference x40",
        f"PGD eps=2: {names[after]}",
    ]
    grid = image_grid([photo, fooled, difference, pgd], labels=labels)
    return grid, (
        f"fooling image: {report.steps[0]} steps, mean |change| {report.mean_abs_change[0]:.2f} levels, "
        f"p(goldfish)={report.target_probability[0]:.2f}; PGD L-inf 2 levels"
    )


def _deep_dream(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    from ..synthesis import deep_dream

    backbone = ctx.vgg16
    size = 96 if ctx.quick else 224
    photo = ctx.image("chelsea", size)
    octaves, steps = (1, 4) if ctx.quick else (3, 12)
    dream = deep_dream(backbone, photo, octaves=octaves, steps=steps, step_size=1.0, seed=ctx.seed)
    layers = ", ".join(backbone.dream_layers)
    return image_grid([photo, dream], tile_size=224), f"vgg16_hed layers {layers}; {octaves} octaves x {steps} steps"


def _inversion(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    from ..synthesis import invert_features

    backbone = ctx.vgg16
    size, steps = (48, 20) if ctx.quick else (128, 150)
    photo = ctx.image("chelsea", size)
    layers = ["block2_conv2", "block4_conv3"] if ctx.quick else ["block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3"]
    images = [photo] + [invert_features(backbone, photo, layer, steps=steps) for layer in layers]
    grid = image_grid(images, labels=["original"] + layers, tile_size=128)
    return grid, f"Mahendran & Vedaldi inversion on vgg16_hed from noise, feature L2 + TV; {size} px, {steps} steps"


PANELS = [
    Panel("class_visualization", "Class visualization", _class_visualization, family="synthesis"),
    Panel("feature_visualization", "Feature visualization", _feature_visualization, family="synthesis"),
    Panel("adversarial", "Fooling image and PGD", _adversarial, family="synthesis"),
    Panel("deep_dream", "DeepDream", _deep_dream, family="synthesis"),
    Panel("feature_inversion", "Feature inversion", _inversion, family="synthesis"),
]
