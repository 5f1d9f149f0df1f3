"""kerasviz.metrics against Quantus 0.6.0 on the same inputs (fixtures by scripts/quantus_reference.py).

Deterministic metrics must agree to 1e-5. Perturbation metrics agree exactly when they get the
same perturbations: features_in_step a multiple of 3 (whole pixels, so tie order does not
matter), Quantus' recorded random subsets / classes handed over. Noise-based robustness
metrics are compared in distribution: means over 200 draws each, with different generators.
"""

from __future__ import annotations

import numpy as np
import pytest

from kerasviz import metrics as kvm
from kerasviz.metrics.imputation import noisy_linear_imputation
from kerasviz.metrics.randomisation import discrete_entropy


def close(ours, theirs, tol=1e-5):
    np.testing.assert_allclose(np.asarray(ours, np.float64), np.asarray(theirs, np.float64),
                               rtol=tol, atol=tol, equal_nan=True)


def test_the_keras_copy_computes_the_torch_logits(quantus_ref, reference_cnn):
    logits = reference_cnn(quantus_ref["images"]).numpy()
    close(logits, quantus_ref["logits"], 1e-4)


@pytest.mark.parametrize("name, kwargs", [
    ("sparseness", {}), ("complexity", {}), ("effective_complexity", {}),
])
def test_complexity_metrics_match(quantus_ref, name, kwargs):
    close(kvm.METRICS[name](quantus_ref["maps"], **kwargs), quantus_ref[name])


@pytest.mark.parametrize("name, kwargs", [
    ("pointing_game", {}), ("attribution_localisation", {}), ("top_k_intersection", {"k": 20}),
    ("relevance_mass_accuracy", {}), ("relevance_rank_accuracy", {}), ("auc", {}), ("focus", {}),
])
def test_localisation_metrics_match(quantus_ref, name, kwargs):
    ours = kvm.METRICS[name](quantus_ref["maps"], masks=quantus_ref["masks"], **kwargs)
    close(ours, quantus_ref[name])


def test_discrete_entropy_matches(quantus_ref):
    close(discrete_entropy(quantus_ref["maps"]), quantus_ref["discrete_entropy"])


def _model_kwargs(ref, model):
    return {"model": model, "images": ref["images"], "targets": ref["targets"]}


@pytest.mark.parametrize("name, kwargs, reduce", [
    ("pixel_flipping", {"features_in_step": 48}, None),
    ("faithfulness_estimate", {"features_in_step": 48}, None),
    ("region_perturbation", {"patch_size": 4, "regions_evaluation": 10}, "region_perturbation_curves"),
    ("selectivity", {"patch_size": 4}, "selectivity_curves"),
    ("irof", {"perturb_baseline": "black"}, None),
    ("monotonicity_correlation",
     {"features_in_step": 48, "nr_samples": 2, "perturb_baseline": "black"}, None),
    ("non_sensitivity", {}, None),
    ("completeness", {}, None),
    ("sufficiency", {}, None),
])
def test_perturbation_metrics_match(quantus_ref, reference_cnn, name, kwargs, reduce):
    maps = quantus_ref["maps" if name in ("non_sensitivity", "completeness") else "maps_model"]
    ours = kvm.METRICS[name](maps, **_model_kwargs(quantus_ref, reference_cnn), **kwargs)
    theirs = quantus_ref[name] if reduce is None else np.trapezoid(quantus_ref[reduce], axis=1)
    close(ours, theirs, 1e-4)


def test_completeness_gap_matches(quantus_ref, reference_cnn):
    gap = kvm.completeness(quantus_ref["maps"], **_model_kwargs(quantus_ref, reference_cnn),
                           return_gap=True)
    close(gap, quantus_ref["completeness_gap"], 1e-4)


def test_faithfulness_correlation_matches_on_quantus_subsets(quantus_ref, reference_cnn):
    subsets = quantus_ref["faithfulness_correlation_subsets"]
    ours = kvm.faithfulness_correlation(
        quantus_ref["maps_model"], **_model_kwargs(quantus_ref, reference_cnn),
        nr_runs=subsets.shape[1], subset_size=subsets.shape[2], subsets=subsets)
    close(ours, quantus_ref["faithfulness_correlation"], 1e-4)


def test_explanation_metrics_match(quantus_ref, reference_cnn, gradient_method,
                                   gradient_x_input_method):
    kwargs = _model_kwargs(quantus_ref, reference_cnn)
    grads = gradient_method(reference_cnn, quantus_ref["images"], quantus_ref["targets"])
    close(grads, quantus_ref["gradient_maps"], 1e-4)
    close(kvm.continuity(grads, **kwargs, method=gradient_method, nr_steps=8),
          quantus_ref["continuity"], 1e-4)
    close(kvm.random_logit(grads, **kwargs, method=gradient_method,
                           off_targets=quantus_ref["random_logit_off"]),
          quantus_ref["random_logit"], 1e-4)
    close(kvm.input_invariance(grads, **kwargs, method=gradient_method),
          quantus_ref["input_invariance_gradient"])
    gxi = gradient_x_input_method(reference_cnn, quantus_ref["images"], quantus_ref["targets"])
    close(kvm.input_invariance(gxi, **kwargs, method=gradient_x_input_method),
          quantus_ref["input_invariance_gradient_x_input"])
    assert quantus_ref["input_invariance_gradient"].all()
    assert not quantus_ref["input_invariance_gradient_x_input"].any()


@pytest.mark.parametrize("name, kwargs, tol", [
    ("avg_sensitivity", {"lower_bound": 20.0}, 0.05),
    ("max_sensitivity", {"lower_bound": 20.0}, 0.15),
    ("local_lipschitz_estimate", {"perturb_std": 10.0}, 0.15),
])
def test_robustness_metrics_match_in_distribution(quantus_ref, reference_cnn, gradient_method,
                                                  name, kwargs, tol):
    grads = gradient_method(reference_cnn, quantus_ref["images"], quantus_ref["targets"])
    ours = kvm.METRICS[name](grads, **_model_kwargs(quantus_ref, reference_cnn),
                             method=gradient_method, nr_samples=200, seed=3, **kwargs)
    np.testing.assert_allclose(ours, quantus_ref[name], rtol=tol)


def test_road_imputation_matches_quantus(quantus_ref):
    image = quantus_ref["images"][0]
    ours = noisy_linear_imputation(image, quantus_ref["road_pixels"], 0.0,
                                   np.random.default_rng(0))
    close(ours.transpose(2, 0, 1), quantus_ref["road_imputed"], 1e-4)
