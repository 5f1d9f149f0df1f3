import keras
import numpy as np
import pytest

from kerasviz import FeatureModel, LayerNotFoundError, ModelError, layer_names


def _base():
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(4, 3, name="conv_a")(inputs)
    x = keras.layers.ReLU(name="relu_a")(x)
    x = keras.layers.Conv2D(6, 3, strides=2, name="conv_b")(x)
    return keras.Model(inputs, x, name="base")


@pytest.fixture(scope="module")
def nested():
    """A Sequential holding a Functional base, ending in a Dense softmax (transfer learning)."""
    keras.utils.set_random_seed(0)
    base = _base()
    model = keras.Sequential(
        [keras.Input((32, 32, 3)), base, keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(5, activation="softmax", name="fc")],
        name="classifier",
    )
    return model, base


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).uniform(0, 255, (3, 32, 32, 3)).astype("float32")


def test_nested_layers_are_reachable_and_correct(nested, images):
    model, base = nested
    outputs = FeatureModel(model, ["relu_a", "conv_b"])(images)
    reference = keras.Model(base.inputs[0], [base.get_layer("relu_a").output, base.output])(images)
    np.testing.assert_allclose(outputs["relu_a"], reference[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(outputs["conv_b"], reference[1], rtol=1e-5, atol=1e-5)


def test_logits_are_pre_softmax_and_model_untouched(nested, images):
    model, _ = nested
    logits = FeatureModel(model)(images)["logits"].numpy()
    probabilities = model(images).numpy()
    assert not np.allclose(logits.sum(1), 1.0)
    softmax = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(softmax / softmax.sum(1, keepdims=True), probabilities, atol=1e-5)
    assert np.array_equal(logits.argmax(1), probabilities.argmax(1))
    assert model.get_layer("fc").activation.__name__ == "softmax"  # user's model unchanged


class _SetCountingDense(keras.layers.Dense):
    """A Dense layer counting assignments to its `activation` after it is built."""

    assignments = 0

    def __setattr__(self, name, value):
        if name == "activation" and getattr(self, "built", False):
            type(self).assignments += 1
        super().__setattr__(name, value)


def test_softmax_stripping_never_modifies_the_users_layer(images):
    """The logits come from a linear copy of the layer: the user's layer is never reassigned, even
    for a moment (another thread may be using the model)."""
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(3, 3)(inputs))
    model = keras.Model(inputs, _SetCountingDense(4, activation="softmax", name="fc")(x))
    expected = model.get_layer("fc").kernel.numpy()
    features = FeatureModel(model, ["fc"])
    for _ in range(2):
        logits = features(images)["logits"].numpy()
    assert _SetCountingDense.assignments == 0
    assert model.get_layer("fc").activation.__name__ == "softmax"
    shifted = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(shifted / shifted.sum(1, keepdims=True), model(images), atol=1e-5)
    model.get_layer("fc").kernel.assign(expected * 2)  # the weights are shared, not copied
    np.testing.assert_allclose(features(images)["logits"], 2 * logits - model.get_layer("fc").bias.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("head", ["layer", "activation"])
def test_standalone_softmax_layers_are_stripped(head, images):
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(3, 3)(inputs))
    x = keras.layers.Dense(4, name="scores")(x)
    out = keras.layers.Softmax()(x) if head == "layer" else keras.layers.Activation("softmax")(x)
    model = keras.Model(inputs, out)
    features = FeatureModel(model, ["scores"])(images)
    np.testing.assert_allclose(features["logits"], features["scores"], rtol=1e-6)


def test_unknown_layer_lists_close_matches(nested):
    model, _ = nested
    with pytest.raises(LayerNotFoundError) as info:
        FeatureModel(model, ["conv_c"])
    message = str(info.value)
    assert "'conv_a'" in message and "'conv_b'" in message and "Received: layer='conv_c'" in message


def test_models_are_cached(nested):
    model, _ = nested
    assert FeatureModel(model, ["conv_a"]).model is FeatureModel(model, ("conv_a",)).model
    assert FeatureModel(model, ["conv_a"]).model is not FeatureModel(model, ["conv_b"]).model


def test_any_input_size_for_convolutional_layers(nested):
    model, _ = nested
    features = FeatureModel(model, ["conv_b"], logits=False, input_shape=(None, None, 3))
    assert features(np.zeros((2, 48, 40, 3), "float32"))["conv_b"].shape == (2, 22, 18, 6)


def test_layers_needing_fixed_size_give_clear_error():
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Flatten(name="flat")(keras.layers.Conv2D(2, 3, name="c")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(3, name="dense")(x))
    with pytest.raises(ModelError, match="input_shape"):
        FeatureModel(model, ["dense"], logits=False, input_shape=(None, None, 3))


def test_layer_names_opens_nested_models(nested):
    model, _ = nested
    assert layer_names(model) == ["base", "conv_a", "relu_a", "conv_b", "global_average_pooling2d", "fc"] or {
        "conv_a", "relu_a", "conv_b", "fc"
    } <= set(layer_names(model))


def test_multi_input_model_is_refused():
    a, b = keras.Input((8, 8, 3)), keras.Input((8, 8, 3))
    model = keras.Model([a, b], keras.layers.Add()([a, b]))
    with pytest.raises(ModelError, match="one image input"):
        FeatureModel(model, [])


# --- Keras 3 operation nodes (x + y, keras.ops.*): in model.operations, not model.layers ---


@pytest.fixture(scope="module", params=["ConvNeXtTiny", "MobileNetV3Small"])
def op_model(request):
    keras.utils.set_random_seed(0)
    build = getattr(keras.applications, request.param)
    return build(weights=None, input_shape=(32, 32, 3), classes=7)


def _op_names(model):
    return [op.name for op in model.operations if not isinstance(op, keras.layers.Layer)]


def test_operation_nodes_are_listed_found_and_addressable(op_model):
    from kerasviz.graph_nodes import find_layer

    ops = _op_names(op_model)
    assert ops, "the model should contain operation nodes"
    names = layer_names(op_model)
    assert set(ops) <= set(names)
    assert not isinstance(find_layer(op_model, ops[0]), keras.layers.Layer)
    images = np.random.default_rng(1).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    outputs = FeatureModel(op_model, [ops[0], ops[-1]])(images)
    node = next(op for op in op_model.operations if op.name == ops[0])
    reference = keras.Model(op_model.inputs, node.output)(images)
    np.testing.assert_allclose(outputs[ops[0]], reference, rtol=1e-4, atol=1e-4)
    assert outputs["logits"].shape == (2, 7)


def test_backbone_defaults_on_operation_node_models_are_addressable(op_model):
    import kerasviz as kv

    backbone = kv.Backbone.from_model(op_model)
    named = [backbone.gradcam_layer, backbone.first_conv_layer, *backbone.content_layers,
             *backbone.style_layers, *backbone.dream_layers]
    assert all(named) and backbone.has_classifier and backbone.num_classes == 7
    outputs = FeatureModel(backbone, sorted(set(named)))(np.zeros((1, 32, 32, 3), np.float32))
    for name in set(named):
        assert len(outputs[name].shape) == 4 and outputs[name].shape[1] >= 1
    # Grad-CAM's default is the last map of the main path, not a squeeze-excitation gate or head.
    assert "squeeze" not in backbone.gradcam_layer and backbone.gradcam_layer != "logits"


def test_trace_model_call_layer_sees_operation_nodes(op_model):
    """The hook guided backprop uses: every leaf node, operation nodes included, goes through it."""
    from kerasviz.graph_tracing import trace_model

    seen = []

    def call_layer(node, *args, **kwargs):
        seen.append(node.name)
        return node(*args, **kwargs)

    inputs, logits, taps = trace_model(op_model, call_layer=call_layer)
    assert set(_op_names(op_model)) <= set(seen)
    assert logits.shape[-1] == 7 and set(_op_names(op_model)) <= set(taps)
    # The softmax (a layer or activation) is stripped: the traced output is pre-softmax.
    clone = keras.Model(inputs, logits)
    images = np.random.default_rng(2).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    probabilities = op_model(images).numpy()
    z = clone(images).numpy()
    softmax = np.exp(z - z.max(1, keepdims=True))
    np.testing.assert_allclose(softmax / softmax.sum(1, keepdims=True), probabilities, atol=1e-5)


def test_ops_softmax_node_is_stripped():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(inputs))
    z = keras.layers.Dense(3, name="dense_logits")(x)
    model = keras.Model(inputs, keras.ops.softmax(z * 2.0))
    images = np.random.default_rng(3).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    logits = FeatureModel(model)(images)["logits"].numpy()
    reference = keras.Model(inputs, z * 2.0)(images).numpy()
    np.testing.assert_allclose(logits, reference, rtol=1e-5, atol=1e-5)
