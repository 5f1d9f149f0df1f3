"""Style panels: texture synthesis (Gram vs image quilting) and Gatys style transfer on Lite0.

The style image is made by the package itself, so the demo needs nothing outside it: a
procedurally painted "swirl" picture (`swirl_painting`): bold complementary colour bands bent
along a vortex and broken into short brush dabs. Its strong colours and stroke texture make the
transfer obvious to the eye, which grey `skimage.data` textures would not.
"""

from __future__ import annotations

from typing import Tuple

import cv2
import numpy as np

from . import DemoContext, Panel


def swirl_painting(size: int = 192, seed: int = 0) -> np.ndarray:
    """A procedurally painted style image: swirling colour bands laid down as brush dabs.

    Args:
        size: Side in pixels.
        seed: Random seed of the dabs.

    Returns:
        float32 `(size, size, 3)` pixels in [0, 255].
    """
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
    radius, angle = np.hypot(x, y), np.arctan2(y, x)
    phase = 9.0 * radius + 2.0 * angle + 1.5 * np.sin(6.0 * angle)
    palette = np.array(
        [[20, 40, 120], [240, 200, 40], [30, 110, 200], [250, 250, 210], [200, 60, 30]], np.float32
    )
    base = palette[(np.floor(phase * 1.2) % len(palette)).astype(int)]
    canvas = base.copy()
    for _ in range(size * 6):  # short strokes along the flow, coloured from the bands below
        cy, cx = rng.integers(0, size, size=2)
        direction = angle[cy, cx] + np.pi / 2 + 0.3 * rng.standard_normal()
        length = rng.uniform(3, 9)
        end = (int(cx + length * np.cos(direction)), int(cy + length * np.sin(direction)))
        colour = base[cy, cx] * rng.uniform(0.8, 1.15)
        cv2.line(canvas, (int(cx), int(cy)), end, np.clip(colour, 0, 255).tolist(), 2, cv2.LINE_AA)
    return np.clip(cv2.GaussianBlur(canvas, (3, 3), 0), 0, 255).astype(np.float32)


def _pad_to(image: np.ndarray, size: int) -> np.ndarray:
    from ..images import resize_image

    return resize_image(np.asarray(image, np.float32), size).astype(np.uint8)


def _render_texture(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    from ..images import image_grid
    from ..synthesis.texture import synthesize_texture

    side = 64 if ctx.quick else 128
    steps = 6 if ctx.quick else 30
    example = ctx.image("coffee", side)
    gram = synthesize_texture(ctx.backbone, example, side, steps=steps, seed=ctx.seed)
    patch = synthesize_texture(None, example, side, method="patch", seed=ctx.seed)
    grid = image_grid([example, gram, patch], ncols=3, labels=["example", "Gram", "quilting"], padding=4)
    layers = ", ".join(ctx.backbone.style_layers)
    return grid, f"Lite0 style layers {layers}; {steps} L-BFGS steps; softmax features (T=3)"


def _render_style_transfer(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    from ..images import image_grid
    from ..synthesis.style_transfer import style_transfer

    side = 80 if ctx.quick else 144
    steps = 8 if ctx.quick else 25
    content = ctx.image("chelsea", side)
    painting = swirl_painting(192, seed=ctx.seed)
    tiles = [content, _pad_to(painting, side)]
    tiles.append(style_transfer(ctx.backbone, content, painting, steps=steps, seed=ctx.seed))
    labels = ["content", "style", "style transfer"]
    if not ctx.quick:  # the colour-preserving variant only in the full gallery (time budget)
        tiles.append(
            style_transfer(ctx.backbone, content, painting, steps=steps, preserve_color=True, seed=ctx.seed)
        )
        labels.append("colour kept")
    grid = image_grid(tiles, ncols=len(tiles), labels=labels, padding=4)
    return grid, (
        f"Lite0, softmax features (Wang et al. 2021, T=3), content {ctx.backbone.content_layers[0]}, "
        f"style weight 1000, TV 30, {steps} L-BFGS steps; style = procedurally painted swirl"
    )


PANELS = [
    Panel("texture_synthesis", "Texture synthesis: Gram matrices vs image quilting", _render_texture, family="style"),
    Panel("style_transfer", "Neural style transfer (Gatys) on EfficientNet-Lite0", _render_style_transfer, family="style"),
]
