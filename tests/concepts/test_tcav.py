"""TCAV on a model trained here whose class 1 means "stripes": the stripes concept is significant,
a hue concept (invisible to the model, which sees only luminance) is not."""

from __future__ import annotations

import numpy as np
import pytest

from kerasviz.concepts import tcav
from kerasviz.errors import ModelError, ParameterError

RNG = np.random.default_rng(0)


def _backgrounds(count):
    return RNG.uniform(60, 190, (count, 32, 32, 1)).repeat(3, axis=-1)


def _with_stripes(images):
    stripes = np.where((np.arange(12) // 2 % 2 == 0)[:, None], 250.0, 5.0) * np.ones((12, 12))
    for image in images:
        y, x = RNG.integers(0, 20, 2)
        image[y : y + 12, x : x + 12] = stripes[..., None]
    return images.astype(np.float32)


def _with_squares(images):
    for image in images:
        y, x = RNG.integers(0, 20, 2)
        image[y : y + 12, x : x + 12] = RNG.uniform(0, 255)
    return images.astype(np.float32)


def _hue_shifted(images):
    """The same luminance (channel mean), another hue: +d red, -d green."""
    shift = RNG.uniform(30, 50, (len(images), 1, 1, 1)) * np.array([1.0, -1.0, 0.0])
    return np.clip(images + shift, 0, 255).astype(np.float32)


@pytest.fixture(scope="module")
def stripes_model():
    """A CNN on luminance: class 1 = a striped patch, class 0 = a flat square (100 % accuracy)."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 3))
    x = keras.ops.mean(inputs, axis=-1, keepdims=True)  # the model sees luminance only
    x = keras.layers.Rescaling(1 / 255.0)(x)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv3")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))
    images = np.concatenate([_with_stripes(_backgrounds(800)), _with_squares(_backgrounds(800))])
    labels = np.r_[np.ones(800), np.zeros(800)].astype(int)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(images, labels, batch_size=32, epochs=4, verbose=0)
    assert history.history["accuracy"][-1] > 0.98
    return model


def test_planted_concept_is_significant(stripes_model):
    randoms = _backgrounds(120).astype(np.float32)
    result = tcav(stripes_model, "conv2", _with_stripes(_backgrounds(30)), randoms, 1, runs=10,
                  images=_with_stripes(_backgrounds(30)), pooled=True)
    assert result.score > 0.9 and result.p_value < 0.01 and result.cavs.shape == (10, 16)


@pytest.mark.slow
def test_planted_concept_is_significant_and_unrelated_is_not(stripes_model):
    """Five independent draws of every image set (measured p-values of the hue concept: 0.007,
    0.32, 0.39, 0.61, 0.42 - TCAV's t-test has false positives at about its level, so one of
    five may be significant; the stripes concept is, every time, with p < 1e-6)."""
    significant_hue = 0
    for seed in range(5):
        randoms = _backgrounds(200).astype(np.float32)
        class_images = _with_stripes(_backgrounds(60))
        concept = _with_stripes(_backgrounds(40))
        stripes = tcav(stripes_model, "conv2", concept, randoms, 1, images=class_images, seed=seed)
        assert stripes.scores.shape == stripes.random_scores.shape == (20,)
        assert stripes.score > 0.9 and stripes.score > stripes.random_scores.mean() + 0.3
        assert stripes.p_value < 0.01 and stripes.accuracies.mean() > 0.95
        np.testing.assert_allclose(np.linalg.norm(stripes.cavs, axis=1), 1.0, rtol=1e-5)
        hue = tcav(stripes_model, "conv2", _hue_shifted(_backgrounds(40)), randoms, 1, images=class_images, seed=seed)
        significant_hue += hue.p_value < 0.05
    assert significant_hue <= 1


def test_bad_input(stripes_model, zoo_headless):
    images = _backgrounds(8).astype(np.float32)
    with pytest.raises(ParameterError, match="at least 2 concept images"):
        tcav(stripes_model, "conv2", images[:1], images, 1)
    with pytest.raises(ParameterError):
        tcav(stripes_model, "conv2", images, images, 5)
    with pytest.raises(ModelError):
        tcav(zoo_headless, "headless_conv2", images, images, 0)
