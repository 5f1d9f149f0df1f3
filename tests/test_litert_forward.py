"""kerasviz.litert_forward: forward-only work through LiteRT, equal to TensorFlow's outputs."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasviz import metrics as kvm
from kerasviz.backbones import as_backbone
from kerasviz.compiled import forward_logits
from kerasviz.errors import ParameterError
from kerasviz.litert_forward import (
    AUTO_MIN_IMAGES,
    forward_engine,
    litert_forward,
    set_forward_engine,
)


@pytest.fixture
def engine_setting():
    """Restores the engine setting a test changes."""
    yield set_forward_engine
    set_forward_engine("auto")


@pytest.mark.parametrize("kind", ["zoo_sequential", "zoo_nested", "zoo_ops", "zoo_subclassed", "zoo_vit"])
def test_litert_outputs_equal_tensorflow_on_every_model_kind(kind, request):
    model = as_backbone(request.getfixturevalue(kind)).model
    assert litert_forward(model) is not None
    images = np.random.default_rng(1).uniform(0, 255, (70, *model.inputs[0].shape[1:])).astype("float32")
    for batch_size in (1, 64, 5):  # the interpreter is resized to each batch
        expected = forward_logits(model, images, batch_size)
        got = forward_logits(model, images, batch_size, engine="litert")
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, atol=1e-5 * max(1.0, np.abs(expected).max()))


def test_any_size_models_stay_on_tensorflow(zoo_headless):
    model = as_backbone(zoo_headless).model
    assert litert_forward(model) is None
    images = np.random.default_rng(2).uniform(0, 255, (3, 32, 32, 3)).astype("float32")
    np.testing.assert_array_equal(forward_logits(model, images, engine="litert"), forward_logits(model, images))


class _NumpyDouble(keras.layers.Layer):
    def call(self, x):
        doubled = tf.numpy_function(lambda a: (2 * a).astype("float32"), [x], tf.float32)
        return tf.reshape(doubled, tf.shape(x))


def test_a_model_that_does_not_convert_stays_on_tensorflow_and_says_why():
    inputs = keras.Input((8, 8, 3))
    outputs = keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(_NumpyDouble()(inputs)))
    model = keras.Model(inputs, outputs, name="numpy_inside")
    with pytest.warns(UserWarning, match="'numpy_inside' stays on TensorFlow"):
        assert litert_forward(model) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the failure is remembered: no second conversion, no warning
        assert litert_forward(model) is None
        images = np.random.default_rng(3).uniform(0, 255, (4, 8, 8, 3)).astype("float32")
        np.testing.assert_array_equal(forward_logits(model, images, engine="litert"), forward_logits(model, images))


def test_engine_setting(engine_setting):
    assert forward_engine(AUTO_MIN_IMAGES - 1) == "tensorflow"
    assert forward_engine(AUTO_MIN_IMAGES) == "litert"
    engine_setting("tensorflow")
    assert forward_engine(10**6) == "tensorflow"
    engine_setting("litert")
    assert forward_engine(1) == "litert"
    with pytest.raises(ParameterError, match="engine"):
        engine_setting("onnx")


def test_a_metric_scores_the_same_on_either_engine(zoo_sequential, engine_setting, monkeypatch):
    from kerasviz.litert_forward import LiteRTForward

    calls = []
    original = LiteRTForward.__call__
    monkeypatch.setattr(LiteRTForward, "__call__", lambda self, batch: calls.append(len(batch)) or original(self, batch))
    images = np.random.default_rng(4).uniform(0, 255, (3, 32, 32, 3)).astype("float32")
    maps = np.random.default_rng(5).random((3, 32, 32))
    scores = {}
    for engine in ("tensorflow", "litert"):
        engine_setting(engine)
        scores[engine] = kvm.pixel_flipping(maps, model=zoo_sequential, images=images, targets=[0, 1, 2],
                                            features_in_step=96)
    np.testing.assert_allclose(scores["litert"], scores["tensorflow"], rtol=1e-4, atol=1e-6)
    assert sum(calls) >= 3 * 32  # every flipping step of every image went through LiteRT


def test_chunk_size_bounds_litert_streams_only():
    from kerasviz.litert_forward import CHUNK_BYTES, chunk_size

    lite0 = (224, 224, 3)
    assert chunk_size("tensorflow", 64, lite0) == 64
    assert chunk_size("litert", 64, lite0) == CHUNK_BYTES // (4 * 224 * 224 * 3) == 13
    assert chunk_size("litert", 8, lite0) == 8
    assert chunk_size("litert", 64, (8, 8, 1)) == 64
    assert chunk_size("litert", 64, (None, None, 3)) == 64
    assert chunk_size("litert", 64, (4096, 4096, 3)) == 1
