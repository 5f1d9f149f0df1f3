"""activation_maps."""

from __future__ import annotations

import numpy as np
import pytest

from kerasviz import ImageError, LayerNotFoundError, ModelError, ParameterError
from kerasviz.backbones import as_backbone
from kerasviz.inspect import activation_maps
from kerasviz.inspect.layer_outputs import layer_function


def test_lite0_on_chelsea_is_non_trivial(lite0, chelsea):
    maps, grid = activation_maps(lite0, chelsea, "block3b_expand_activation")
    assert maps.shape == (240, 28, 28) and maps.dtype == np.float32
    assert maps.max() > 0 and (maps > 0).mean() > 0.05  # ReLU6 maps, many units firing
    active = (maps.reshape(240, -1) > 0).any(axis=1).mean()
    assert active > 0.5  # most channels respond somewhere on the cat
    assert grid.dtype == np.uint8 and grid.ndim == 3 and grid.std() > 10
    assert np.all((maps >= 0) & (maps <= 6))  # Lite0 uses ReLU6


def test_channels_order_and_sizes(lite0, chelsea):
    maps, _ = activation_maps(lite0, chelsea, "stem_activation")
    some, grid = activation_maps(
        lite0, chelsea, "stem_activation", channels=[5, 1], tile_size=None, ncols=2
    )
    np.testing.assert_allclose(some, maps[[5, 1]], rtol=1e-5, atol=1e-5)
    assert grid.shape[1] == 2 * 112 + 3 * 2  # two 112-px tiles
    small, _ = activation_maps(lite0, chelsea[:96, :128], "stem_activation", channels=0)
    assert small.shape == (1, 48, 64)  # any image size runs through the convolutions


def test_no_retrace_across_sizes(lite0, chelsea):
    activation_maps(lite0, chelsea, "block2b_add", channels=[0])
    fn = layer_function(as_backbone(lite0), "block2b_add", "map").fn
    activation_maps(lite0, chelsea[:64, :64], "block2b_add", channels=[1])
    assert fn.experimental_get_tracing_count() == 1


def test_activation_maps_exceptions(lite0, chelsea):
    with pytest.raises(ImageError, match="one image"):
        activation_maps(lite0, np.stack([chelsea, chelsea]), "stem_activation")
    with pytest.raises(LayerNotFoundError):
        activation_maps(lite0, chelsea, "stem_activaton")
    with pytest.raises(ModelError, match="feature map"):
        activation_maps(lite0, chelsea, "avg_pool")
    with pytest.raises(ParameterError, match=r"\[0, 31\]"):
        activation_maps(lite0, chelsea, "stem_activation", channels=[32])
    with pytest.raises(ParameterError, match="colormap"):
        activation_maps(lite0, chelsea, "stem_activation", colormap="rainbow")
    with pytest.raises(ParameterError, match="max_tiles"):
        activation_maps(lite0, chelsea, "stem_activation", max_tiles=0)


# --- Token layers of a vision transformer (the zoo's small ViT: 8 x 8 patches + a class token) ---


@pytest.fixture(scope="module")
def vit():
    import sys
    from pathlib import Path

    import keras

    sys.path.insert(0, str(Path(__file__).parents[1]))
    import model_zoo

    keras.utils.set_random_seed(0)
    return model_zoo.small_vit()


def test_activation_maps_on_token_layers(vit):
    import keras

    from kerasviz import ModelError
    from kerasviz.backbones import as_backbone

    image = np.random.default_rng(0).uniform(0, 255, (32, 32, 3)).astype(np.float32)
    maps, grid = activation_maps(vit, image, "block1_add2", channels=[0, 5])
    assert maps.shape == (2, 8, 8) and grid.dtype == np.uint8 and np.isfinite(maps).all()
    # Patch token (i, j) is token 1 + 8 i + j (after the class token).
    tokens = keras.Model(vit.inputs, vit.get_layer("block1_add2").output)(image[None]).numpy()[0]
    np.testing.assert_allclose(maps[1, 2, 3], tokens[1 + 8 * 2 + 3, 5], rtol=1e-4, atol=1e-4)
    given, _ = activation_maps(vit, image, "block1_add2", channels=[5], token_grid=(8, 8), skip_tokens=1)
    np.testing.assert_allclose(given[0], maps[1], rtol=1e-5, atol=1e-5)
    with pytest.raises(ModelError, match="skipped tokens"):
        activation_maps(vit, image, "block1_add2", token_grid=(8, 8), skip_tokens=0)
    assert as_backbone(vit).gradcam_layer == "block1_norm1"  # the last attention's input
