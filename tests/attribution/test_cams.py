"""The CAM family on real Lite0 weights: Score-CAM, LayerCAM, Eigen-CAM, HiResCAM, XGrad-CAM,
Ablation-CAM (shapes, pointing game on the cat | espresso image, equivalences, no retracing)."""

from __future__ import annotations

import numpy as np
import pytest

from kerasviz.attribution import (
    ablation_cam,
    eigen_cam,
    gradcam,
    hires_cam,
    layer_cam,
    pointing_game,
    score_cam,
    xgrad_cam,
)
from kerasviz.attribution.ablation_cam import ablation_cam_function
from kerasviz.attribution.eigen_cam import activation_function, first_component
from kerasviz.attribution.inputs import scale_to_unit
from kerasviz.attribution.layer_gradients import feature_gradient_function
from kerasviz.attribution.score_cam import score_cam_function
from kerasviz.compiled import forward_logits
from kerasviz.errors import LayerNotFoundError, ModelError, ParameterError, TargetError
from kerasviz.targets import resolve_target

CAT, ESPRESSO = 285, 967
HALVES = np.array([[0, 0, 224, 112], [0, 112, 224, 224]])  # cat left, espresso right


def fast_score_cam(model, images, target=None, **kwargs):
    return score_cam(model, images, target, channels=128, **kwargs)


def fast_ablation_cam(model, images, target=None, **kwargs):
    return ablation_cam(model, images, target, **kwargs)


CLASS_CAMS = [hires_cam, xgrad_cam, layer_cam, fast_score_cam, fast_ablation_cam]
ALL_CAMS = CLASS_CAMS + [eigen_cam]


def few_channel_score_cam(model, images, target=None, **kwargs):
    return score_cam(model, images, target, channels=32, **kwargs)


@pytest.mark.parametrize(
    "method, batch_size",
    [(hires_cam, 1), (xgrad_cam, 1), (layer_cam, 1), (eigen_cam, 1),
     (few_channel_score_cam, 16), (ablation_cam, 256)],
    ids=lambda m: getattr(m, "__name__", str(m)),
)
def test_shapes_ranges_and_batching(lite0, chelsea, coffee, method, batch_size):
    # batch_size is images per call for the gradient CAMs, masks / ablations per chunk for
    # Score-CAM and Ablation-CAM (a chunk that does not divide the channels is padded).
    single = method(lite0, chelsea, CAT)
    assert single.shape == (224, 224) and single.dtype == np.float32
    assert single.min() >= 0 and single.max() == pytest.approx(1.0)
    both = method(lite0, np.stack([chelsea, coffee]), [CAT, ESPRESSO], batch_size=batch_size)
    assert both.shape == (2, 224, 224)
    np.testing.assert_allclose(both[0], single, atol=1e-4)


@pytest.mark.parametrize("method", CLASS_CAMS, ids=lambda m: m.__name__)
def test_pointing_game_on_cat_and_espresso(lite0, halves, method):
    # Measured at top_activation (hits cat / espresso, energy on the right half-object):
    #   HiResCAM, XGrad-CAM, Ablation-CAM  hit / hit  0.94 / 0.73 (= Grad-CAM here, see below)
    #   LayerCAM                           hit / hit  0.71 / 0.55
    #   Score-CAM 128 channels             hit / hit  0.91 / 0.72 (all 1280: 0.91 / 0.72)
    maps = method(lite0, np.stack([halves, halves]), [CAT, ESPRESSO])
    result = pointing_game(maps, HALVES, tolerance=0)
    print(method.__name__, result.hits, result.energy.round(2))
    assert result.hits.all()
    assert result.energy[0] > 0.6 and result.energy[1] > 0.5


def test_eigen_cam_is_class_agnostic(lite0, halves):
    # One map whatever the class: it cannot point at both objects. Measured: its peak and 76 % of
    # its mass lie on the espresso (the first principal component of top_activation).
    maps = [eigen_cam(lite0, halves, t) for t in (CAT, ESPRESSO, None, lambda x: x[:, 0])]
    for other in maps[1:]:
        np.testing.assert_array_equal(maps[0], other)
    result = pointing_game(np.stack(maps[:2]), HALVES, tolerance=0)
    print("eigen_cam", result.hits, result.energy.round(2))
    assert result.hits.tolist() == [False, True]
    with pytest.raises(TargetError):
        eigen_cam(lite0, halves, [1, 2])


def test_first_component_recovers_a_rank_one_pattern():
    rng = np.random.default_rng(0)
    where = rng.uniform(size=(5, 5))
    loadings = rng.uniform(size=8)
    activations = np.einsum("hw,k->hwk", where, loadings)[None] + 3.0
    projection = first_component(activations)[0]
    np.testing.assert_allclose(scale_to_unit((projection - projection.min())[None])[0],
                               (where - where.min()) / np.ptp(where), atol=1e-6)


@pytest.mark.parametrize("method", [hires_cam, xgrad_cam], ids=lambda m: m.__name__)
def test_equal_to_gradcam_behind_global_average_pooling(lite0, chelsea, coffee, method):
    # Behind top_activation Lite0 is average pooling + dense: the gradient is the same at every
    # position (W_kc / hw), so HiResCAM and XGrad-CAM reduce to Grad-CAM there (as their papers
    # note); they differ on earlier layers.
    images, target = np.stack([chelsea, coffee]), [CAT, ESPRESSO]
    np.testing.assert_allclose(method(lite0, images, target), gradcam(lite0, images, target),
                               atol=2e-3)
    early = method(lite0, images, target, layer="block6d_add")
    assert np.abs(early - gradcam(lite0, images, target, layer="block6d_add")).max() > 0.05


def test_layer_cam_fusion(lite0, chelsea):
    layers = ["block5c_add", "top_activation"]
    fused = layer_cam(lite0, chelsea, CAT, layer=layers, gamma=2.0)
    singles = [layer_cam(lite0, chelsea, CAT, layer=name) for name in layers]
    expected = scale_to_unit(np.maximum(*[np.tanh(2.0 * m) for m in singles])[None])[0]
    np.testing.assert_allclose(fused, expected, atol=1e-5)
    assert np.abs(fused - singles[1]).max() > 0.1
    with pytest.raises(ParameterError, match="gamma"):
        layer_cam(lite0, chelsea, CAT, layer=layers, gamma=0)


def test_score_cam_scores_equal_a_per_channel_loop(lite0, chelsea):
    target = resolve_target(CAT, 1, 1000)
    scorer = score_cam_function(lite0, "top_activation", 5, target)
    scores, channels, activations = scorer(chelsea, CAT, 12)
    assert len(channels) == 12 and activations.shape == (7, 7, 1280)
    chosen = activations[..., channels]
    low, high = chosen.min(axis=(0, 1)), chosen.max(axis=(0, 1))
    unit = np.where(high > low, (chosen - low) / np.where(high > low, high - low, 1), 0.0)
    import tensorflow as tf

    masks = tf.image.resize(np.moveaxis(unit, -1, 0)[..., None], (224, 224)).numpy()
    expected = [forward_logits(lite0.model, chelsea[None] * m[None])[0, CAT] for m in masks]
    np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-3)
    variance = activations.var(axis=(0, 1))
    assert set(channels) == set(np.argsort(-variance)[:12])


def test_no_retracing_across_calls(lite0, chelsea, coffee, halves):
    score_cam(lite0, chelsea, CAT, channels=16)
    ablation_cam(lite0, chelsea, CAT, channels=16)
    hires_cam(lite0, chelsea, CAT)
    eigen_cam(lite0, chelsea)
    target = resolve_target(CAT, 1, 1000)
    functions = [
        score_cam_function(lite0, "top_activation", 64, target).function,
        ablation_cam_function(lite0, "top_activation", 64, target).function,
        feature_gradient_function(lite0, "top_activation", target).function,
        activation_function(lite0, "top_activation"),
    ]
    counts = [f.experimental_get_tracing_count() for f in functions]
    images = np.stack([coffee, halves])
    score_cam(lite0, images, [ESPRESSO, 1], channels=24)
    ablation_cam(lite0, images, [ESPRESSO, 2], channels=40)
    for method in (hires_cam, xgrad_cam, layer_cam, gradcam):
        method(lite0, images, [3, 4])
    eigen_cam(lite0, np.stack([coffee, halves, chelsea]))
    assert [f.experimental_get_tracing_count() for f in functions] == counts


def test_ablation_weights_are_the_relative_score_drops(lite0, chelsea):
    # Behind top_activation (average pooling + dense), zeroing channel k lowers the logit by
    # exactly mean(A_k) * W_kc: the batched ablations (head only) must reproduce that.
    target = resolve_target(CAT, 1, 1000)
    ablate = ablation_cam_function(lite0, "top_activation", 100, target)
    assert ablate.suffix  # nothing crosses the last feature map: only the head runs
    base, scores, chosen, activations = ablate(chelsea, CAT, 300)
    kernel = lite0.model.get_layer("efficientnet_lite0").get_layer("predictions").get_weights()[0]
    expected = activations.mean(axis=(0, 1))[chosen] * kernel[chosen, CAT]
    np.testing.assert_allclose(base - scores, expected, atol=2e-3)
    assert base == pytest.approx(forward_logits(lite0.model, chelsea[None])[0, CAT], abs=1e-3)


def test_errors(lite0, chelsea):
    for method in ALL_CAMS:
        with pytest.raises(ModelError, match="4-D"):
            method(lite0, chelsea, CAT, layer="predictions")
        with pytest.raises(LayerNotFoundError):
            method(lite0, chelsea, CAT, layer="top_activaton")
    with pytest.raises(ParameterError, match="channels"):
        score_cam(lite0, chelsea, CAT, channels=0)
    with pytest.raises(ParameterError, match="batch_size"):
        ablation_cam(lite0, chelsea, CAT, batch_size=0)
    with pytest.raises(TargetError):
        score_cam(lite0, chelsea, -1)


@pytest.mark.slow
def test_score_cam_all_channels_points_at_both_objects(lite0, halves):
    maps = score_cam(lite0, np.stack([halves, halves]), [CAT, ESPRESSO])
    result = pointing_game(maps, HALVES, tolerance=0)
    print("score_cam all channels", result.hits, result.energy.round(2))
    assert result.hits.all()


def test_cli_cam_and_faithfulness(tmp_path, capsys, coffee):
    from kerasviz.cli import main
    from kerasviz.images import load_image, save_image

    save_image(tmp_path / "coffee.png", coffee)
    out = tmp_path / "eigen.png"
    assert main(["eigen-cam", str(tmp_path / "coffee.png"), "--out", str(out)]) == 0
    assert load_image(out).shape == (224, 224, 3)
    capsys.readouterr()
    assert main(["faithfulness", str(tmp_path / "coffee.png"), "--class", "967", "--methods",
                 "hires-cam", "random", "--steps", "4"]) == 0
    table = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1:] for line in table.splitlines()[2:4]}
    assert set(rows) == {"hires-cam", "random"} and all(len(v) == 2 for v in rows.values())
    assert main(["faithfulness", str(tmp_path / "coffee.png"), "--methods", "gradcamm"]) == 2
    assert "Unknown method 'gradcamm'" in capsys.readouterr().err


def test_demo_panel_is_registered():
    from kerasviz.demo import all_panels

    assert "cam_family" in {p.name for p in all_panels()}


# ---------------------------------------------------------------- token layers (small ViT)


def test_vit_token_layers(zoo_vit, zoo_digits):
    from scipy.ndimage import binary_dilation

    images, labels, masks = zoo_digits
    images, labels, masks = images[1400:1440].astype(np.float32), labels[1400:1440], masks[1400:1440]
    near = np.stack([binary_dilation(m, iterations=1) for m in masks])
    results = {}
    for method in (hires_cam, xgrad_cam, layer_cam, fast_score_cam, eigen_cam):
        maps = method(zoo_vit, images, labels, layer="block0_norm1")
        assert maps.shape == (40, 32, 32) and np.isfinite(maps).all()
        peaks = [np.unravel_index(m.argmax(), m.shape) for m in maps]
        results[method.__name__] = np.mean([n[p] for n, p in zip(near, peaks)])
    print("ViT pointing on strokes (random about 0.33):", results)
    assert results["hires_cam"] > 0.6 and results["layer_cam"] > 0.6
    grid = hires_cam(zoo_vit, images[:2], labels[:2], layer="block0_norm1", token_grid=(8, 8),
                     skip_tokens=1)
    np.testing.assert_allclose(grid, hires_cam(zoo_vit, images[:2], labels[:2],
                                               layer="block0_norm1"), atol=1e-6)
    with pytest.raises(ModelError, match="Ablation-CAM"):
        ablation_cam(zoo_vit, images[:1], 0, layer="block0_norm1")


def test_layer_cam_stays_on_the_object_at_a_shallow_layer(lite0, chelsea):
    # At block3b_add (28 x 28) LayerCAM lights the eyes and nose; Grad-CAM's averaged gradients
    # spread over the background there (the LayerCAM paper's point). Measured ratio of the mean in the
    # central 112 x 112 square (the face) to the mean on the 28 px border: LayerCAM 1.57, Grad-CAM 0.61.
    def centre_over_border(heat):
        border = np.concatenate([heat[:28].ravel(), heat[-28:].ravel(),
                                 heat[:, :28].ravel(), heat[:, -28:].ravel()])
        return heat[56:168, 56:168].mean() / border.mean()

    layer_ratio = centre_over_border(layer_cam(lite0, chelsea, CAT, layer="block3b_add"))
    gradcam_ratio = centre_over_border(gradcam(lite0, chelsea, CAT, layer="block3b_add"))
    print("centre / border at block3b_add: LayerCAM", layer_ratio, "Grad-CAM", gradcam_ratio)
    assert layer_ratio > 1.5 * gradcam_ratio
