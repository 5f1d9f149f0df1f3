"""LRP (issue 22): agreement with Zennit 0.5.1, conservation, canonizers, bad input, no retrace.

The golden fixtures come from `scripts/zennit_reference.py` (run in its own venv; see
`tests/relevance/twins.py`): Zennit's relevance of the same Keras-weighted networks.
"""

from __future__ import annotations

import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from kerasviz import KerasvizError, LayerNotFoundError, ModelError, ParameterError, TargetError
from kerasviz.relevance import COMPOSITES, lrp
from kerasviz.relevance.clone import relevance_model
from kerasviz.relevance.composites import Composite
from kerasviz.relevance.lrp import check_lrp_options

sys.path.insert(0, str(Path(__file__).parent))
import twins  # noqa: E402

L = keras.layers


@pytest.fixture(scope="session")
def twin_models():
    """name -> (Keras model with the fixture's weights, images, targets, Zennit's results)."""
    result = {}
    for name in twins.TWINS:
        data = np.load(twins.FIXTURES / f"{name}_weights.npz")
        reference = dict(np.load(twins.FIXTURES / f"{name}_zennit.npz"))
        result[name] = (twins.load_twin(name), data["images"], data["targets"], reference)
    return result


#: The default run: every composite once on one of the two twins; the rest is slow.
FAST_GOLDEN = {
    ("bn_cnn", "epsilon"), ("bn_cnn", "epsilon_alpha2_beta1"), ("bn_cnn", "epsilon_gamma_box"),
    ("residual_cnn", "epsilon_plus"), ("residual_cnn", "epsilon_plus_flat"),
    ("residual_cnn", "epsilon_alpha2_beta1_flat"),
}
GOLDEN = [
    pytest.param(name, composite, marks=() if (name, composite) in FAST_GOLDEN else pytest.mark.slow)
    for name in twins.TWINS
    for composite in COMPOSITES
]


@pytest.mark.parametrize("name, composite", GOLDEN)
def test_equals_zennit(twin_models, name, composite):
    model, images, targets, reference = twin_models[name]
    ours = lrp(model, images, targets, composite=composite)
    theirs = reference[composite]
    assert ours.shape == theirs.shape == images.shape[:3]
    correlation = np.corrcoef(ours.ravel(), theirs.ravel())[0, 1]
    relative = np.abs(ours - theirs).max() / np.ptp(theirs)
    assert correlation >= 0.999, correlation
    assert relative <= 1e-4, relative  # measured: <= 3.5e-6 of the map's range


def test_twin_logits_equal_pytorch(twin_models):
    for model, images, _, reference in twin_models.values():
        np.testing.assert_allclose(model.predict(images, verbose=0), reference["logits"], atol=1e-5)


@pytest.fixture(scope="session")
def relu_nets():
    """A bias-free ReLU CNN and one with biases (pooling, dense head), random weights."""
    keras.utils.set_random_seed(3)

    def build(bias: bool) -> keras.Model:
        return keras.Sequential([
            keras.Input((16, 16, 3)),
            L.Rescaling(1 / 255.0),
            L.Conv2D(8, 3, padding="same", activation="relu", use_bias=bias),
            L.MaxPooling2D(),
            L.Conv2D(8, 3, padding="same", activation="relu", use_bias=bias,
                     bias_initializer="random_normal"),
            L.AveragePooling2D(2),
            L.Flatten(),
            L.Dense(16, activation="relu", use_bias=bias, bias_initializer="random_normal"),
            L.Dense(5, use_bias=bias, bias_initializer="random_normal"),
        ])

    images = np.random.default_rng(1).uniform(0, 255, (3, 16, 16, 3)).astype(np.float32)
    return build(False), build(True), images


def test_epsilon_conserves_the_logit(relu_nets):
    model, _, images = relu_nets
    logits = model.predict(images, verbose=0)
    targets = logits.argmax(axis=1)
    maps = lrp(model, images, targets, composite="epsilon")
    chosen = logits[np.arange(3), targets]
    np.testing.assert_allclose(maps.sum(axis=(1, 2)), chosen, rtol=0.01)
    assert np.abs(maps).max() > 0


def test_lrp0_is_gradient_times_input(relu_nets):
    from kerasviz import gradient_x_input

    _, model, images = relu_nets
    targets = np.array([0, 1, 2])
    maps = lrp(model, images, targets, composite="epsilon", epsilon=0.0)
    expected = gradient_x_input(model, images, targets).sum(axis=-1)
    assert np.abs(maps - expected).max() <= 1e-3 * np.ptp(expected)  # measured 7.6e-5 (Norm stabilizer)


def test_batch_norm_merge_keeps_logits_and_model_untouched(twin_models):
    model, images, _, _ = twin_models["bn_cnn"]
    before = [w.copy() for w in model.get_weights()]
    options = check_lrp_options("epsilon", None, 1e-6, 0.25, 0.0, 255.0, 8)
    clone, rules = relevance_model(model, options["composite"], epsilon=1e-6, gamma=0.25,
                                   low=0.0, high=255.0)
    assert rules["block1_bn"] == "merged into block1_conv"
    assert not any(isinstance(layer, L.BatchNormalization) for layer in clone.layers)
    np.testing.assert_allclose(clone.predict(images, verbose=0), model.predict(images, verbose=0),
                               atol=1e-5)
    lrp(model, images, [1, 2, 3, 4], composite="epsilon_gamma_box")
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)
    assert [type(layer) for layer in model.layers][-1] is L.Dense
    assert model.get_layer("fc1").activation is keras.activations.relu


def test_compiled_once(twin_models):
    model, images, targets, _ = twin_models["residual_cnn"]
    options = check_lrp_options("epsilon_plus", None, 1e-6, 0.25, 0.0, 255.0, 8)
    lrp(model, images, targets, composite="epsilon_plus")
    lrp(model, images[:1], 9, composite="epsilon_plus")
    lrp(model, images[:3], [1, 2, 3], composite="epsilon_plus")
    from kerasviz.backbones import as_backbone
    from kerasviz.compiled import cached

    clone, _ = relevance_model(as_backbone(model).model, options["composite"], epsilon=1e-6, gamma=0.25,
                               low=0.0, high=255.0)
    function = cached(clone, ("lrp_function", False), lambda: None)
    assert function.function.experimental_get_tracing_count() == 1


def test_single_image_and_overrides(twin_models):
    model, images, _, _ = twin_models["bn_cnn"]
    single = lrp(model, images[0], 3, composite="epsilon_plus")
    assert single.shape == (32, 32) and single.dtype == np.float32
    overridden = lrp(model, images[0], 3, composite="epsilon_plus",
                     rules={"block1_conv": "wsquare", L.Dense: "epsilon"})
    assert not np.allclose(single, overridden)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(composite="epsilon_magic"), ["composite", "epsilon_plus_flat"]),
        (dict(rules={"fc1": "zminus"}), ["rules['fc1']", "alpha2beta1"]),
        (dict(rules={"fc1": "pass"}), ["fc1", "epsilon"]),
        (dict(rules={"pool1": "zplus"}), ["pool1", "norm"]),
        (dict(rules={"no_such_layer": "epsilon"}), ["no_such_layer"]),
        (dict(rules=["fc1"]), ["rules"]),
        (dict(composite="epsilon_gamma_box", low=10.0), ["zbox", "low=10.0"]),
        (dict(low=5.0, high=1.0), ["low < high"]),
        (dict(epsilon=-1.0), ["epsilon"]),
        (dict(batch_size=0), ["batch_size"]),
    ],
)
def test_bad_options(twin_models, kwargs, words):
    model, images, _, _ = twin_models["bn_cnn"]
    with pytest.raises(ParameterError) as error:
        lrp(model, images[:2], [0, 1], **kwargs)
    for word in words:
        assert word in str(error.value)


def test_bad_target_and_model(twin_models, zoo_subclassed, zoo_headless):
    model, images, _, _ = twin_models["bn_cnn"]
    with pytest.raises(TargetError):
        lrp(model, images[:2], lambda logits: logits[:, 0])
    with pytest.raises(TargetError):
        lrp(model, images[:2], 11)
    with pytest.raises(ModelError, match="subclassed"):
        lrp(zoo_subclassed, images[:1])
    with pytest.raises(ModelError, match="headless"):
        lrp(zoo_headless, images[:1])


def test_composite_table_is_zennits():
    assert Composite("epsilon_gamma_box", {}).linear_rule(L.Dense(2), dense=True, first=True) == "epsilon"
    assert Composite("epsilon_plus_flat", {}).linear_rule(L.Dense(2), dense=True, first=True) == "flat"
    assert Composite("epsilon_alpha2_beta1", {}).linear_rule(L.Conv2D(2, 1), dense=False, first=True) == "alpha2beta1"


@pytest.mark.parametrize("name", ["zoo_sequential", "zoo_nested", "zoo_ops", "zoo_multi_output"])
def test_model_kinds(request, name):
    from kerasviz.backbones import Backbone

    model = request.getfixturevalue(name)
    if name == "zoo_multi_output":
        model = Backbone.from_model(model, output="classes")
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    maps = lrp(model, images, [1, 2], composite="epsilon")
    assert maps.shape == (2, 32, 32) and np.isfinite(maps).all()
    backbone = model if isinstance(model, Backbone) else Backbone.from_model(model)
    logits = backbone.logits(images)[[0, 1], [1, 2]]
    np.testing.assert_allclose(maps.sum(axis=(1, 2)), logits, rtol=1e-3, atol=1e-5)  # no biases
    if name == "zoo_ops":  # keras.ops nodes: the first-layer rules on two parallel convolutions
        for composite in ("epsilon_plus_flat", "epsilon_gamma_box"):
            assert np.isfinite(lrp(model, images, [1, 2], composite=composite)).all()


def test_vit_refused_with_the_layer_named():
    sys.path.insert(0, str(Path(__file__).parents[1]))
    import model_zoo

    images = np.zeros((1, 32, 32, 3), np.float32)
    vit = model_zoo.small_vit()
    with pytest.raises(ModelError, match="class_token") as error:
        lrp(vit, images, 0)
    assert isinstance(error.value, KerasvizError)
    # with rules for the two custom token layers, the attention layer is the one refused
    rules = {"class_token": "gradient", "position_embedding": "norm"}
    with pytest.raises(ModelError, match="block0_attention"):
        lrp(vit, images, 0, rules=rules)


def test_concept_relevance_splits_the_map(twin_models):
    from kerasviz.relevance import concept_relevance

    model, images, targets, _ = twin_models["bn_cnn"]
    full = lrp(model, images, targets, composite="epsilon_plus")
    halves = [
        concept_relevance(model, images, targets, "block2_conv", list(part), composite="epsilon_plus")
        for part in (range(0, 8), range(8, 16))
    ]
    np.testing.assert_allclose(halves[0] + halves[1], full, atol=1e-5 * np.ptp(full))
    assert not np.allclose(halves[0], full)
    one = concept_relevance(model, images[0], targets[0], "fc1", 3)
    assert one.shape == (32, 32)
    with pytest.raises(ParameterError, match="0..15"):
        concept_relevance(model, images, targets, "block3_relu", [16])
    with pytest.raises(LayerNotFoundError):
        concept_relevance(model, images, targets, "block9", [0])


def test_relevance_panel(twin_models):
    from kerasviz.relevance import relevance_panel

    model, images, targets, _ = twin_models["bn_cnn"]
    panel = relevance_panel({"bn_cnn": model}, {"a": images[0], "b": images[1]},
                            {"a": int(targets[0]), "b": int(targets[1])},
                            gradcam_layers={"bn_cnn": "block3_relu"})
    assert panel.dtype == np.uint8 and panel.ndim == 3 and panel.shape[1] > 4 * 32
