"""Token layers (vision transformers) as feature maps: grid detection and reshaping."""

import numpy as np
import pytest
import tensorflow as tf

from kerasviz import ModelError
from kerasviz.tokens import TokenGrid, token_grid, tokens_to_maps


@pytest.mark.parametrize(
    "tokens, expected",
    [(196, TokenGrid(14, 14, 0)), (197, TokenGrid(14, 14, 1)), (65, TokenGrid(8, 8, 1)),
     (201, TokenGrid(14, 14, 5))],
)
def test_grid_is_detected(tokens, expected):
    assert token_grid((None, tokens, 8)) == expected


def test_grid_and_skip_given_or_refused():
    assert token_grid((None, 53, 8), grid=(4, 13)) == TokenGrid(4, 13, 1)
    assert token_grid((None, 20, 8), skip_tokens=4) == TokenGrid(4, 4, 4)
    with pytest.raises(ModelError, match="token_grid=\\(h, w\\)"):
        token_grid((None, 3, 8))
    with pytest.raises(ModelError, match="not 0 skipped tokens"):
        token_grid((None, 53, 8), grid=(4, 13), skip_tokens=0)
    with pytest.raises(ModelError, match="neither a feature map"):
        token_grid((None, 10))


def test_tokens_to_maps_in_a_tf_function():
    grid = TokenGrid(2, 3, 1)
    tokens = np.arange(2 * 7 * 4, dtype=np.float32).reshape(2, 7, 4)

    @tf.function(input_signature=[tf.TensorSpec((None, 7, 4), tf.float32)])
    def as_maps(x):
        return tokens_to_maps(x, grid)

    maps = as_maps(tokens).numpy()
    assert maps.shape == (2, 2, 3, 4)
    np.testing.assert_array_equal(maps[1, 1, 2], tokens[1, 1 + 1 * 3 + 2])


@pytest.mark.slow
def test_zoo_vit_learns_digits_and_exposes_token_layers(zoo_vit, zoo_digits):
    """The trained zoo ViT (used by the CAM / rollout tests) beats chance clearly."""
    from kerasviz.backbones import as_backbone
    from kerasviz.tokens import token_grid

    images, labels, masks = zoo_digits
    held_out = images[1400:].astype(np.float32)
    accuracy = (zoo_vit.predict(held_out, verbose=0).argmax(1) == labels[1400:]).mean()
    assert accuracy > 0.4, accuracy  # chance is 0.1; measured about 0.6-0.7
    backbone = as_backbone(zoo_vit)
    assert backbone.gradcam_layer == "block1_norm1" and backbone.has_classifier  # last attention input
    shape = zoo_vit.get_layer("block0_add1").output.shape
    assert token_grid(shape) == TokenGrid(8, 8, 1)
    assert masks[1400:].mean() < 0.5  # an empty border around every digit
