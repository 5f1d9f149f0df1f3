"""Headless, multi-output and subclassed models as Backbones (issue 12)."""

import keras
import numpy as np
import pytest

import kerasviz as kv
from kerasviz import FeatureModel, ModelError
from kerasviz.backbones import as_backbone
from kerasviz.images import sample_image


def _pixels(n=2, size=32, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, size, size, 3)).astype("float32")


def test_headless_backbone_has_feature_defaults_and_refuses_class_scores(zoo_headless):
    backbone = kv.Backbone.from_model(zoo_headless)
    assert not backbone.has_classifier
    assert backbone.input_size is None  # the headless model runs at any size
    assert backbone.gradcam_layer == "headless_conv3"
    assert backbone.first_conv_layer == "headless_conv1"
    assert backbone.style_layers and backbone.content_layers and backbone.dream_layers
    with pytest.raises(ModelError, match="saliency needs class scores.*headless"):
        backbone.require_classifier("saliency")
    with pytest.raises(ModelError, match="headless"):
        backbone.num_classes  # noqa: B018 - the property raises
    outputs = FeatureModel(backbone, backbone.style_layers)(_pixels(size=48))
    assert outputs["headless_conv3"].shape == (2, 12, 12, 16)
    assert as_backbone(zoo_headless) is as_backbone(zoo_headless)


def test_pooled_headless_output_is_not_a_classifier():
    keras.utils.set_random_seed(0)
    model = keras.applications.VGG16(
        weights=None, include_top=False, pooling="avg", input_shape=(32, 32, 3)
    )
    backbone = kv.Backbone.from_model(model)
    assert not backbone.has_classifier and backbone.gradcam_layer == "block5_pool"


def test_load_backbone_vgg19_notop():
    backbone = kv.load_backbone("vgg19", weights=None, include_top=False)
    assert not backbone.has_classifier and backbone.class_names is None
    assert backbone.input_size is None
    assert backbone.gradcam_layer == "block5_conv4"
    assert backbone.style_layers[0] == "block1_conv1"
    out = FeatureModel(backbone, ["block5_conv4"], logits=False)(_pixels(1, 64))
    assert out["block5_conv4"].shape == (1, 4, 4, 512)


def test_load_backbone_notop_names_the_notop_weights_file(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def offline(*args, **kwargs):
        raise Exception("no network")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    with pytest.raises(kv.WeightsUnavailableError, match="vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"):
        kv.load_backbone("vgg19", include_top=False)


def test_headless_lite0_is_the_full_networks_feature_map_at_any_size(lite0):
    """Lite0 without its classifier: ImageNet features equal to the full network's top_activation,
    at any image size."""
    headless = kv.load_backbone("efficientnet_lite0", include_top=False)
    assert not headless.has_classifier and headless.class_names is None and headless.name == "efficientnet_lite0_notop"
    images = sample_image("chelsea", 224)[None].astype("float32")
    expected = FeatureModel(lite0, ["top_activation"], logits=False)(images)["top_activation"]
    np.testing.assert_allclose(headless.model(images), expected, atol=1e-4)
    assert headless.model(_pixels(1, 96)).shape == (1, 3, 3, 1280)
    with pytest.raises(ModelError, match="headless"):
        kv.saliency(headless, images, 281)


def test_multi_output_model_needs_and_takes_output(zoo_multi_output):
    with pytest.raises(ModelError, match="2 outputs.*output="):
        kv.Backbone.from_model(zoo_multi_output)
    with pytest.raises(ModelError, match="output="):
        as_backbone(zoo_multi_output)
    by_name = kv.Backbone.from_model(zoo_multi_output, output="classes")
    by_index = as_backbone(zoo_multi_output, output=1)
    assert by_name.has_classifier and by_name.num_classes == 10
    images = _pixels()
    probabilities = zoo_multi_output(images)["classes"].numpy()
    logits = by_name.logits(images)
    np.testing.assert_allclose(by_index.logits(images), logits, rtol=1e-5, atol=1e-5)
    softmax = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(softmax / softmax.sum(1, keepdims=True), probabilities, atol=1e-5)
    features = kv.load_backbone(zoo_multi_output, output="features", weights=None)
    assert not features.has_classifier
    with pytest.raises(ModelError, match="one of the names"):
        kv.Backbone.from_model(zoo_multi_output, output="nope")
    # Layer outputs need no output choice.
    assert FeatureModel(zoo_multi_output, ["multi_conv2"], logits=False)(images)["multi_conv2"].shape == (2, 16, 16, 16)


def test_subclassed_model_wraps_for_output_only_use(zoo_subclassed):
    backbone = kv.Backbone.from_model(zoo_subclassed)
    assert backbone.has_classifier and backbone.num_classes == 10
    assert backbone.input_size == (32, 32)
    assert backbone.gradcam_layer is None and backbone.style_layers == []
    images = _pixels()
    np.testing.assert_allclose(backbone.logits(images), zoo_subclassed(images).numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ModelError, match="subclassed.*functional API"):
        FeatureModel(backbone, ["conv2d"])
    with pytest.raises(ModelError, match="subclassed.*functional API"):
        FeatureModel(zoo_subclassed, ["conv2d"])
    with pytest.raises(ModelError, match="subclassed"):
        kv.layer_names(zoo_subclassed) and kv.features.find_layer(zoo_subclassed, "conv2d")
    # Output-only: the logits through FeatureModel and the gradient wrt pixels exist.
    assert FeatureModel(backbone)(images)["logits"].shape == (2, 10)


def test_unbuilt_subclassed_model_needs_input_shape():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1]))
    from model_zoo import SubclassedNet

    net = SubclassedNet()
    with pytest.raises(ModelError, match="input_shape"):
        kv.Backbone.from_model(net)
    backbone = kv.Backbone.from_model(net, input_shape=(24, 24, 3))
    assert backbone.input_size == (24, 24) and backbone.num_classes == 10
