"""Style panels on the offline VGG16 (`vgg16_hed`): texture synthesis of real textures (Gram
matrices vs image quilting) and Gatys style transfer with real paintings shipped in the package
(`kerasviz.load_painting`: Van Gogh's Starry Night, Hokusai's Great Wave)."""

from __future__ import annotations

from typing import Tuple

import numpy as np

from . import DemoContext, Panel

TEXTURES = ("brick", "gravel", "grass")
PAINTINGS = ("starry_night", "great_wave")


def _fit(image: np.ndarray, side: int) -> np.ndarray:
    from ..images import resize_image

    return resize_image(np.asarray(image, np.float32), side).astype(np.uint8)


def _texture_example(ctx: DemoContext, name: str, side: int) -> np.ndarray:
    """The centre 256-px crop of a 512-px texture, at `side`: its stones / blades / bricks are
    twice as large as in the whole picture shrunk, big enough for the deep Gram layers to shape."""
    from ..images import resize_image

    full = ctx.image(name, None)
    crop = min(256, *full.shape[:2])
    top, left = (full.shape[0] - crop) // 2, (full.shape[1] - crop) // 2
    return resize_image(full[top : top + crop, left : left + crop], (side, side))


def _render_texture(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    from ..images import image_grid
    from ..synthesis.texture import synthesize_texture

    side, steps = (64, 6) if ctx.quick else (128, 100)
    names = TEXTURES[:1] if ctx.quick else TEXTURES
    tiles, labels = [], []
    for name in names:
        example = _texture_example(ctx, name, side)
        tiles += [example, synthesize_texture(ctx.vgg16, example, side, steps=steps, seed=ctx.seed),
                  synthesize_texture(None, example, side, method="patch", seed=ctx.seed)]
        labels += [f"{name}", "Gram (VGG16)", "quilting"]
    grid = image_grid(tiles, ncols=3, labels=labels, padding=4)
    layers = ", ".join(ctx.vgg16.style_layers)
    return grid, (
        f"centre 256-px crops of scikit-image's textures; vgg16_hed Gram matrices of {layers}; {steps} "
        "L-BFGS steps from faint grey noise; quilting copies patches"
    )


def _render_style_transfer(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    from ..images import image_grid
    from ..synthesis import load_painting
    from ..synthesis.style_transfer import style_transfer

    side, steps = (80, 8) if ctx.quick else (192, 40)
    content = ctx.image("chelsea", side)
    tiles, labels = [content], ["content"]
    for name in PAINTINGS[:1] if ctx.quick else PAINTINGS:
        painting = load_painting(name)
        result = style_transfer(ctx.vgg16, content, painting, steps=steps, seed=ctx.seed)
        tiles += [_fit(painting, side), result]
        labels += [name.replace("_", " "), "style transfer"]
    if not ctx.quick:  # the colour-preserving variant only in the full gallery (time budget)
        painting = load_painting(PAINTINGS[0])
        tiles.append(style_transfer(ctx.vgg16, content, painting, steps=steps, preserve_color=True, seed=ctx.seed))
        labels.append("colour kept")
    grid = image_grid(tiles, ncols=len(tiles), labels=labels, padding=4)
    backbone = ctx.vgg16
    return grid, (
        f"Gatys et al. on vgg16_hed: content {backbone.content_layers[0]}, Grams of "
        f"{', '.join(backbone.style_layers)}; style weight 1000, TV 30, {steps} L-BFGS steps"
    )


PANELS = [
    Panel("texture_synthesis", "Texture synthesis: Gram matrices (VGG16) vs image quilting", _render_texture, family="style"),
    Panel("style_transfer", "Neural style transfer (Gatys) on VGG16 with real paintings", _render_style_transfer, family="style"),
]
