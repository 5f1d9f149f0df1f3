import keras
import numpy as np
import pytest

from kerasviz import ModelError, WeightsUnavailableError, load_backbone


def _offline(*args, **kwargs):
    raise Exception("URL fetch failure: no network")


def test_imagenet_weights_offline_name_file_and_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(keras.utils, "get_file", _offline)
    with pytest.raises(WeightsUnavailableError) as info:
        load_backbone("vgg16", weights="imagenet")
    message = str(info.value)
    assert "vgg16_weights_tf_dim_ordering_tf_kernels.h5" in message
    assert str(tmp_path / "models") in message and "weights=None" in message
    assert "(URL fetch failure: no network)" in message and "(Exception)" not in message


@pytest.mark.parametrize(
    "name, size, layer", [("vgg16", 224, "block5_conv3"), ("vgg19", 224, "block5_conv4"), ("inception_v3", 299, "mixed10")]
)
def test_untrained_applications(name, size, layer):
    backbone = load_backbone(name, weights=None)
    assert backbone.input_size == (size, size) and backbone.gradcam_layer == layer
    assert len(backbone.class_names) == 1000 and backbone.class_names[285] == "Egyptian cat"
    features = backbone.features([layer, *backbone.style_layers[:2]])
    outputs = features(np.zeros((1, size, size, 3), "float32"))
    assert outputs["logits"].shape == (1, 1000) and outputs[layer].shape[0] == 1


def test_local_weights_file_round_trip(tmp_path):
    first = load_backbone("vgg16", weights=None)
    path = tmp_path / "vgg16.weights.h5"
    first.model.layers[-1].save_weights(str(path))  # the application model (after preprocessing)
    second = load_backbone("vgg16", weights=str(path))
    image = np.random.default_rng(0).uniform(0, 255, (1, 224, 224, 3)).astype("float32")
    np.testing.assert_allclose(first.logits(image), second.logits(image), rtol=1e-4, atol=1e-4)


def test_unknown_backbone_suggests_a_name():
    with pytest.raises(ModelError, match="Did you mean"):
        load_backbone("vgg-16x")
    with pytest.raises(ModelError, match="weights"):
        load_backbone("vgg16", weights=3)
