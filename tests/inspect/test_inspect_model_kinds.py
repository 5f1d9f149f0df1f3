"""Every inspect technique on a headless backbone and on a keras.ops model; no retrace per call."""

from __future__ import annotations

import numpy as np
import pytest

from kerasviz.backbones import as_backbone
from kerasviz.inspect import (
    activation_maps,
    extract_features,
    first_layer_filters,
    layer_filters,
    max_activating_patches,
    receptive_field,
)
from kerasviz.inspect.layer_outputs import layer_function, layer_map


@pytest.fixture(scope="module")
def pixels():
    return np.random.default_rng(0).uniform(0, 255, (5, 32, 32, 3)).astype(np.float32)


@pytest.fixture(params=["headless", "ops"])
def model(request, zoo_headless, zoo_ops):
    return {"headless": zoo_headless, "ops": zoo_ops}[request.param]


def test_every_inspect_technique(model, pixels):
    backbone = as_backbone(model)
    layer = backbone.gradcam_layer
    maps, grid = activation_maps(model, pixels[0], layer)
    assert maps.ndim == 3 and np.isfinite(maps).all() and grid.dtype == np.uint8
    assert first_layer_filters(model).dtype == np.uint8
    assert layer_filters(model, backbone.style_layers[-1]).dtype == np.uint8
    field = receptive_field(model, layer, input_size=32)
    assert field.stride[0] >= 2 and field.size[0] > field.stride[0]
    patches = max_activating_patches(model, pixels, layer, 0, k=3)
    assert patches.patches.shape == (3, *field.size, 3)
    features = extract_features(model, pixels)
    assert features.shape[0] == 5 and features.ndim == 2 and np.isfinite(features).all()


def test_operation_nodes_are_inspectable(zoo_ops, pixels):
    names = [op.name for op in zoo_ops.operations if type(op).__name__ == "Multiply"]
    maps, _ = activation_maps(zoo_ops, pixels[0], names[0])
    assert maps.shape == (8, 32, 32)
    # The gate (a global side branch) does not change the field of the gated features.
    relu = next(op.name for op in zoo_ops.operations if type(op).__name__ == "Relu")
    assert receptive_field(zoo_ops, names[0]) == receptive_field(zoo_ops, relu)


def test_headless_extract_features_default_is_the_output(zoo_headless, pixels):
    features = extract_features(zoo_headless, pixels)
    output = zoo_headless(pixels).numpy().mean(axis=(1, 2))
    np.testing.assert_allclose(features, output, rtol=1e-4, atol=1e-4)


def test_no_retrace_per_call(zoo_ops, zoo_headless, pixels):
    """Two models, each inspect function called repeatedly: one trace per structure."""
    for model in (zoo_ops, zoo_headless):
        backbone = as_backbone(model)
        layer = backbone.gradcam_layer
        for image in pixels[:3]:
            activation_maps(model, image, layer)
        extract_features(model, pixels[:2])
        extract_features(model, pixels[2:])
        for channel in (0, 1, 2):
            max_activating_patches(model, pixels, layer, channel, k=2)
        for reduction in ("map", "pool", "channel"):
            compiled = layer_function(backbone, layer if reduction != "pool" else _pool_layer(backbone), reduction)
            assert compiled.fn.experimental_get_tracing_count() == 1, (model.name, reduction)


def _pool_layer(backbone):
    from kerasviz.inspect.layer_outputs import penultimate_layer

    return penultimate_layer(backbone)


def test_layer_map_reports_feature_maps(zoo_headless):
    shape, grid = layer_map(as_backbone(zoo_headless), "headless_conv2")
    assert grid is None and shape[-1] == 16
