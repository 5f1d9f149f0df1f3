"""kerasviz.images.render: colormaps and overlays (gradient and attribution pictures below)."""

from __future__ import annotations

import numpy as np
import pytest

from kerasviz.errors import ImageError, ParameterError
from kerasviz.images import (
    attribution_picture,
    colorize_map,
    gradient_image,
    normalize_map,
    overlay_heatmap,
    resize_map,
)

RNG = np.random.default_rng(0)


def _random_rgb(height: int = 37, width: int = 53) -> np.ndarray:
    return RNG.integers(0, 256, size=(height, width, 3), dtype=np.uint8)


# --------------------------------------------------------------------------------------------
# colormaps and overlays
# --------------------------------------------------------------------------------------------


def test_overlay_jet_high_is_red_low_is_blue():
    image = np.full((8, 8, 3), 128, np.uint8)
    hot = overlay_heatmap(image, np.ones((8, 8)), alpha=0.8)
    cold = overlay_heatmap(image, np.zeros((8, 8)), alpha=0.8)
    assert hot.dtype == np.uint8 and hot.shape == (8, 8, 3)
    r, g, b = hot[4, 4].astype(int)
    assert r > b + 50 and r > g + 50
    r, g, b = cold[4, 4].astype(int)
    assert b > r + 50 and b > g + 50


def test_overlay_blend_and_resize():
    image = _random_rgb(16, 20)
    heat = np.linspace(0, 1, 4 * 5).reshape(4, 5)
    np.testing.assert_array_equal(overlay_heatmap(image, heat, alpha=0.0), image)
    full = overlay_heatmap(image, heat, alpha=1.0, colormap="viridis")
    np.testing.assert_array_equal(full, colorize_map(resize_map(heat, (16, 20)), "viridis"))
    batch = overlay_heatmap(np.stack([image] * 2), np.stack([heat] * 2))
    assert batch.shape == (2, 16, 20, 3)
    with pytest.raises(ImageError, match="one heatmap per image"):
        overlay_heatmap(np.stack([image] * 2), heat)
    with pytest.raises(ImageError, match="normalize_map"):
        overlay_heatmap(image, heat * 5)
    with pytest.raises(ParameterError, match="alpha"):
        overlay_heatmap(image, heat, alpha=1.5)


def test_colorize_map_and_colormap_names():
    for name in ["jet", "turbo", "viridis", "inferno", "magma", "hot", "gray"]:
        out = colorize_map(np.linspace(0, 1, 12).reshape(3, 4), name)
        assert out.shape == (3, 4, 3) and out.dtype == np.uint8
    assert colorize_map(np.ones((1, 1)), "hot")[0, 0].tolist() == [255, 255, 255]
    assert colorize_map(np.full((1, 1), 0.5), "gray")[0, 0].tolist() == [128, 128, 128]
    assert colorize_map(np.ones((2, 1, 1)), "jet").shape == (2, 1, 1, 3)
    r, _, b = colorize_map(np.ones((1, 1)), "jet")[0, 0].astype(int)
    assert r > 100 and b == 0
    with pytest.raises(ParameterError, match="jet.*Received: colormap='rainbow'"):
        colorize_map(np.ones((2, 2)), "rainbow")
    with pytest.raises(ParameterError, match="viridis"):
        overlay_heatmap(np.zeros((2, 2, 3)), np.ones((2, 2)), colormap="nope")


# --------------------------------------------------------------------------------------------
# gradient_image
# --------------------------------------------------------------------------------------------


def test_gradient_image_centres_on_gray_and_scales_by_spread():
    grads = RNG.normal(size=(2, 16, 16, 3)).astype(np.float32) * 1e-4 + 5e-5
    picture = gradient_image(grads)
    assert picture.dtype == np.uint8 and picture.shape == (2, 16, 16, 3)
    assert abs(float(picture.mean()) - 127.5) < 2.0  # mean removed per image
    standard = (grads[0] - grads[0].mean()) / grads[0].std()
    expected = np.rint(np.clip(standard * 0.1 + 0.5, 0, 1) * 255)
    np.testing.assert_allclose(picture[0], expected, atol=1)
    np.testing.assert_allclose(gradient_image(grads * 1e6), picture, atol=1)  # scale-free
    sharper = gradient_image(grads[0], contrast=0.3)
    assert sharper.shape == (16, 16, 3) and sharper.std() > picture[0].std() * 2
    assert (gradient_image(np.zeros((4, 4, 3))) == 128).all()


def test_gradient_image_errors():
    with pytest.raises(ParameterError, match="Received: gradients with shape"):
        gradient_image(np.zeros((4, 4)))
    with pytest.raises(ParameterError, match="Received: gradients with shape"):
        gradient_image(np.full((4, 4, 3), np.nan))
    with pytest.raises(ParameterError, match="Received: contrast=0"):
        gradient_image(np.zeros((4, 4, 3)), contrast=0)


# --------------------------------------------------------------------------------------------
# attribution_picture: the one "attribution -> heatmap picture" renderer
# --------------------------------------------------------------------------------------------


def test_attribution_picture_map_view_is_the_normalized_map_at_image_size():
    image = _random_rgb(60, 90)
    coarse = RNG.random((6, 9)).astype(np.float32) * 3.0 - 1.0  # signed, any range
    picture = attribution_picture(image, coarse, view="map", colormap="gray")
    assert picture.dtype == np.uint8 and picture.shape == (60, 90, 3)  # input resolution, aspect
    expected = colorize_map(
        np.clip(resize_map(normalize_map(np.maximum(coarse, 0.0)), (60, 90)), 0, 1), "gray"
    )
    np.testing.assert_array_equal(picture, expected)
    hot = np.unravel_index(np.argmax(coarse), coarse.shape)
    assert picture[hot[0] * 10 + 5, hot[1] * 10 + 5, 0] >= 230  # the strongest cell is white


def test_attribution_picture_overlay_matches_overlay_heatmap():
    image = _random_rgb(32, 48)
    heat = RNG.random((32, 48)).astype(np.float32)
    picture = attribution_picture(image, heat, alpha=0.4, colormap="turbo")
    np.testing.assert_array_equal(
        picture, overlay_heatmap(image, normalize_map(heat), alpha=0.4, colormap="turbo")
    )


def test_attribution_picture_per_colour_attributions_and_percentile():
    image = np.zeros((2, 20, 20, 3), np.uint8)
    attributions = np.zeros((2, 20, 20, 3), np.float32)
    attributions[:, 5, 5] = (-2.0, 1.0, 1.0)  # |a| summed over colours: 4
    attributions[:, 10:, 10:, 0] = 0.5  # a wide region at 1/8 of the peak
    maps = attribution_picture(image, attributions, view="map", colormap="gray")
    assert maps.shape == (2, 20, 20, 3)
    assert maps[0, 5, 5, 0] == 255 and abs(int(maps[0, 15, 15, 0]) - 32) <= 1
    clipped = attribution_picture(image, attributions, view="map", colormap="gray", percentile=80)
    assert clipped[1, 15, 15, 0] == 255  # divided by the 80th percentile (0.5), clipped


def test_attribution_picture_errors():
    image = _random_rgb(8, 8)
    with pytest.raises(ParameterError, match="Received: view='jet'"):
        attribution_picture(image, np.ones((8, 8)), view="jet")
    with pytest.raises(ParameterError, match="Received: percentile=0"):
        attribution_picture(image, np.ones((8, 8)), percentile=0)
    with pytest.raises(ImageError, match=r"\(H, W\) or \(H, W, 3\).*Received: attributions"):
        attribution_picture(image, np.ones((2, 8, 8, 3)))
    with pytest.raises(ImageError, match="2 image.*1 attribution map"):
        attribution_picture(np.stack([image, image]), np.ones((1, 8, 8)))
