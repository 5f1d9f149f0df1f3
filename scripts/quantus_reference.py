"""Quantus 0.6.0 reference scores for kerasviz.metrics, computed in a venv of their own.

torch must never be imported beside TensorFlow, so this script runs in its own environment:

    python -m venv /tmp/kv/venv-quantus
    /tmp/kv/venv-quantus/bin/pip install --find-links /opt/wheels torch==2.13.0+cpu quantus==0.6.0
    /tmp/kv/venv-quantus/bin/python scripts/quantus_reference.py tests/metrics/fixtures

It builds a small torch CNN (valid 3x3 convolution -> ReLU -> global mean -> linear, 12 x 12
RGB pixels in [0, 255] -> 5 classes) from fixed random weights, writes those weights, the
inputs and every Quantus score to `quantus_reference.npz`; the tests build the same network in
Keras from the same weights and compare. Quantus runs with `batch_size=1` wherever it
normalises maps (it divides by the maximum over its batch; kerasviz normalises per image).
Random draws that kerasviz cannot reproduce from Quantus' global NumPy state (the subsets of
faithfulness correlation, the class of random logit) are recorded and handed to kerasviz.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

N, SIZE, CLASSES, FILTERS = 4, 12, 5, 4


def weights(seed: int = 0) -> dict:
    """Fixed weights: conv `(out, in, 3, 3)` + bias, linear `(classes, filters)` + bias."""
    rng = np.random.default_rng(seed)
    return {
        "conv_w": rng.normal(0, 0.02, (FILTERS, 3, 3, 3)).astype(np.float32),
        "conv_b": rng.normal(0, 0.5, FILTERS).astype(np.float32),
        "dense_w": rng.normal(0, 1.0, (CLASSES, FILTERS)).astype(np.float32),
        "dense_b": rng.normal(0, 0.1, CLASSES).astype(np.float32),
    }


def torch_model(w: dict):
    """The reference CNN in torch (channel-first pixels in [0, 255])."""
    import torch
    from torch import nn

    class Mean(nn.Module):
        def forward(self, x):
            return x.mean(dim=(2, 3))

    model = nn.Sequential(nn.Conv2d(3, FILTERS, 3), nn.ReLU(), Mean(), nn.Linear(FILTERS, CLASSES))
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(w["conv_w"]))
        model[0].bias.copy_(torch.from_numpy(w["conv_b"]))
        model[3].weight.copy_(torch.from_numpy(w["dense_w"]))
        model[3].bias.copy_(torch.from_numpy(w["dense_b"]))
    return model.eval()


def gradient(model, inputs, targets, times_input: bool = False, **kwargs):
    """Explanation used on both sides: d logit / d pixels summed over colours (optionally x input)."""
    import torch

    x = torch.tensor(np.asarray(inputs), dtype=torch.float32, requires_grad=True)
    out = model(x)
    out[torch.arange(len(x)), torch.as_tensor(np.asarray(targets), dtype=torch.long)].sum().backward()
    g = x.grad.numpy()
    if times_input:
        g = g * np.asarray(inputs)
    return g.sum(axis=1, keepdims=True)


def gradient_x_input(model, inputs, targets, **kwargs):
    return gradient(model, inputs, targets, times_input=True)


def main(out_dir: str) -> None:
    if not hasattr(np, "trapz"):  # NumPy 2.4 removed the alias Quantus 0.6.0 calls
        np.trapz = np.trapezoid
    import quantus
    import torch
    from quantus.functions.complexity_func import discrete_entropy
    from quantus.functions.perturb_func import noisy_linear_imputation

    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    w = weights()
    model = torch_model(w)
    images = rng.uniform(30, 225, (N, SIZE, SIZE, 3)).astype(np.float32)
    x = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
    with torch.no_grad():
        logits = model(torch.from_numpy(x)).numpy()
    y = logits.argmax(axis=1)
    maps = rng.normal(0, 1, (N, SIZE, SIZE))
    maps[:, :3, :3] = 0.0  # exact zeros for effective complexity / non-sensitivity
    maps[1] = np.abs(maps[1])
    masks = np.zeros((N, SIZE, SIZE), bool)
    masks[:, 3:9, 4:10] = True
    masks[2] = False
    masks[2, :6, :6] = True  # one mosaic-style quadrant mask (top left)
    a = maps[:, None].astype(np.float32)
    # Maps without ties for the metrics that sort (ties among equal values fall in an
    # implementation-defined order: Quantus uses NumPy's unstable argsort).
    maps_model = np.where(maps == 0, rng.normal(0, 1e-3, maps.shape), maps)
    a_model = maps_model[:, None].astype(np.float32)
    s = masks[:, None].astype(np.float32)
    out = dict(images=images, maps=maps, maps_model=maps_model, masks=masks, logits=logits, targets=y, **w)

    def run(metric, batch_size=1, a_batch=a, **call):
        """Scores per image: one Quantus call per image (Quantus normalises a given a_batch by
        its maximum over everything passed in one call), or one call for batch metrics."""
        if batch_size > 1:
            return np.asarray(metric(model=model, x_batch=x, y_batch=y, a_batch=a_batch,
                                     s_batch=s, device="cpu", batch_size=batch_size, **call),
                              np.float64)
        rows = [np.asarray(metric(model=model, x_batch=x[i : i + 1], y_batch=y[i : i + 1],
                                  a_batch=a_batch[i : i + 1], s_batch=s[i : i + 1],
                                  device="cpu", batch_size=1, **call), np.float64)
                for i in range(N)]
        return np.concatenate(rows)

    # Model-free metrics on the stored maps.
    out["sparseness"] = run(quantus.Sparseness(disable_warnings=True))
    out["complexity"] = run(quantus.Complexity(disable_warnings=True))
    out["effective_complexity"] = run(quantus.EffectiveComplexity(disable_warnings=True))
    out["pointing_game"] = run(quantus.PointingGame(disable_warnings=True))
    out["attribution_localisation"] = run(quantus.AttributionLocalisation(disable_warnings=True))
    out["top_k_intersection"] = run(quantus.TopKIntersection(k=20, disable_warnings=True))
    out["relevance_mass_accuracy"] = run(quantus.RelevanceMassAccuracy(disable_warnings=True))
    out["relevance_rank_accuracy"] = run(quantus.RelevanceRankAccuracy(disable_warnings=True))
    out["auc"] = run(quantus.AUC(disable_warnings=True))
    quadrants = np.array([[m[: SIZE // 2, : SIZE // 2].mean() > 0.5, m[: SIZE // 2, SIZE // 2:].mean() > 0.5,
                           m[SIZE // 2:, : SIZE // 2].mean() > 0.5, m[SIZE // 2:, SIZE // 2:].mean() > 0.5]
                          for m in masks]).astype(np.float64)
    out["focus"] = np.concatenate([np.asarray(quantus.Focus(disable_warnings=True)(
        model=model, x_batch=x[i : i + 1], y_batch=y[i : i + 1], a_batch=a[i : i + 1],
        custom_batch=quadrants[i : i + 1], device="cpu", batch_size=1), np.float64)
        for i in range(N)])
    out["discrete_entropy"] = np.array([discrete_entropy(a=m, x=None, n_bins=100) for m in maps])

    # Model-based metrics with deterministic perturbations.
    out["pixel_flipping"] = run(quantus.PixelFlipping(
        features_in_step=48, return_auc_per_sample=True, disable_warnings=True), a_batch=a_model)
    out["faithfulness_estimate"] = run(quantus.FaithfulnessEstimate(
        features_in_step=48, disable_warnings=True), a_batch=a_model)
    out["region_perturbation_curves"] = run(quantus.RegionPerturbation(
        patch_size=4, regions_evaluation=10, disable_warnings=True), a_batch=a_model)
    out["selectivity_curves"] = run(quantus.Selectivity(patch_size=4, disable_warnings=True), a_batch=a_model)
    from quantus.functions.perturb_func import baseline_replacement_by_mask

    def mask_over_colours(arr, mask, **kwargs):  # Quantus 0.6.0's IROF asserts on RGB otherwise
        return baseline_replacement_by_mask(arr, np.broadcast_to(mask, arr.shape), **kwargs)

    out["irof"] = run(quantus.IROF(perturb_baseline="black", perturb_func=mask_over_colours,
                                   return_aggregate=False,
                                   disable_warnings=True), a_batch=a_model)
    out["monotonicity_correlation"] = run(quantus.MonotonicityCorrelation(
        features_in_step=48, nr_samples=2, perturb_baseline="black", disable_warnings=True), a_batch=a_model)
    out["non_sensitivity"] = run(quantus.NonSensitivity(disable_warnings=True))
    out["completeness"] = run(quantus.Completeness(disable_warnings=True))
    gap = []
    for i in range(N):  # the gap behind Completeness' verdict (normalised maps, as Quantus)
        flat = maps[i] / np.abs(maps[i]).max()
        base = np.full_like(x[i : i + 1], x[i].min())
        with torch.no_grad():
            drop = (model(torch.from_numpy(x[i : i + 1])) - model(torch.from_numpy(base)))[0, y[i]]
        gap.append(flat.sum() - float(drop))
    out["completeness_gap"] = np.array(gap)
    norm = maps_model / np.abs(maps_model).reshape(N, -1).max(axis=1)[:, None, None]
    out["sufficiency"] = run(quantus.Sufficiency(normalise=False, disable_warnings=True),
                             batch_size=N, a_batch=np.abs(norm)[:, None])

    # Faithfulness correlation: record the subsets Quantus draws (np.random.choice, interleaved
    # with other draws of its baseline code), so kerasviz can be handed the same ones.
    runs, subset = 20, 96
    choice, drawn = np.random.choice, []

    def recording_choice(*args, **kwargs):
        result = choice(*args, **kwargs)
        drawn.append(result)
        return result

    np.random.seed(123)
    np.random.choice = recording_choice
    try:
        metric = quantus.FaithfulnessCorrelation(nr_runs=runs, subset_size=subset,
                                                 disable_warnings=True)
        out["faithfulness_correlation"] = run(metric, a_batch=a_model)
    finally:
        np.random.choice = choice
    out["faithfulness_correlation_subsets"] = np.stack(drawn).reshape(N, runs, subset)

    # Explanation-based metrics with the shared gradient explanation.
    grads = gradient(model, x, y)
    out["gradient_maps"] = grads[:, 0]
    out["continuity"] = run(quantus.Continuity(nr_steps=8, disable_warnings=True),
                            a_batch=grads, explain_func=gradient)
    np.random.seed(42)
    batch_off = []
    for i in range(N):  # RandomLogit re-seeds with 42 at each batch (batch_size=1)
        np.random.seed(42)
        index = np.random.randint(0, CLASSES - 1, 1)[0]
        others = [c for c in range(CLASSES) if c != y[i]]
        batch_off.append(others[index])
    out["random_logit_off"] = np.array(batch_off)
    out["random_logit"] = run(quantus.RandomLogit(num_classes=CLASSES, disable_warnings=True),
                              a_batch=grads, explain_func=gradient)
    gxi = gradient_x_input(model, x, y)
    out["gradient_x_input_maps"] = gxi[:, 0]
    out["input_invariance_gradient"] = run(quantus.InputInvariance(disable_warnings=True),
                                           a_batch=grads, explain_func=gradient)
    out["input_invariance_gradient_x_input"] = run(quantus.InputInvariance(disable_warnings=True),
                                                   a_batch=gxi, explain_func=gradient_x_input)

    # Stochastic robustness metrics: means over many draws (compared in distribution).
    np.random.seed(0)
    out["avg_sensitivity"] = run(quantus.AvgSensitivity(
        nr_samples=200, lower_bound=20.0, disable_warnings=True), a_batch=grads, explain_func=gradient)
    out["max_sensitivity"] = run(quantus.MaxSensitivity(
        nr_samples=200, lower_bound=20.0, disable_warnings=True), a_batch=grads, explain_func=gradient)
    out["local_lipschitz_estimate"] = run(quantus.LocalLipschitzEstimate(
        nr_samples=200, perturb_std=10.0, disable_warnings=True), a_batch=grads, explain_func=gradient)

    # ROAD's imputation on pixel indices, noise-free (Quantus' ROAD itself fails on RGB inputs).
    order = np.argsort(-maps[0].ravel(), kind="stable")[:60]
    out["road_pixels"] = order
    out["road_imputed"] = noisy_linear_imputation(x[0], order, noise=0.0)

    path = Path(out_dir) / "quantus_reference.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **{k: np.asarray(v) for k, v in out.items()})
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/metrics/fixtures")
