"""Arbitrary-style panel: the AdaIN network on held-out photos with a painting it never saw."""

from __future__ import annotations

from typing import Tuple

import numpy as np

from . import DemoContext, Panel

__all__ = ["ALPHAS", "PANELS", "render_arbitrary_style"]

#: Content–style trade-offs of the alpha strip.
ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)
#: Held out of the decoder's training (`scripts/train_arbitrary_style.py`).
UNSEEN_PAINTING = "udnie"
HELD_OUT_PHOTOS = ("astronaut", "rocket")


def render_arbitrary_style(ctx: DemoContext) -> Tuple[np.ndarray, str]:
    """Held-out photos in a painting the network never saw, an alpha strip and an interpolation strip.

    Row 1: the unseen painting, a held-out photo, its stylization, the second held-out photo's
    stylization and the first one with its colours preserved. Row 2: alpha 0 ... 1 on the first photo. Row 3: interpolation from the
    unseen painting to `great_wave` (weights 1, 0.75, 0.5, 0.25, 0).

    Args:
        ctx: Demo context (`ctx.quick` renders at 128 px instead of 256 px).

    Returns:
        `(uint8 picture, caption details)`.
    """
    from ..faststyle.arbitrary import stylize_arbitrary
    from ..images import image_grid, load_image

    size = 128 if ctx.quick else 256
    photos = np.stack([ctx.image(name, size) for name in HELD_OUT_PHOTOS])
    unseen = load_image(f"painting:{UNSEEN_PAINTING}")
    other = load_image("painting:great_wave")
    stylized = stylize_arbitrary(photos, unseen)
    kept = stylize_arbitrary(photos[0], unseen, preserve_color=True)
    alphas = [stylize_arbitrary(photos[0], unseen, alpha=a) for a in ALPHAS]
    mixes = [stylize_arbitrary(photos[0], [unseen, other], style_weights=[w, 1 - w]) for w in (1, 0.75, 0.5, 0.25, 0)]
    painting = load_image(f"painting:{UNSEEN_PAINTING}", size)
    tiles = [painting, photos[0], stylized[0], stylized[1], kept, *alphas, *mixes]
    labels = [f"{UNSEEN_PAINTING} (never seen)", "held-out photo", "stylized", f"{HELD_OUT_PHOTOS[1]} stylized",
              "colours preserved", *(f"alpha {a:g}" for a in ALPHAS),
              *(f"{UNSEEN_PAINTING} {w:g} / great wave {1 - w:g}" for w in (1, 0.75, 0.5, 0.25, 0))]
    picture = image_grid(tiles, ncols=5, labels=labels)
    details = (
        f"AdaIN (Huang & Belongie 2017): vgg16_hed relu4_1 encoder; the decoder is a CPU-trained preview "
        f"(1550 steps, see weights/ADAIN.md): blotchy, with an 8-px grid and weak palettes; "
        f"{UNSEEN_PAINTING} and the photos {', '.join(HELD_OUT_PHOTOS)} were held out of training; "
        f"rows: stylization, alpha {ALPHAS[0]:g}..{ALPHAS[-1]:g}, interpolation to great_wave"
    )
    return picture, details


PANELS = [Panel("arbitrary_style", "Arbitrary style: a painting the network never saw (AdaIN)",
                render_arbitrary_style, family="style")]
