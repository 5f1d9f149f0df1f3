#!/usr/bin/env python
"""Compose the README's gallery strip (docs/gallery.jpg) from a `kerasviz demo` output folder.

Usage: `kerasviz demo --out gallery && python scripts/readme_gallery.py gallery docs/gallery.jpg`
"""

import sys
from pathlib import Path

from PIL import Image

ROWS = (("gradcam", "guided_backprop", "deep_dream"), ("style_transfer", "class_visualization", "adversarial"))
WIDTH, HEIGHT, GAP = 1200, 150, 6


def main(folder: str, out: str) -> None:
    """Scale each panel to one row height, lay the rows out left to right, save as JPEG."""
    rows = []
    for names in ROWS:
        tiles = []
        for name in names:
            image = Image.open(Path(folder) / f"{name}.png").convert("RGB")
            tiles.append(image.resize((round(image.width * HEIGHT / image.height), HEIGHT), Image.LANCZOS))
        width = sum(t.width for t in tiles) + GAP * (len(tiles) - 1)
        row = Image.new("RGB", (width, HEIGHT), "white")
        x = 0
        for tile in tiles:
            row.paste(tile, (x, 0))
            x += tile.width + GAP
        rows.append(row)
    scale = min(1.0, WIDTH / max(r.width for r in rows))
    rows = [r.resize((round(r.width * scale), round(r.height * scale)), Image.LANCZOS) for r in rows]
    strip = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows) + GAP), "white")
    strip.paste(rows[0], (0, 0))
    strip.paste(rows[1], (0, rows[0].height + GAP))
    strip.save(out, quality=88)


if __name__ == "__main__":
    main(*sys.argv[1:3])
