"""Objectives: algebra, per-image indices, distances, Gram matrices, targets computed once."""

import numpy as np
import pytest
import tensorflow as tf

from kerasviz import synthesis as ob
from kerasviz.errors import KerasvizError, LayerNotFoundError, ParameterError, TargetError

LAYER = "block3b_add"


@pytest.fixture(scope="module")
def pair(chelsea, coffee):
    return np.stack([chelsea, coffee])


# -- smoke / cardinality ---------------------------------------------------------------------------
def test_algebra_combines_scores_and_requirements(lite0, pair):
    objective = ob.class_score(285) - 1e-3 * ob.l2() + 0.5 * ob.channel(LAYER, 3)
    assert objective.layers == (LAYER,)
    assert objective.needs_logits and ob.PIXELS in objective.requires
    features = objective.feature_model(lite0)
    outputs = ob.objective_outputs(features, tf.constant(pair))
    expected = (
        outputs["logits"][:, 285]
        - 1e-3 * tf.reduce_mean(tf.square(pair / 127.5 - 1.0), axis=(1, 2, 3))
        + 0.5 * tf.reduce_mean(outputs[LAYER][..., 3], axis=(1, 2))
    )
    got = objective(outputs)
    assert got.shape == (2,) and got.dtype == tf.float32
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-5)
    np.testing.assert_allclose((-objective)(outputs), -got, rtol=1e-6)
    np.testing.assert_allclose((objective / 2)(outputs), got / 2, rtol=1e-6)
    assert sum([ob.l1(), ob.l2()]).requires == {ob.PIXELS}


def test_per_image_indices_pick_one_unit_per_image(lite0, pair):
    features = (ob.channel(LAYER, [1, 7]) + ob.class_score([285, 967])).feature_model(lite0)
    outputs = ob.objective_outputs(features, tf.constant(pair))
    means = tf.reduce_mean(outputs[LAYER], axis=(1, 2)).numpy()
    np.testing.assert_allclose(ob.channel(LAYER, [1, 7])(outputs), [means[0, 1], means[1, 7]], rtol=1e-6)
    logits = outputs["logits"].numpy()
    np.testing.assert_allclose(ob.class_score([285, 967])(outputs), [logits[0, 285], logits[1, 967]], rtol=1e-6)
    log_probs = tf.nn.log_softmax(logits).numpy()
    np.testing.assert_allclose(ob.class_score(285, logits=False)(outputs), log_probs[:, 285], rtol=1e-5)
    maps = outputs[LAYER].numpy()
    h, w = maps.shape[1:3]
    np.testing.assert_allclose(ob.neuron(LAYER, 4)(outputs), maps[:, h // 2, w // 2, 4], rtol=1e-6)
    np.testing.assert_allclose(ob.neuron(LAYER, [4, 5], x=1, y=2)(outputs), [maps[0, 2, 1, 4], maps[1, 2, 1, 5]])
    np.testing.assert_allclose(ob.layer_l2(LAYER)(outputs), (maps**2).mean(axis=(1, 2, 3)), rtol=1e-5)


def test_evaluate_scores_eagerly_and_pixel_only_objectives_need_no_model(lite0, chelsea):
    tv = ob.total_variation()
    assert tv.feature_model(lite0) is None
    flat = np.full((32, 32, 3), 100.0, np.float32)
    assert tv.evaluate(lite0, flat)[0] == pytest.approx(0.0, abs=1e-6)
    assert tv.evaluate(lite0, chelsea)[0] > 1e-3
    np.testing.assert_allclose(ob.l1().evaluate(lite0, np.full((8, 8, 3), 255.0)), [1.0], rtol=1e-6)
    assert ob.total_variation(1.0).evaluate(lite0, chelsea)[0] > ob.total_variation(2.0).evaluate(lite0, chelsea)[0]


# -- feature: distances and Grams ----------------------------------------------------------------
def test_gram_matrix_is_batched_and_normalized_by_positions():
    rng = np.random.default_rng(0)
    maps = rng.normal(size=(2, 5, 4, 3)).astype(np.float32)
    grams = ob.gram_matrix(maps).numpy()
    flat = maps.reshape(2, 20, 3)
    np.testing.assert_allclose(grams, np.einsum("npc,npd->ncd", flat, flat) / 20, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ob.gram_matrix(maps[0]), grams[0], rtol=1e-6)
    # tiling the same map 2x2 keeps the normalized Gram: size-independent statistics
    tiled = np.tile(maps[:1], (1, 2, 2, 1))
    np.testing.assert_allclose(ob.gram_matrix(tiled).numpy()[0], grams[0], rtol=1e-5)


def test_content_and_style_are_zero_at_their_own_targets(lite0, chelsea, coffee):
    content_t = ob.content_targets(lite0, chelsea)
    assert list(content_t) == lite0.content_layers
    style_t = ob.gram_targets(lite0, chelsea)
    assert list(style_t) == lite0.style_layers
    loss = ob.content(lite0.content_layers[0], content_t[lite0.content_layers[0]]) + ob.style(
        lite0.style_layers, style_t
    )
    values = loss.evaluate(lite0, np.stack([chelsea, coffee]))
    assert values[0] == pytest.approx(0.0, abs=1e-4)
    assert values[1] > 1e-2


def test_gram_targets_blend_several_styles_of_any_size(lite0, chelsea, coffee):
    small = coffee[:160, :192]
    layers = ["stem_activation", LAYER]
    one = ob.gram_targets(lite0, chelsea, layers)
    two = ob.gram_targets(lite0, small, layers)
    mix = ob.gram_targets(lite0, [chelsea, small], layers, weights=[0.25, 0.75])
    for name in layers:
        np.testing.assert_allclose(mix[name], 0.25 * one[name] + 0.75 * two[name], rtol=1e-4, atol=1e-6)
    features = lite0.features(layers, logits=False, input_shape=(None, None, 3))
    np.testing.assert_allclose(ob.gram_targets(features, chelsea)[LAYER], one[LAYER], rtol=1e-5)


def test_gradients_flow_to_pixels(lite0, chelsea):
    objective = ob.channel(LAYER, 2) - 1e-2 * ob.total_variation()
    features = objective.feature_model(lite0)
    x = tf.Variable(chelsea[None, :64, :64])
    with tf.GradientTape() as tape:
        score = tf.reduce_sum(objective(ob.objective_outputs(features, x)))
    gradient = tape.gradient(score, x)
    assert gradient is not None and np.isfinite(gradient.numpy()).all() and np.abs(gradient.numpy()).max() > 0


# -- exceptions ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, error",
    [
        (lambda: ob.channel("", 1), ParameterError),
        (lambda: ob.channel(LAYER, -1), ParameterError),
        (lambda: ob.channel(LAYER, 1.5), ParameterError),
        (lambda: ob.channel(LAYER, [[1]]), ParameterError),
        (lambda: ob.class_score(True), TargetError),
        (lambda: ob.class_score(-3), TargetError),
        (lambda: ob.neuron(LAYER, 0, x=-1), ParameterError),
        (lambda: ob.total_variation(0), ParameterError),
        (lambda: ob.total_variation(float("nan")), ParameterError),
        (lambda: ob.l2() * float("inf"), ParameterError),
        (lambda: ob.l2() + 3, ParameterError),
        (lambda: ob.l2() / 0, ParameterError),
        (lambda: ob.channel(LAYER, [1, 2]) + ob.class_score([1, 2, 3]), ParameterError),
        (lambda: ob.content(LAYER, np.zeros((3, 3))), ParameterError),
        (lambda: ob.content(LAYER, np.full((1, 2, 2, 3), np.nan)), ParameterError),
        (lambda: ob.style([LAYER], {}), ParameterError),
        (lambda: ob.style([LAYER], [np.zeros((3, 4))]), ParameterError),
        (lambda: ob.style([LAYER, "x"], [np.eye(2)] * 2, weights=[1.0]), ParameterError),
        (lambda: ob.style([], []), ParameterError),
    ],
)
def test_bad_arguments_raise(make, error):
    with pytest.raises(error):
        make()


def test_model_bound_checks(lite0, chelsea):
    with pytest.raises(LayerNotFoundError):
        ob.channel("block3b_addd", 0).feature_model(lite0)
    with pytest.raises(ParameterError, match="out of range"):
        ob.channel(LAYER, 40).feature_model(lite0)
    with pytest.raises(TargetError, match="out of range"):
        ob.class_score(1000).feature_model(lite0)
    with pytest.raises(ParameterError):
        ob.channel(LAYER, [1, 2, 3]).evaluate(lite0, chelsea)
    with pytest.raises(ParameterError):
        ob.gram_targets(lite0, [chelsea, chelsea], [LAYER], weights=[0.5, 0.6])
    with pytest.raises(KerasvizError):
        ob.content_targets(lite0, np.stack([chelsea, chelsea]))


def test_numbers_are_values_and_structure_is_the_key():
    a = ob.class_score(1) - 1e-3 * ob.l2()
    b = ob.class_score(285) - 1e-4 * ob.l2()
    assert a.key == b.key and hash(a.key) == hash(b.key)
    assert int(a.values[0]) == 1 and float(a.values[1]) == pytest.approx(1e-3)
    assert int(b.values[0]) == 285 and float(b.values[1]) == pytest.approx(1e-4)
    assert ob.class_score([1, 2]).key != ob.class_score(1).key
    assert ob.channel(LAYER, 3).key != ob.channel("block4c_add", 3).key
    specs = ob.content(LAYER, np.zeros((1, 4, 4, 8))).value_specs
    assert specs[0].shape.rank == 4 and specs[0].shape[1] is None


def test_custom_function_objective(lite0, chelsea):
    custom = ob.Objective(lambda o: tf.reduce_max(o["logits"], axis=-1), {"logits"}, name="top")
    value = (2 * custom).evaluate(lite0, chelsea)
    logits = lite0.logits(chelsea)
    np.testing.assert_allclose(value, 2 * logits.max(axis=1), rtol=1e-4)
