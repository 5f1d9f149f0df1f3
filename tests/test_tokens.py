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
