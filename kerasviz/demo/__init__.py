"""`kerasviz demo`: every technique on bundled images, written as PNGs and an `index.html` gallery.

Each module in this package that defines `PANELS` (a list of `Panel`) contributes panels, so each
technique family owns its demo code. A panel that fails is reported and the others still render.
"""

from __future__ import annotations

import html
import importlib
import logging
import pkgutil
import time
import traceback
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from ..progress import progress_bar

__all__ = ["Panel", "DemoContext", "PanelOutcome", "run_demo", "all_panels", "technique_panels"]


@dataclass(frozen=True)
class Panel:
    """One gallery picture.

    Attributes:
        name: File stem, e.g. `"gradcam"`.
        title: Technique shown as the caption's heading.
        render: `render(ctx) -> (image, details)`: a uint8 `(H, W, 3)` picture and a caption
            line naming the layer, class and parameters used.
        family: Gallery section, e.g. `"attribution"`.
    """

    name: str
    title: str
    render: Callable[["DemoContext"], Tuple[np.ndarray, str]]
    family: str = "misc"


@dataclass
class DemoContext:
    """What panels share: the offline backbones, bundled images and the quick flag.

    Attributes:
        out: Output folder.
        quick: Smaller sizes and fewer steps (the tests' mode, under a minute in all).
        seed: Random seed for reproducible pictures.
    """

    out: Path
    quick: bool = False
    seed: int = 0
    cache: Dict[str, Any] = field(default_factory=dict)

    @cached_property
    def backbone(self):
        """EfficientNet-Lite0 with its real ImageNet weights (offline)."""
        from ..backbones import load_backbone

        return load_backbone("efficientnet_lite0")

    @cached_property
    def vgg16(self):
        """`vgg16_hed`: ImageNet VGG16's convolutional layers (fine-tuned for edges), offline."""
        from ..backbones import load_backbone

        return load_backbone("vgg16_hed")

    def image(self, name: str, size: Optional[int] = 224) -> np.ndarray:
        """A bundled picture, loaded once, by the package's one named-image loader.

        Args:
            name: `"chelsea"` or `"skimage:chelsea"` (any of `kerasviz.images.NAMED_IMAGES`).
            size: Side of the square result in pixels, or `None` for the picture's own size.

        Returns:
            float32 `(size, size, 3)` pixels in `[0, 255]` (cached; do not modify in place).
        """
        from ..images import NAMED_IMAGE_PREFIX, load_image

        source = name if name.startswith(NAMED_IMAGE_PREFIX) else NAMED_IMAGE_PREFIX + name
        key = f"{source}@{size}"
        if key not in self.cache:
            self.cache[key] = load_image(source, size)
        return self.cache[key]


    def cat_and_espresso(self) -> np.ndarray:
        """The two-object picture: chelsea left, coffee right, each squeezed to 224 x 112.

        Returns:
            float32 `(224, 224, 3)` pixels in `[0, 255]` (cached; do not modify in place).
        """
        from ..images import resize_image

        if "cat_and_espresso" not in self.cache:
            left = resize_image(self.image("chelsea", 224), (224, 112))
            right = resize_image(self.image("coffee", 224), (224, 112))
            self.cache["cat_and_espresso"] = np.concatenate([left, right], axis=1)
        return self.cache["cat_and_espresso"]


@dataclass
class PanelOutcome:
    """What happened to one panel: its file, caption and time, or its error."""

    panel: Panel
    path: Optional[Path]
    details: str
    seconds: float
    error: Optional[str] = None


def technique_panels() -> List[Panel]:
    """The panel of each registered technique that names one (`kerasviz.registry`), in order.

    Returns:
        One `Panel` per technique with a `panel` entry; CAMs sit in the attribution section.
    """
    from ..registry import TECHNIQUES
    from ..technique import resolve

    return [
        Panel(t.name, t.panel[0], resolve(t.panel[1]),
              family="attribution" if t.family == "cams" else t.family)
        for t in TECHNIQUES
        if t.panel is not None
    ]


def all_panels() -> List[Panel]:
    """Every panel of every family, in gallery order (`kerasviz.registry.FAMILIES`).

    Returns:
        The technique panels, then the panels of this package's modules (`PANELS`), by family.
    """
    from ..technique import FAMILIES

    panels = technique_panels()
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        panels.extend(getattr(module, "PANELS", []))
    rank = {family: index for index, family in enumerate(FAMILIES)}
    return sorted(panels, key=lambda panel: rank.get(panel.family, len(rank)))


def run_demo(
    out: str | Path,
    *,
    quick: bool = False,
    only: Optional[List[str]] = None,
    progress: Optional[bool] = None,
) -> List[PanelOutcome]:
    """Render every panel to `out/NAME.png` and write `out/index.html`.

    Args:
        out: Output folder (created).
        quick: Small sizes and few steps (under a minute on 2 CPU cores).
        only: Panel names to render (default: all).
        progress: Show a bar per panel; `None` uses the global setting.

    Returns:
        One `PanelOutcome` per panel, failures included (their `error` holds the traceback).
    """
    from ..images import save_image
    from ..progress import progress_enabled, set_progress

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ctx = DemoContext(out=out, quick=quick)
    panels = [p for p in all_panels() if not only or p.name in only]
    outcomes: List[PanelOutcome] = []
    show = progress_enabled(progress)
    bar = progress_bar(panels, desc="demo", unit="panel", progress=show)
    tf_logger = logging.getLogger("tensorflow")
    tf_level = tf_logger.level
    tf_logger.setLevel(logging.ERROR)  # each panel compiles its own loops; retracing notes are noise here
    for panel in bar:
        bar.set_postfix_str(panel.name)
        start = time.perf_counter()
        saved = progress_enabled(None)
        set_progress(False)  # one bar per panel is enough
        try:
            image, details = panel.render(ctx)
            path = save_image(out / f"{panel.name}.png", image)
            outcomes.append(PanelOutcome(panel, path, details, time.perf_counter() - start))
        except Exception:  # a broken panel must not stop the gallery
            outcomes.append(
                PanelOutcome(panel, None, "", time.perf_counter() - start, traceback.format_exc())
            )
        finally:
            set_progress(saved)
    tf_logger.setLevel(tf_level)
    (out / "index.html").write_text(_gallery_html(outcomes, quick))
    return outcomes


def _gallery_html(outcomes: List[PanelOutcome], quick: bool) -> str:
    sections: Dict[str, List[str]] = {}
    for o in outcomes:
        if o.error is None:
            body = (
                f'<figure><img src="{html.escape(o.path.name)}" alt="{html.escape(o.panel.title)}">'
                f"<figcaption><b>{html.escape(o.panel.title)}</b><br>{html.escape(o.details)}"
                f"<br><small>{o.seconds:.1f} s</small></figcaption></figure>"
            )
        else:
            last = html.escape(o.error.strip().splitlines()[-1])
            body = (
                f'<figure class="failed"><figcaption><b>{html.escape(o.panel.title)}</b>: failed '
                f"after {o.seconds:.1f} s<br><code>{last}</code></figcaption></figure>"
            )
        sections.setdefault(o.panel.family, []).append(body)
    parts = [
        f"<section><h2>{html.escape(family.title())}</h2>{''.join(items)}</section>"
        for family, items in sections.items()
    ]
    mode = " (quick mode)" if quick else ""
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>kerasviz gallery</title><style>"
        "body{font-family:sans-serif;margin:2em;background:#fafafa}"
        "figure{display:inline-block;vertical-align:top;margin:0 1em 1.5em 0;max-width:460px}"
        "img{max-width:460px;border:1px solid #ccc}figcaption{font-size:.9em}"
        ".failed{color:#a00}</style></head><body>"
        f"<h1>kerasviz gallery{mode}</h1><p>Two offline networks on scikit-image's bundled photos: "
        "EfficientNet-Lite0 (ImageNet classifier) for everything that needs class scores, and "
        "VGG16's convolutional layers (<code>vgg16_hed</code>: ImageNet VGG16 fine-tuned for edge "
        "detection) for filters, patches, neighbours, guided backprop of neurons, inversion, "
        f"DeepDream, textures and style. Each caption names its network.</p>{''.join(parts)}</body></html>"
    )
