"""Image grids: tile pictures into one, with optional wrapped text labels under each tile."""

from __future__ import annotations

import math
from typing import Any, Callable, List, Optional, Sequence, Union

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..checks import check_int
from ..errors import ImageError, ParameterError
from .arrays import Size, parse_size, resize_image, to_numpy, to_uint8
from .io import load_image

__all__ = ["image_grid", "wrap_label"]


def _tile_to_rgb(tile: Any, index: int) -> np.ndarray:
    """One grid tile as uint8 `(H, W, 3)`."""
    array = to_numpy(tile)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 3 and array.shape[-1] == 4:
        array = load_image(array)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=-1)
    if array.ndim != 3 or array.shape[-1] != 3 or 0 in array.shape:
        raise ImageError(
            f"Each grid tile must be (H, W) or (H, W, 3) and non-empty. Received: tile {index} "
            f"with shape {array.shape} and dtype {array.dtype}"
        )
    return to_uint8(array)


def wrap_label(text: str, width_of: Callable[[str], float], width: int) -> str:
    """Break `text` into lines at most `width` pixels wide (at spaces; inside a word only when
    the word alone is too wide).

    Args:
        text: The label; existing line breaks are kept.
        width_of: Measures a string's width in pixels (e.g. `ImageDraw.textlength`).
        width: The widest line allowed, in pixels.

    Returns:
        The text with line breaks.
    """
    lines: List[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if width_of(candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            for char in word:  # the word starts a new line, broken where it must be
                if line and width_of(line + char) > width:
                    lines.append(line)
                    line = ""
                line += char
        lines.append(line)
    return "\n".join(lines)


def _fill_colour(pad_value: Any) -> tuple:
    """`pad_value` as an `(r, g, b)` tuple of ints."""
    fill = np.asarray(pad_value)
    if (
        fill.shape not in ((), (3,))
        or not np.issubdtype(fill.dtype, np.number)
        or fill.min() < 0
        or fill.max() > 255
    ):
        raise ParameterError(
            "`pad_value` must be a gray level in [0, 255] or an (r, g, b) triple. "
            f"Received: pad_value={pad_value!r}"
        )
    return tuple(int(round(v)) for v in np.broadcast_to(fill, (3,)))


def image_grid(
    images: Any,
    *,
    ncols: Optional[int] = None,
    padding: int = 2,
    pad_value: Union[int, Sequence[int]] = 255,
    labels: Optional[Sequence[str]] = None,
    tile_size: Optional[Size] = None,
) -> np.ndarray:
    """Tile images into one picture, optionally with a text label under each tile.

    Tiles sit in a `nrows x ncols` grid of cells as large as the largest tile (smaller tiles are
    centred), with `padding` pixels around and between cells. The result is
    `nrows * (cell_h + label_h) + (nrows + 1) * padding` pixels high and
    `ncols * cell_w + (ncols + 1) * padding` wide, where `label_h` is 0 without labels.

    Args:
        images: a list of images or a batch array; each tile `(H, W, 3)` RGB or `(H, W)`
            grayscale (`(H, W, 1)` and RGBA `(H, W, 4)` are converted), uint8 or float in
            `[0, 255]` (clipped). Tiles may differ in size.
        ncols: number of columns; default `ceil(sqrt(N))` (near-square); at most N.
        padding: pixels between and around tiles, `>= 0`.
        pad_value: background gray level in `[0, 255]`, or an `(r, g, b)` triple.
        labels: optional text per tile (one string per image), drawn under the tile with
            Pillow's default font; text wider than the tile wraps onto more lines.
        tile_size: resize every tile to this (int `s` or `(height, width)`) with bicubic
            resizing, so that tiles of mixed sizes line up.

    Returns:
        A uint8 array `(H, W, 3)`.

    Raises:
        ImageError: no images, or a tile with an unusable shape.
        ParameterError: bad `ncols`, `padding`, `pad_value`, `labels` or `tile_size`.
    """
    items = list(images) if not hasattr(images, "shape") else list(to_numpy(images))
    if not items:
        raise ImageError("`image_grid` needs at least one image. Received: images with 0 items")
    target = parse_size(tile_size, "tile_size")
    tiles = [_tile_to_rgb(tile, i) for i, tile in enumerate(items)]
    if target is not None:
        tiles = [to_uint8(resize_image(tile, target)) for tile in tiles]
    count = len(tiles)
    ncols = math.ceil(math.sqrt(count)) if ncols is None else check_int(ncols, "ncols", low=1)
    padding = check_int(padding, "padding", low=0)
    fill_rgb = _fill_colour(pad_value)
    if labels is not None and (isinstance(labels, str) or len(labels) != count):
        raise ParameterError(
            f"`labels` must be a list of {count} strings, one per image. "
            f"Received: labels={labels!r}"
        )
    ncols = min(ncols, count)
    nrows = math.ceil(count / ncols)
    cell_h = max(t.shape[0] for t in tiles)
    cell_w = max(t.shape[1] for t in tiles)

    font = ImageFont.load_default()
    label_h = 0
    if labels is not None:
        probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
        width_of = lambda t: probe.textlength(t, font=font)  # noqa: E731
        labels = [wrap_label(str(text), width_of, cell_w - 4) for text in labels]
        heights = [probe.multiline_textbbox((0, 0), text or " ", font=font)[3] for text in labels]
        label_h = max(heights) + 4

    text_rgb = (0, 0, 0) if sum(fill_rgb) > 3 * 127 else (255, 255, 255)
    grid_h = nrows * (cell_h + label_h) + (nrows + 1) * padding
    grid_w = ncols * cell_w + (ncols + 1) * padding
    grid = np.empty((grid_h, grid_w, 3), np.uint8)
    grid[...] = fill_rgb
    for index, tile in enumerate(tiles):
        row, col = divmod(index, ncols)
        top = padding + row * (cell_h + label_h + padding)
        left = padding + col * (cell_w + padding)
        y = top + (cell_h - tile.shape[0]) // 2
        x = left + (cell_w - tile.shape[1]) // 2
        grid[y : y + tile.shape[0], x : x + tile.shape[1]] = tile
        if labels is not None:
            strip = Image.new("RGB", (cell_w, label_h), fill_rgb)
            draw = ImageDraw.Draw(strip)
            draw.multiline_text((2, 2), str(labels[index]), fill=text_rgb, font=font)
            grid[top + cell_h : top + cell_h + label_h, left : left + cell_w] = np.asarray(strip)
    return grid
