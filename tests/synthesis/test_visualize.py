"""Class and feature visualization on real Lite0 weights (small sizes, few steps)."""

import numpy as np
import pytest

from kerasviz import synthesis as ob
from kerasviz.errors import LayerNotFoundError, ParameterError, TargetError
from kerasviz.synthesis import PLAIN, Ascent, Execution, Regularization
from kerasviz.synthesis.visualize import visualize_class, visualize_feature

CLASSES = [285, 1, 130]  # Egyptian cat, goldfish, flamingo


@pytest.mark.slow
def test_class_visualizations_are_classified_as_their_class(lite0):
    images = visualize_class(lite0, CLASSES, size=80, steps=48)
    assert images.shape == (3, 80, 80, 3) and images.dtype == np.uint8
    probabilities = np.exp(ob.class_score(CLASSES, logits=False).evaluate(lite0, images))
    # measured 1.000 for all three at 96 px / 64 steps, 0.99+ at 80 px / 48 steps
    assert (probabilities > 0.9).all(), probabilities


@pytest.mark.slow
def test_regularization_lowers_total_variation(lite0):
    common = dict(size=64, steps=32, param="pixel", ascent=Ascent(step_size=1.0))
    plain = visualize_class(lite0, 285, regularization=PLAIN, **common)
    regular = visualize_class(lite0, 285, tv_weight=1.0, regularization=Regularization(blur_every=4), **common)
    tv = ob.total_variation()
    # measured at 96 px / 48 steps: 0.0106 unregularized vs 0.00044 regularized (24x lower)
    assert tv.evaluate(lite0, regular)[0] < 0.25 * tv.evaluate(lite0, plain)[0]
    assert np.exp(ob.class_score(285, logits=False).evaluate(lite0, regular))[0] > 0.9


def test_feature_visualization_batches_channels_and_each_prefers_its_own(lite0):
    layer, channels = "block3b_add", [0, 3, 7, 12]
    images = visualize_feature(lite0, layer, channels, size=48, steps=24, batch_size=2)
    assert images.shape == (4, 48, 48, 3) and images.dtype == np.uint8
    features = lite0.features([layer], logits=False, input_shape=(None, None, 3))
    means = np.asarray(features(images.astype(np.float32))[layer]).mean(axis=(1, 2))[:, channels]
    # each channel responds more to its own image than to the other channels' images on average
    assert (np.diag(means) > means.mean(axis=0)).all()
    single = visualize_feature(lite0, layer, 3, size=32, steps=2, neuron_only=True)
    assert single.shape == (32, 32, 3)


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda m: visualize_class(m, 1000, size=32, steps=1), TargetError),
        (lambda m: visualize_class(m, -1, size=32, steps=1), TargetError),
        (lambda m: visualize_class(m, 1.5, size=32, steps=1), TargetError),
        (lambda m: visualize_class(m, 1, size=8, steps=1), ParameterError),
        (lambda m: visualize_class(m, 1, size=32, steps=1, step_size=float("inf")), ParameterError),  # flat field
        (lambda m: visualize_class(m, 1, size=32, steps=1, steps_in_all=3), ParameterError),  # unknown
        (lambda m: visualize_class(m, 1, size=32, steps=1, tv_weight=-1), ParameterError),
        (lambda m: visualize_feature(m, "block3b_addx", 1, size=32, steps=1), LayerNotFoundError),
        (lambda m: visualize_feature(m, "block3b_add", 40, size=32, steps=1), ParameterError),
        (lambda m: visualize_feature(m, "block3b_add", [], size=32, steps=1), ParameterError),
        (lambda m: visualize_feature(m, "block3b_add", 1, size=32, steps=1, batch_size=0), ParameterError),
    ],
)
def test_bad_input(lite0, call, error):
    with pytest.raises(error):
        call(lite0)


def test_fixed_size_model_runs_at_another_size():
    import keras

    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Flatten()(keras.layers.Conv2D(2, 3)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(4)(x))
    assert visualize_class(model, 1, size=40, steps=1).shape == (40, 40, 3)
    with pytest.raises(ParameterError, match="Unknown options"):
        visualize_class(model, 1, size=40, steps=1, no_such_option=3)


def test_feature_visualization_of_a_vit_token_layer(zoo_vit):
    """A token layer `(N, 65, 32)` of the small ViT: each channel's image (two in one batch) raises
    its own channel's mean over the tokens well above a grey image's (once a raw
    `'do_blur' must be defined before the loop` from the compiled loop)."""
    layer, channels = "block1_add2", [2, 3]
    images = visualize_feature(zoo_vit, layer, channels, size=32, steps=16, execution=Execution(progress=False))
    assert images.shape == (2, 32, 32, 3) and images.dtype == np.uint8
    means = np.stack([ob.channel(layer, c).evaluate(zoo_vit, images) for c in channels], axis=1)  # (image, channel)
    grey = np.full((1, 32, 32, 3), 127.5, np.float32)
    baseline = np.array([ob.channel(layer, c).evaluate(zoo_vit, grey)[0] for c in channels])
    assert (np.diag(means) > baseline + 0.5).all(), (means, baseline)
    neuron = visualize_feature(zoo_vit, layer, 1, size=32, steps=2, neuron_only=True)
    assert neuron.shape == (32, 32, 3)
