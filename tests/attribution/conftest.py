"""Attribution fixtures: the cat / espresso half-and-half image, a top-randomized Lite0, toy models."""

from __future__ import annotations

import keras
import numpy as np
import pytest

CAT, ESPRESSO = 285, 967


@pytest.fixture(scope="session")
def halves(chelsea, coffee) -> np.ndarray:
    """chelsea (cat) on the left half, coffee (espresso) on the right, each squeezed to 224 x 112.

    Lite0 on it (measured): logits cat 7.03, espresso 3.74; top-3 tiger cat 0.31, Egyptian cat
    0.14, tabby 0.09 -- both classes keep a clear positive logit, so both can be explained.
    """
    from kerasviz.images import resize_image

    return np.concatenate(
        [resize_image(chelsea, (224, 112)), resize_image(coffee, (224, 112))], axis=1
    ).astype(np.float32)


@pytest.fixture(scope="session")
def pointing():
    """`pointing(map) -> (left mass fraction, column of the peak)` for one (224, 224) map.

    The peak is taken on the map averaged over 16 x 16 blocks: single-pixel maxima of raw
    gradient maps are noise (vanilla saliency's single brightest pixel for the cat sits on the
    espresso side, column 164, while its 16 x 16 block peak is at column 40).
    """

    def measure(heatmap):
        heatmap = np.maximum(np.asarray(heatmap, np.float64), 0.0)
        left, right = heatmap[:, :112].sum(), heatmap[:, 112:].sum()
        blocks = heatmap.reshape(14, 16, 14, 16).mean(axis=(1, 3))
        peak_col = np.unravel_index(blocks.argmax(), blocks.shape)[1] * 16 + 8
        return left / (left + right), peak_col

    return measure


@pytest.fixture(scope="session")
def randomized_lite0(lite0):
    """A copy of Lite0 (clone_model + set_weights) with `top_conv` and `predictions` kernels
    re-drawn from a normal distribution of the same standard deviation (Adebayo et al.)."""
    import kerasviz

    clone = keras.models.clone_model(lite0.model)
    clone.set_weights(lite0.model.get_weights())
    rng = np.random.default_rng(0)
    for name in ("top_conv", "predictions"):
        layer = kerasviz.features.find_layer(clone, name)
        assert layer is not kerasviz.features.find_layer(lite0.model, name)
        layer.set_weights(
            [
                rng.normal(0.0, w.std(), w.shape).astype(np.float32) if w.ndim > 1 else w
                for w in layer.get_weights()
            ]
        )
    return kerasviz.Backbone.from_model(clone)


@pytest.fixture(scope="session")
def softmax_lite0(lite0):
    """Lite0 with a Softmax layer appended: a model that outputs probabilities."""
    return keras.Model(lite0.model.inputs, keras.layers.Softmax()(lite0.model.outputs[0]))


def toy_model(activation="relu", extra=None, softmax=False) -> keras.Model:
    """A small pixels -> 3-class model on 16 x 16 images, with a nested Sequential block."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", activation=activation, name="conv1")(x)
    block = keras.Sequential(
        [keras.Input((16, 16, 8)), keras.layers.Conv2D(8, 3, padding="same", name="conv2"),
         keras.layers.ReLU(6.0, name="relu6")],
        name="block",
    )
    x = block(x)
    if extra is not None:
        x = extra(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(3, activation="softmax" if softmax else None, name="dense")(x)
    return keras.Model(inputs, outputs, name="toy")


@pytest.fixture
def toy():
    """Factory of small nested models (fresh per test)."""
    return toy_model
