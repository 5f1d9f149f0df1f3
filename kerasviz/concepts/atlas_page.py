"""A zoomable, self-contained HTML page of an activation atlas (offline: no scripts fetched).

The atlas PNG is embedded (base64); a transparent grid of cells lies over it and shows each
cell's row, column, activation count and top class on hover; the mouse wheel zooms around the
pointer and dragging pans.
"""

from __future__ import annotations

import base64
import html
import io
import os
import pathlib
from typing import Any

__all__ = ["save_atlas", "write_atlas_page"]

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ margin: 0; font: 14px sans-serif; background: #222; color: #eee; overflow: hidden; }}
#view {{ position: absolute; inset: 32px 0 0 0; overflow: hidden; cursor: grab; }}
#atlas {{ position: absolute; transform-origin: 0 0; }}
#atlas img {{ display: block; image-rendering: pixelated; }}
.cell {{ position: absolute; box-sizing: border-box; }}
.cell:hover {{ outline: 2px solid #ff0; }}
#info {{ height: 32px; line-height: 32px; padding: 0 8px; }}
</style></head><body>
<div id="info">{title}: wheel to zoom, drag to pan, hover a cell</div>
<div id="view"><div id="atlas"><img src="data:image/png;base64,{png}" width="{size}" height="{size}">
{cells}</div></div>
<script>
const atlas = document.getElementById("atlas"), view = document.getElementById("view");
const info = document.getElementById("info");
let scale = Math.min(view.clientWidth, view.clientHeight) / {size}, x = 0, y = 0, drag = null;
function draw() {{ atlas.style.transform = `translate(${{x}}px, ${{y}}px) scale(${{scale}})`; }}
view.addEventListener("wheel", e => {{
  e.preventDefault(); const f = e.deltaY < 0 ? 1.2 : 1 / 1.2;
  x = e.offsetX - (e.offsetX - x) * f; y = e.offsetY - (e.offsetY - y) * f; scale *= f; draw();
}});
view.addEventListener("mousedown", e => {{ drag = [e.clientX - x, e.clientY - y]; }});
window.addEventListener("mouseup", () => {{ drag = null; }});
window.addEventListener("mousemove", e => {{ if (drag) {{ x = e.clientX - drag[0]; y = e.clientY - drag[1]; draw(); }} }});
for (const c of document.querySelectorAll(".cell")) c.addEventListener("mouseenter", () => {{ info.textContent = c.title; }});
draw();
</script></body></html>
"""


def write_atlas_page(
    path: str | os.PathLike, atlas: Any, *, class_names: list | None = None, title: str = "Activation atlas"
) -> pathlib.Path:
    """Write an atlas as one zoomable HTML file (the PNG embedded, cell info on hover).

    Args:
        path: The `.html` file to write (folders are created).
        atlas: An `AtlasResult` from `activation_atlas`.
        class_names: Names of the classes, to show each cell's top class by name.
        title: Page title.

    Returns:
        The path written.
    """
    from PIL import Image

    image = atlas.image
    cell = int(atlas.cell_size)
    rows = atlas.cells.to_pydict()
    size = image.shape[0]
    divs = []
    for row, col, count, top in zip(rows["row"], rows["col"], rows["count"], rows["top_class"]):
        name = class_names[top] if class_names is not None and 0 <= top < len(class_names) else str(top)
        label = html.escape(f"cell ({row}, {col}): {count} activations, top class {name}", quote=True)
        divs.append(
            f'<div class="cell" title="{label}" style="left:{col * cell}px;top:{row * cell}px;'
            f'width:{cell}px;height:{cell}px"></div>'
        )
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    page = _PAGE.format(
        title=html.escape(title), png=base64.b64encode(buffer.getvalue()).decode(), size=size, cells="\n".join(divs)
    )
    target = pathlib.Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target


def save_atlas(
    atlas: Any, png: str | os.PathLike, html_page: str | os.PathLike | None = None, *, class_names: list | None = None
) -> list[pathlib.Path]:
    """Save an atlas as a PNG and, optionally, its zoomable HTML page (what `kerasviz atlas` writes).

    Args:
        atlas: An `AtlasResult`.
        png: The PNG path.
        html_page: The HTML path, or `None`.
        class_names: Class names for the page's hover text.

    Returns:
        The paths written.
    """
    from ..images import save_image

    written = [pathlib.Path(save_image(png, atlas.image))]
    if html_page is not None:
        written.append(write_atlas_page(html_page, atlas, class_names=class_names))
    return written
