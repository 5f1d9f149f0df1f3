"""kerasviz.images.grid: image_grid."""

from __future__ import annotations

import numpy as np
import pytest

from kerasviz.errors import ImageError, ParameterError
from kerasviz.images import (
    image_grid,
)

# --------------------------------------------------------------------------------------------
# image_grid
# --------------------------------------------------------------------------------------------


def test_image_grid_shape_arithmetic_and_placement():
    tiles = [np.full((10, 12, 3), i * 40, np.uint8) for i in range(5)]
    grid = image_grid(tiles)  # near-square: 3 columns, 2 rows
    assert grid.dtype == np.uint8
    assert grid.shape == (2 * 10 + 3 * 2, 3 * 12 + 4 * 2, 3)
    np.testing.assert_array_equal(grid[2:12, 2:14], tiles[0])
    np.testing.assert_array_equal(grid[14:24, 16:28], tiles[4])  # row 1, col 1
    assert (grid[0] == 255).all() and (grid[:, 0] == 255).all()
    assert (grid[14:24, 30:42] == 255).all()  # empty sixth cell
    grid = image_grid(np.stack(tiles), ncols=5, padding=0, pad_value=0)
    assert grid.shape == (10, 60, 3)
    assert image_grid(tiles, ncols=99).shape == (14, 5 * 12 + 6 * 2, 3)  # clamped to N


def test_image_grid_gray_float_and_mixed_sizes():
    gray = np.full((6, 6), 100.4, np.float32)
    rgb = np.zeros((6, 6, 3), np.uint8)
    grid = image_grid([gray, rgb], padding=1)
    assert grid.shape == (8, 15, 3)
    assert grid[1, 1].tolist() == [100, 100, 100]
    mixed = [np.zeros((4, 4, 3), np.uint8), np.zeros((9, 7, 3), np.uint8)]
    assert image_grid(mixed, padding=0, tile_size=(5, 6)).shape == (5, 12, 3)
    assert image_grid(mixed, padding=0).shape == (9, 14, 3)  # cells as big as the largest


def test_image_grid_labels():
    tiles = [np.zeros((20, 30, 3), np.uint8)] * 2
    plain = image_grid(tiles, ncols=2)
    labelled = image_grid(tiles, ncols=2, labels=["cat", "dog"])
    assert labelled.shape[1] == plain.shape[1]
    extra = labelled.shape[0] - plain.shape[0]
    assert extra > 5
    strip = labelled[22 : 22 + extra, 2:32]  # under the first tile
    assert (strip < 128).any() and (strip == 255).any()  # dark text on the white background
    with pytest.raises(ParameterError, match="labels"):
        image_grid(tiles, labels=["only one"])


def test_image_grid_wraps_labels_wider_than_the_tile():
    """A label too long for its tile wraps onto more lines instead of being cut at the tile edge."""
    tiles = [np.zeros((20, 40, 3), np.uint8)] * 2
    short = image_grid(tiles, ncols=2, padding=0, labels=["a", "b"])
    long = image_grid(tiles, ncols=2, padding=0, labels=["immunohistochemistry hubble", "b"])
    assert long.shape[1] == short.shape[1] and long.shape[0] >= short.shape[0] + 2 * (short.shape[0] - 20)
    strip = long[20:, :40]
    assert (strip < 128).any(axis=(0, 2)).nonzero()[0].max() <= 38  # no text reaches the tile edge
    written = [row for row in range(strip.shape[0]) if (strip[row] < 128).any()]
    assert written[-1] - written[0] > 2 * (short.shape[0] - 20) - 4  # three lines of text


def test_image_grid_bad_inputs():
    with pytest.raises(ImageError, match="at least one"):
        image_grid([])
    with pytest.raises(ImageError, match="at least one"):
        image_grid(np.zeros((0, 4, 4, 3)))
    with pytest.raises(ParameterError, match="ncols"):
        image_grid([np.zeros((2, 2, 3))], ncols=0)
    with pytest.raises(ParameterError, match="pad_value"):
        image_grid([np.zeros((2, 2, 3))], pad_value=(1, 2))
