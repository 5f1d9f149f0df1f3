"""load_backbone('efficientnet_lite0'): the offline backbone, end to end from pixels."""

import numpy as np
import pytest


@pytest.mark.parametrize("fixture, index, name, probability", [("chelsea", 285, "Egyptian cat", 0.773), ("coffee", 967, "espresso", 0.902)])
def test_lite0_acceptance_from_pixels(lite0, request, fixture, index, name, probability):
    image = request.getfixturevalue(fixture)
    (top,) = lite0.decode(lite0.predict(image), top=5)
    assert top[0][0] == index and top[0][1] == name
    assert abs(top[0][2] - probability) < 0.01


def test_lite0_defaults_exist(lite0):
    from kerasviz import layer_names

    names = set(layer_names(lite0))
    for layer in [lite0.gradcam_layer, lite0.first_conv_layer, *lite0.content_layers, *lite0.style_layers, *lite0.dream_layers]:
        assert layer in names
    assert lite0.input_size == (224, 224)


def test_lite0_batched_equals_single(lite0, chelsea, coffee):
    batch = lite0.logits(np.stack([chelsea, coffee]))
    np.testing.assert_allclose(batch[1], lite0.logits(coffee)[0], rtol=1e-4, atol=1e-4)
