import keras
import numpy as np
import pytest

from kerasviz import Backbone, ModelError, ParameterError, PixelPreprocessing
from kerasviz.backbones import as_backbone


@pytest.fixture(scope="module")
def classifier():
    keras.utils.set_random_seed(1)
    inputs = keras.Input((24, 24, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="c1")(inputs)
    x = keras.layers.Conv2D(8, 3, strides=2, activation="relu", name="c2")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="fc")(x), name="tiny")


def test_from_model_defaults_and_logits(classifier):
    backbone = Backbone.from_model(classifier, class_names=["a", "b", "c"])
    assert backbone.input_size == (24, 24) and backbone.num_classes == 3
    assert backbone.gradcam_layer == "c2" and backbone.first_conv_layer == "c1"
    images = np.random.default_rng(0).uniform(0, 255, (4, 24, 24, 3)).astype("float32")
    probabilities = backbone.predict(images)
    np.testing.assert_allclose(probabilities, classifier(images), atol=1e-5)
    np.testing.assert_allclose(probabilities.sum(1), 1.0, atol=1e-5)
    top = backbone.decode(probabilities, top=2)
    assert len(top) == 4 and len(top[0]) == 2 and top[0][0][1] in "abc"
    assert top[0][0][2] >= top[0][1][2]


def test_preprocess_mode_is_inside_the_model(classifier):
    backbone = Backbone.from_model(classifier, preprocess="tf")
    images = np.full((1, 24, 24, 3), 255.0, "float32")
    expected = classifier(np.ones_like(images)).numpy()
    np.testing.assert_allclose(backbone.predict(images), expected, atol=1e-5)


def test_caffe_preprocessing_matches_keras():
    pixels = np.random.default_rng(0).uniform(0, 255, (2, 5, 5, 3)).astype("float32")
    ours = PixelPreprocessing("caffe")(pixels).numpy()
    np.testing.assert_allclose(ours, keras.applications.vgg16.preprocess_input(pixels.copy()), atol=1e-4)
    ours = PixelPreprocessing("tf")(pixels).numpy()
    np.testing.assert_allclose(ours, keras.applications.inception_v3.preprocess_input(pixels.copy()), atol=1e-5)


def test_wrong_size_and_bad_arguments(classifier):
    backbone = Backbone.from_model(classifier)
    with pytest.raises(ModelError, match=r"size=\(24, 24\)"):
        backbone.predict(np.zeros((1, 32, 32, 3), "float32"))
    with pytest.raises(ParameterError, match="top"):
        backbone.decode(np.ones((1, 3)) / 3, top=7)
    with pytest.raises(ParameterError, match="class_names"):
        Backbone.from_model(classifier, class_names=["only one"])
    with pytest.raises(ParameterError, match="mode"):
        PixelPreprocessing("bgr")
    with pytest.raises(ModelError, match="keras.Model"):
        as_backbone("vgg16")


def test_as_backbone_caches_wrapping(classifier):
    assert as_backbone(classifier) is as_backbone(classifier)
