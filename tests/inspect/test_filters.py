"""first_layer_filters and layer_filters."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from kerasviz import LayerNotFoundError, ModelError, ParameterError
from kerasviz.inspect import first_layer_filters, layer_filters


def _grid_side(count, cols, tile, label=0, padding=2):
    rows = math.ceil(count / cols)
    return rows * (tile + label) + (rows + 1) * padding, cols * tile + (cols + 1) * padding


def test_lite0_first_layer_filters_grid(lite0):
    grid = first_layer_filters(lite0)  # stem_conv: 32 filters of 3 x 3 x 3
    tile = 3 * math.ceil(32 / 3)
    assert grid.dtype == np.uint8 and grid.shape == (*_grid_side(32, 6, tile), 3)
    kernel = lite0.model.get_layer("efficientnet_lite0").get_layer("stem_conv").kernel.numpy()
    first = grid[2 : 2 + tile, 2 : 2 + tile].astype(float)  # tile 0, enlarged 11x
    expected = (kernel[..., 0] - kernel[..., 0].min()) / np.ptp(kernel[..., 0]) * 255
    np.testing.assert_allclose(first[::11, ::11], expected, atol=0.51)
    cells = [
        grid[2 + r * (tile + 2) : (r + 1) * (tile + 2), 2 + c * (tile + 2) : (c + 1) * (tile + 2)]
        for r in range(6)
        for c in range(6)
    ]
    assert all(cell.min() == 0 for cell in cells[:32])  # each filter normalized: a 0 somewhere
    assert all(np.all(cell == 255) for cell in cells[32:])  # 32 tiles, then empty cells


def test_bgr_models_show_rgb_filters(vgg16):
    # VGG's Caffe preprocessing feeds BGR to block1_conv1: the tiles flip it back to RGB
    kernel = vgg16.model.get_layer("vgg16").get_layer("block1_conv1").kernel.numpy()[..., 0]
    grid = first_layer_filters(vgg16, scale=1, ncols=8)
    tile = grid[2:5, 2:5].astype(float)
    rgb = kernel[..., ::-1]
    np.testing.assert_allclose(tile, (rgb - rgb.min()) / np.ptp(rgb) * 255, atol=0.51)


def test_layer_filters_conv_and_depthwise(lite0, digits):
    grid = layer_filters(digits.model, "conv2", max_filters=3, max_channels=4)  # (3, 3, 16, 32)
    tile = 3 * math.ceil(40 / 3)
    label = grid.shape[0] - _grid_side(12, 4, tile)[0]  # 3 filters x 4 channels, labelled
    assert grid.shape[1] == _grid_side(12, 4, tile)[1] and 0 < label // 3 < 20
    depthwise = layer_filters(lite0, "block2b_dwconv", max_filters=2, max_channels=5)
    assert depthwise.shape[1] == _grid_side(10, 5, tile)[1]


def test_filters_exceptions(lite0, digits):
    with pytest.raises(ModelError, match="no 2-D convolution kernel"):
        layer_filters(lite0, "stem_bn")
    with pytest.raises(LayerNotFoundError):
        layer_filters(lite0, "stem_cnv")
    with pytest.raises(ParameterError, match="max_filters"):
        layer_filters(digits.model, "conv1", max_filters=0)
    with pytest.raises(ParameterError, match="scale"):
        first_layer_filters(digits.model, scale=-1)
    gray = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Dense(4),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )
    with pytest.raises(ModelError, match="no Conv2D"):
        first_layer_filters(gray)
