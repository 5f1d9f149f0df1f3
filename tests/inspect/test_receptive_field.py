"""receptive_field: analytic VGG16 values, and the field holds every pixel whose gradient reaches the unit."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasviz import FeatureModel, LayerNotFoundError, ModelError, ParameterError
from kerasviz.inspect import ReceptiveField, receptive_field


@pytest.mark.parametrize(
    "layer, size, stride",
    [
        ("block1_conv1", 3, 1),
        ("block1_pool", 6, 2),
        ("block3_conv3", 40, 4),
        ("block4_conv3", 92, 8),
        ("block5_conv3", 196, 16),
        ("block5_pool", 212, 32),
    ],
)
def test_vgg16_analytic_values(vgg16, layer, size, stride):
    field = receptive_field(vgg16, layer)
    assert field.size == (size, size) and field.stride == (stride, stride)
    # 3x3 convolutions padded by 1 centre the field: unit 0 starts half a field before pixel 0
    assert field.offset[0] == -(size - stride) // 2 or layer == "block1_conv1"


def _support(backbone, layer, image_shape, unit):
    """Pixels whose gradient of one unit's activation is nonzero (any colour channel); the unit's
    most active channel is used (after a ReLU a dead unit has no gradient at all)."""
    features = FeatureModel(backbone, [layer], logits=False, input_shape=image_shape).model
    rng = np.random.default_rng(0)
    image = tf.constant(rng.uniform(0, 255, (1, *image_shape)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(image)
        units = features(image)[layer][0, unit[0], unit[1]]
        value = units[int(tf.argmax(units))]
    gradient = tape.gradient(value, image).numpy()[0]
    return np.abs(gradient).sum(-1) > 0


def _window_mask(field, unit, shape):
    top, left, bottom, right = field.window(*unit)
    mask = np.zeros(shape, bool)
    mask[max(top, 0) : max(bottom, 0), max(left, 0) : max(right, 0)] = True
    return mask


@pytest.fixture(scope="module")
def linear_cnn():
    """A linear CNN (no activations, so every path carries gradient) with strides, dilation,
    'same' / 'valid' padding, average pooling, zero padding and a residual branch."""
    keras.utils.set_random_seed(1)
    inputs = keras.Input((21, 20, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", name="c1")(inputs)
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same", name="c2")(x)
    branch = keras.layers.Conv2D(4, (3, 1), padding="same", name="c3")(x)
    x = keras.layers.Add(name="add")([x, branch])
    x = keras.layers.ZeroPadding2D(((1, 0), (0, 1)), name="pad")(x)
    x = keras.layers.AveragePooling2D(2, padding="valid", name="pool")(x)
    x = keras.layers.DepthwiseConv2D(3, dilation_rate=2, padding="same", name="dw")(x)
    outputs = keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, outputs)


def _box(mask):
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return rows.min(), rows.max(), cols.min(), cols.max()


@pytest.mark.parametrize("layer", ["c1", "c2", "add", "pool", "dw"])
def test_field_is_exactly_the_gradient_support_of_a_linear_cnn(linear_cnn, layer):
    shape = FeatureModel(linear_cnn, [layer], logits=False).model.outputs[0].shape
    field = receptive_field(linear_cnn, layer)
    for unit in [(0, 0), (shape[1] // 2, shape[2] // 2), (shape[1] - 1, shape[2] - 1)]:
        support = _support(linear_cnn, layer, (21, 20, 3), unit)
        mask = _window_mask(field, unit, (21, 20))
        if layer == "dw":  # a dilated kernel leaves holes: same extent, support inside the field
            assert _box(support) == _box(mask) and not (support & ~mask).any()
        else:
            np.testing.assert_array_equal(support, mask)


def test_vgg16_field_contains_the_gradient_support(vgg16):
    # VGG16 (random weights) at 64 x 64: ReLUs and max pooling make the support sparser than the
    # field, but never larger; it still reaches near the field's edges.
    field = receptive_field(vgg16, "block3_conv3", input_size=64)
    assert field == ReceptiveField((40, 40), (4, 4), (-18, -18))
    for unit in [(0, 0), (8, 7), (15, 15)]:
        support = _support(vgg16, "block3_conv3", (64, 64, 3), unit)
        mask = _window_mask(field, unit, (64, 64))
        assert support.any() and not (support & ~mask).any()
        rows = np.flatnonzero(support.any(axis=1))
        assert rows.max() - rows.min() + 1 >= 0.5 * mask.any(axis=1).sum()


def test_lite0_field_grows_and_offsets_follow_the_input_size(lite0):
    early = receptive_field(lite0, "block2b_add")
    late = receptive_field(lite0, "block4c_add")
    assert early.size == (19, 19) and early.stride == (4, 4)
    assert late.size[0] > early.size[0] and late.stride == (16, 16)
    odd = receptive_field(lite0, "block2b_add", input_size=(97, 96))
    assert (
        odd.size == early.size and odd.offset[0] != odd.offset[1]
    )  # TF 'same' pads odd sizes more


def test_receptive_field_exceptions(vgg16, lite0):
    with pytest.raises(LayerNotFoundError):
        receptive_field(vgg16, "block9_conv1")
    with pytest.raises(ModelError, match="feature map"):
        receptive_field(vgg16, "fc1")
    with pytest.raises(ParameterError, match="input_size"):
        receptive_field(lite0, "block2b_add", input_size=(0, 5))
    with pytest.raises(ModelError):
        receptive_field("vgg16", "block1_conv1")
    inputs = keras.Input((8, 8, 3))
    up = keras.layers.UpSampling2D(name="up")(keras.layers.Conv2D(2, 3, name="c")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(up)))
    with pytest.raises(ModelError, match="UpSampling2D"):
        receptive_field(model, "up")


# --- Global side branches (squeeze-excitation gates) and operation nodes ---


@pytest.fixture(scope="module")
def efficientnet_b0():
    import keras

    keras.utils.set_random_seed(0)
    return keras.applications.EfficientNetB0(weights=None, input_shape=(64, 64, 3), classes=5)


def _without_se(model):
    """The same network with every squeeze-excitation gate removed from the graph."""
    import keras

    from kerasviz.graph_tracing import trace_model

    def skip_gate(node, *args, **kwargs):
        if node.name.endswith("se_excite"):
            return args[0][0]  # Multiply([features, gate]) -> features
        return node(*args, **kwargs)

    inputs, logits, taps = trace_model(model, call_layer=skip_gate)
    stripped = keras.Model(inputs, logits, name="b0_without_se")
    assert not any("se_" in layer.name for layer in stripped.layers)
    return stripped


@pytest.mark.parametrize(
    "layer", ["block2a_project_conv", "block4a_expand_activation", "block5c_add", "top_activation"]
)
def test_efficientnet_fields_follow_the_spatial_path(efficientnet_b0, layer):
    """Through SE blocks the field equals the field of the graph without the gates."""
    stripped = _without_se(efficientnet_b0)
    for size in (64, 96):
        field = receptive_field(efficientnet_b0, layer, input_size=size)
        assert field == receptive_field(stripped, layer, input_size=size)
    assert field.size[0] > 100 if layer == "top_activation" else field.size[0] > 1


def test_max_activating_patches_on_efficientnet(efficientnet_b0):
    from kerasviz.inspect import max_activating_patches

    images = np.random.default_rng(0).uniform(0, 255, (4, 64, 64, 3)).astype(np.float32)
    result = max_activating_patches(efficientnet_b0, images, "block3a_project_conv", 0, k=3)
    assert result.patches.shape[0] == 3 and result.patches.shape[1:3] == result.field.size
    assert np.isfinite(result.activations).all()


def test_fields_through_operation_nodes():
    import keras

    keras.utils.set_random_seed(0)
    model = keras.applications.ConvNeXtTiny(weights=None, input_shape=(64, 64, 3), classes=5)
    add = next(op.name for op in model.operations if type(op).__name__ == "Add")
    field = receptive_field(model, add)  # stem 4x4 / 4, then a 7x7 depthwise conv at stride 4
    assert field.stride == (4, 4) and field.size == (4 + 6 * 4, 4 + 6 * 4)
