"""Fast-style panel: one forward pass per style mix of the committed 3-style transform network."""

from __future__ import annotations

from typing import Tuple

import numpy as np

from . import DemoContext, Panel

__all__ = ["PANELS"]

#: Style mixes of the strip: pure styles and the halfway mixes between neighbours.
MIXES = ((1, 0, 0), (0.5, 0.5, 0), (0, 1, 0), (0, 0.5, 0.5), (0, 0, 1))


def _style_picture(name: str, size: int) -> np.ndarray:
    """A style of the bundled network: a shipped painting (`starry_night`, ...) or `skimage:NAME`."""
    from ..images import load_image
    from ..synthesis import PAINTINGS, load_painting

    if name in PAINTINGS:
        return load_painting(name, (size, size)).astype(np.float32)
    return load_image(name, size)


def _mix_label(weights) -> str:
    return "weights " + " ".join(f"{w:g}" for w in weights)


def render_style_mix(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    """Chelsea stylized by the bundled 3-style network at five mixes, under the three styles.

    Args:
        ctx: Demo context (`ctx.quick` renders at 128 px instead of 224 px).

    Returns:
        `(uint8 picture, caption details)`.
    """
    from ..faststyle import stylize
    from ..faststyle.weights import load_demo_network
    from ..images import image_grid

    net, info = load_demo_network()
    size = 128 if ctx.quick else 224
    content = ctx.image("chelsea", size)
    mixes = np.array(MIXES + ((1 / 3, 1 / 3, 1 / 3),), np.float32)
    stylized = stylize(net, np.repeat(content[None], len(mixes), axis=0), mixes)
    styles = [_style_picture(name, size) for name in info["styles"]]
    tiles = [content, *styles, stylized[-1], *stylized[:-1]]
    names = [name.split(":")[-1].replace("_", " ") for name in info["styles"]]
    labels = ["content", *names, "mix 1/3 each", *(_mix_label(m) for m in MIXES)]
    picture = image_grid(tiles, ncols=5, labels=labels)
    padding = info.get("padding", "zero")
    details = (
        f"3-style transform net (conditional instance norm, width {info['width']}, trained "
        f"{info['steps']} steps at {info['image_size']} px on {info['backbone']}, {padding} padding); style weights per "
        f"tile, one forward pass for the whole strip"
    )
    return picture, details


PANELS = [Panel("fast_style_mix", "Fast style: mixing 3 styles in one network", render_style_mix, family="style")]
