"""The demo panel: photo, Grad-CAM and the four black-box maps side by side."""

from __future__ import annotations

import numpy as np

from kerasviz.blackbox.panel import blackbox_maps, blackbox_panel, positive_part

IMAGE = np.random.default_rng(6).uniform(0, 255, (32, 32, 3)).astype(np.float32)
FAST = dict(masks=16, samples=16, grid=2, design=4)


def test_panel_tiles(zoo_sequential):
    with_cam = blackbox_panel(zoo_sequential, IMAGE, 1, **FAST)
    callable_only = blackbox_panel(lambda x: zoo_sequential.predict(x, verbose=0), IMAGE, 1, **FAST)
    assert with_cam.dtype == np.uint8 and with_cam.ndim == 3
    # Six tiles with Grad-CAM, five without: the panel is one tile (32 px + padding) narrower.
    assert with_cam.shape[1] - callable_only.shape[1] >= 32


def test_maps_are_display_ready(zoo_sequential):
    maps = blackbox_maps(zoo_sequential, IMAGE, 1, **FAST)
    assert list(maps) == ["RISE", "LIME", "Kernel SHAP", "Sobol"]
    for heatmap in maps.values():
        assert heatmap.shape == (32, 32) and heatmap.min() >= 0 and heatmap.max() <= 1
    np.testing.assert_array_equal(positive_part(np.array([[-1.0, 0.5], [1.0, 2.0]])), [[0, 0.25], [0.5, 1]])
