"""max_activating_patches: a streamed running top-k equals brute force; crops are the unit's field."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from kerasviz import FeatureModel, ImageError, LayerNotFoundError, ModelError, ParameterError
from kerasviz.backbones import as_backbone
from kerasviz.inspect import (
    ReceptiveField,
    SkippedImageWarning,
    max_activating_patches,
    receptive_field,
)
from kerasviz.inspect.layer_outputs import layer_function
from kerasviz.inspect.patches import PAD_VALUE, crop_field


def _channel_maps(model, images, layer, channel):
    features = FeatureModel(model, [layer], logits=False).model
    return features(images.astype("float32"))[layer].numpy()[..., channel]


def test_running_top_k_equals_brute_force(digits):
    images = digits.images[:50]
    result = max_activating_patches(digits.model, images, "conv2", 5, k=6, batch_size=7)
    maps = _channel_maps(digits.model, images, "conv2", 5)
    per_image = maps.reshape(len(maps), -1).max(axis=1)
    order = np.argsort(-per_image, kind="stable")[:6]
    assert result.sources == order.tolist()  # one patch per image, best first
    np.testing.assert_allclose(result.activations, per_image[order], rtol=1e-5)
    for source, (row, col), value in zip(result.sources, result.positions, result.activations):
        assert maps[source, row, col] == pytest.approx(value, rel=1e-5)


def test_patches_are_receptive_field_crops(digits):
    images = digits.images[:20]
    result = max_activating_patches(digits.model, images, "conv3", 0, k=4)
    field = receptive_field(digits.model, "conv3", input_size=24)
    assert result.field == field and field.size == (
        18,
        18,
    )  # 3, pool +1, conv +2*2, pool +1*2, conv +2*4
    assert result.patches.shape == (4, *field.size, 3) and result.patches.dtype == np.uint8
    for patch, source, unit in zip(result.patches, result.sources, result.positions):
        np.testing.assert_array_equal(
            patch, crop_field(images[source].astype("float32"), field, *unit)
        )
    assert result.grid.dtype == np.uint8 and result.grid.shape[0] >= 2 * field.size[0]


def test_crop_contains_every_pixel_whose_gradient_reaches_the_unit(digits):
    images = digits.images[:20]
    result = max_activating_patches(digits.model, images, "conv2", 3, k=3)
    features = FeatureModel(digits.model, ["conv2"], logits=False).model
    for source, (row, col) in zip(result.sources, result.positions):
        image = tf.constant(images[source : source + 1].astype("float32"))
        with tf.GradientTape() as tape:
            tape.watch(image)
            value = features(image)["conv2"][0, row, col, 3]
        support = np.abs(tape.gradient(value, image).numpy()[0]).sum(-1) > 0
        top, left, bottom, right = result.field.window(row, col)
        inside = np.zeros_like(support)
        inside[max(top, 0) : bottom, max(left, 0) : right] = True
        assert support.any() and not (support & ~inside).any()


def test_crop_field_pads_outside_the_image():
    image = np.full((10, 10, 3), 7.0, np.float32)
    field = ReceptiveField((6, 6), (2, 2), (-2, -2))
    crop = crop_field(image, field, 0, 0)  # rows -2..3: two padded rows and columns
    assert crop.shape == (6, 6, 3)
    assert np.all(crop[:2] == PAD_VALUE) and np.all(crop[:, :2] == PAD_VALUE)
    assert np.all(crop[2:, 2:] == 7.0)


def test_several_units_per_image_and_folders(digits, image_folder):
    multi = max_activating_patches(
        digits.model, digits.images[:3], "conv1", 2, k=5, one_per_image=False
    )
    assert len(multi.activations) == 5 and np.all(np.diff(multi.activations) <= 0)
    with pytest.warns(SkippedImageWarning):
        result = max_activating_patches(digits.model, image_folder, "conv3", 1, k=3, batch_size=4)
    assert all(str(image_folder) in s for s in result.sources) and len(result.sources) == 3
    few = max_activating_patches(digits.model, digits.images[:2], "conv3", 1, k=9)
    assert len(few.patches) == 2  # fewer images than k


def test_no_retrace_across_channels(digits):
    max_activating_patches(digits.model, digits.images[:4], "conv2", 0, k=2)
    fn = layer_function(as_backbone(digits.model), "conv2", "channel").fn
    max_activating_patches(digits.model, digits.images[:9], "conv2", 7, k=2, batch_size=3)
    assert fn.experimental_get_tracing_count() == 1


def test_patches_exceptions(digits, vgg16):
    images = digits.images[:4]
    with pytest.raises(ParameterError, match=r"\[0, 31\]"):
        max_activating_patches(digits.model, images, "conv2", 32)
    with pytest.raises(ParameterError, match="channel"):
        max_activating_patches(digits.model, images, "conv2", 1.5)
    with pytest.raises(ParameterError, match="`k`"):
        max_activating_patches(digits.model, images, "conv2", 0, k=0)
    with pytest.raises(LayerNotFoundError):
        max_activating_patches(digits.model, images, "conv9", 0)
    with pytest.raises(ModelError, match="feature map"):
        max_activating_patches(digits.model, images, "fc", 0)
    with pytest.raises(ImageError):
        max_activating_patches(digits.model, images[..., 0], "conv2", 0)
