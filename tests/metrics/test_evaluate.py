"""kerasviz.evaluate / summarize_scores / score_chart / evaluate_to_folder, and bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import kerasviz
from kerasviz import metrics as kvm
from kerasviz.errors import ImageError, KerasvizError, ModelError, ParameterError, TargetError


@pytest.fixture(scope="module")
def small(reference_cnn, quantus_ref):
    return reference_cnn, quantus_ref["images"], quantus_ref["targets"], quantus_ref["masks"]


def test_every_issue_name_is_a_metric():
    names = (
        "faithfulness_correlation faithfulness_estimate pixel_flipping region_perturbation "
        "monotonicity monotonicity_correlation selectivity irof road sufficiency max_sensitivity "
        "avg_sensitivity local_lipschitz_estimate continuity pointing_game "
        "attribution_localisation top_k_intersection relevance_mass_accuracy "
        "relevance_rank_accuracy auc focus sparseness complexity effective_complexity "
        "model_parameter_randomisation smooth_mprt efficient_mprt random_logit completeness "
        "non_sensitivity input_invariance"
    ).split()
    assert sorted(names) == sorted(kvm.METRICS)
    for name in names:
        function = getattr(kvm, name)
        assert function is kvm.METRICS[name]
        assert "Quantus" in function.__doc__ and kvm.QUANTUS_CLASSES[name]


def test_evaluate_runs_every_metric(small, gradient_method, gradient_x_input_method):
    model, images, targets, masks = small
    scores = kvm.evaluate(model, images, targets,
                          {"gradient": gradient_method, "gradient_x_input": gradient_x_input_method},
                          list(kvm.METRICS), masks=masks, seed=1,
                          settings={"road": {"percentages": [20, 60]}})
    assert list(scores.columns) == ["method", "metric", "image", "score"]
    assert len(scores) == 2 * len(kvm.METRICS) * len(images)
    assert scores["score"].dtype == np.float64
    # Seeded: a second run gives the same table.
    again = kvm.evaluate(model, images, targets, {"gradient": gradient_method},
                         ["faithfulness_correlation", "max_sensitivity"], seed=1)
    first = scores[(scores.method == "gradient") & scores.metric.isin(again.metric.unique())]
    np.testing.assert_allclose(
        first.sort_values(["metric", "image"])["score"].to_numpy(),
        again.sort_values(["metric", "image"])["score"].to_numpy())
    # Input invariance separates the two methods as Kindermans et al. say.
    invariance = scores[scores.metric == "input_invariance"].groupby("method")["score"].mean()
    assert invariance["gradient"] == 1.0 and invariance["gradient_x_input"] == 0.0


def test_summary_and_chart(tmp_path):
    rng = np.random.default_rng(0)
    rows = [("good", "pixel_flipping", i, rng.normal(1.0, 0.1)) for i in range(12)]
    rows += [("bad", "pixel_flipping", i, rng.normal(3.0, 0.1)) for i in range(12)]
    rows += [("good", "sparseness", i, rng.normal(0.8, 0.05)) for i in range(12)]
    rows += [("bad", "sparseness", i, rng.normal(0.2, 0.05)) for i in range(12)]
    rows += [("bad", "sparseness", 12, np.nan)]
    scores = pd.DataFrame(rows, columns=["method", "metric", "image", "score"])
    summary = kvm.summarize_scores(scores)
    best = summary[summary["rank"] == 1].set_index("metric")["method"]
    assert best["pixel_flipping"] == "good"  # lower is better
    assert best["sparseness"] == "good"  # higher is better
    row = summary[(summary.metric == "pixel_flipping") & (summary.method == "good")].iloc[0]
    assert row["low"] < row["mean"] < row["high"] and row["high"] - row["low"] < 0.2
    assert summary[(summary.metric == "sparseness") & (summary.method == "bad")]["n"].item() == 12
    path = kvm.score_chart(summary, tmp_path / "chart.png")
    assert (tmp_path / "chart.png").stat().st_size > 5000 and path.endswith("chart.png")
    with pytest.raises(ParameterError, match="columns"):
        kvm.summarize_scores(pd.DataFrame({"x": [1]}))
    with pytest.raises(ParameterError, match="summarize_scores"):
        kvm.score_chart(pd.DataFrame(), tmp_path / "empty.png")


def test_evaluate_to_folder_writes_the_three_files(small, tmp_path, gradient_method):
    model, images, targets, _ = small
    written = kvm.evaluate_to_folder(images, tmp_path / "out", model=model,
                                     methods={"gradient": gradient_method},
                                     metrics=["sparseness", "pixel_flipping"], targets=targets)
    scores = pd.read_csv(written["scores"])
    summary = pd.read_csv(written["summary"])
    assert len(scores) == 2 * len(images) and set(summary.metric) == {"sparseness", "pixel_flipping"}
    assert (tmp_path / "out" / "chart.png").exists()


def test_names_resolve_to_kerasviz_methods():
    assert kvm.resolve_method("saliency") is kerasviz.saliency
    with pytest.raises(ParameterError, match="gradcam"):
        kvm.resolve_method("gradkam")  # close matches come from the registry
    with pytest.raises(ParameterError, match="pixel_flipping"):
        kvm.metric_function("pixel_flip")
    with pytest.raises(ParameterError, match="Did you mean 'sparseness'"):
        kvm.evaluate(None, None, metrics=["sparsenes"])


def test_bad_inputs_are_kerasviz_errors(small, gradient_method):
    model, images, targets, masks = small
    maps = np.ones(images.shape[:3])
    with pytest.raises(ImageError, match="NaN"):
        kvm.sparseness(np.full((2, 4, 4), np.nan))
    with pytest.raises(ImageError, match=r"\(N, H, W\)"):
        kvm.complexity(np.ones((2, 3, 4, 4, 1)))
    with pytest.raises(ParameterError, match="masks"):
        kvm.pointing_game(maps, masks=masks[:, :5])
    with pytest.raises(ParameterError, match="masks=None"):
        kvm.auc(maps)
    with pytest.raises(ModelError, match="model="):
        kvm.pixel_flipping(maps, images=images)
    with pytest.raises(ImageError, match="one map per image"):
        kvm.pixel_flipping(maps[:2], model=model, images=images)
    with pytest.raises(TargetError, match="targets"):
        kvm.pixel_flipping(maps, model=model, images=images, targets=[0, 99, 0, 0])
    with pytest.raises(ParameterError, match="method="):
        kvm.max_sensitivity(maps, model=model, images=images, nr_samples=2)
    with pytest.raises(ParameterError, match="features_in_step"):
        kvm.pixel_flipping(maps, model=model, images=images, features_in_step=0)
    with pytest.raises(ParameterError, match="perturb_baseline"):
        kvm.pixel_flipping(maps, model=model, images=images, perturb_baseline="grey")
    with pytest.raises(KerasvizError, match="percentages"):
        kvm.road(maps, model=model, images=images, percentages=[0, 50])
    with pytest.raises(ParameterError, match="methods"):
        kvm.evaluate(model, images, methods=42, metrics=["sparseness"])


def test_perturbation_metrics_do_not_retrace(small):
    model, images, targets, _ = small
    maps = np.random.default_rng(0).random(images.shape[:3])
    kvm.pixel_flipping(maps, model=model, images=images, features_in_step=48, batch_size=7)
    from kerasviz.backbones import as_backbone
    from kerasviz.compiled import cached

    logits = cached(as_backbone(model).model, "logits", lambda: None)
    traces = logits.experimental_get_tracing_count()
    kvm.pixel_flipping(maps, model=model, images=images, features_in_step=24, batch_size=5)
    kvm.faithfulness_correlation(maps, model=model, images=images, nr_runs=5, subset_size=30)
    kvm.region_perturbation(maps, model=model, images=images, patch_size=3)
    assert logits.experimental_get_tracing_count() == traces


def test_registry_names_resolve_to_batched_methods(zoo_sequential):
    import numpy as np

    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    eigen = kvm.resolve_method("eigen_cam")  # class-agnostic: the targets are not passed on
    assert eigen(zoo_sequential, images, [1, 2]).shape == (2, 32, 32)
    lime = kvm.resolve_method("lime")  # one image per call: called per image, stacked
    maps = lime(zoo_sequential, images, [1, 2])
    assert maps.shape == (2, 32, 32) and np.isfinite(maps).all()


def test_shared_work_reuses_the_model_calls_and_keeps_the_scores(small, gradient_method,
                                                                 monkeypatch):
    from kerasviz.metrics import inputs
    from kerasviz.metrics.memo import shared_work

    model, images, targets, _ = small
    first = np.asarray(gradient_method(model, images, targets))
    maps = (first, np.abs(first) + 0.1 * np.roll(first, 1, axis=-1))
    options = {"model": model, "images": images, "targets": targets, "nr_runs": 12,
               "subset_size": 30, "seed": 3}
    alone = [kvm.faithfulness_correlation(m, **options) for m in maps]
    calls = []
    forward = inputs.forward_logits
    monkeypatch.setattr(inputs, "forward_logits",
                        lambda *args, **kwargs: calls.append(1) or forward(*args, **kwargs))
    with shared_work():
        together = [kvm.faithfulness_correlation(maps[0], **options)]
        used = len(calls)
        together.append(kvm.faithfulness_correlation(maps[1], **options))
    # The second map's copies and original scores come from the first call: no model call.
    assert used > 0 and len(calls) == used
    np.testing.assert_allclose(together, alone)
    assert not np.allclose(alone[0], alone[1])
    # Outside the block nothing is remembered.
    kvm.faithfulness_correlation(maps[1], **options)
    assert len(calls) > used


def test_the_randomised_copy_is_made_once_per_model_and_weights(small):
    from kerasviz.metrics.model_randomisation import fully_randomised

    model = small[0]
    first = fully_randomised(model, order="top_down", seed=4)
    # Same model, weights and options: the same copy (its compiled functions are not retraced).
    assert fully_randomised(model, order="top_down", seed=4) is first
    assert fully_randomised(model, order="top_down", seed=5) is not first
    saved = model.get_weights()
    try:
        model.set_weights([w + 1.0 for w in saved])
        assert fully_randomised(model, order="top_down", seed=4) is not first
    finally:
        model.set_weights(saved)
    np.testing.assert_allclose(model.get_weights()[0], saved[0])


def test_evaluate_without_progress_prints_no_bar(small, capsys):
    model, images, targets, _ = small

    def path_method(model, images, targets):
        return kerasviz.integrated_gradients(model, images, targets, steps=2).attributions

    before = kerasviz.progress.progress_enabled()
    kerasviz.set_progress(True)  # the methods' own default, here
    try:
        kvm.evaluate(model, images[:2], targets[:2], {"ig": path_method}, ["sparseness"],
                     progress=False)
    finally:
        kerasviz.set_progress(before)
    assert "integrated gradients" not in capsys.readouterr().err


def test_shared_work_keeps_the_methods_it_remembers_alive(small):
    # Keys name a method by id: a method dropped inside the block must not free its id for a
    # new method of a later evaluate call (which would then get the dropped one's maps).
    import gc
    import weakref

    model, images, targets, _ = small
    rng = np.random.default_rng(0)
    maps = [rng.random(images.shape[:3]), rng.random(images.shape[:3]) ** 8]
    with kvm.shared_work():
        scores, refs = [], []
        for k in range(2):
            def method(model, images, targets, k=k):
                return maps[k]

            refs.append(weakref.ref(method))
            scores.append(kvm.evaluate(model, images, targets, {"m": method}, ["sparseness"])["score"].to_numpy())
            del method
            gc.collect()
            assert refs[-1]() is not None
        assert not np.allclose(scores[0], scores[1])
    gc.collect()
    assert all(ref() is None for ref in refs)
