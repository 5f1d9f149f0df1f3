"""Randomisation metrics: does an explanation depend on the model's weights and on the class?
(Quantus 0.6.0: MPRT, smooth MPRT, efficient MPRT, random logit.)"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.stats import entropy
from skimage.metrics import structural_similarity

from ..checks import check_choice, check_int, check_number
from ..errors import TargetError
from ..progress import progress_bar
from .inputs import check_method, explain, model_inputs, prepare_maps
from .model_randomisation import fully_randomised, randomised_models, weight_layers
from .perturbation import similarity_rows

__all__ = ["efficient_mprt", "model_parameter_randomisation", "random_logit", "smooth_mprt"]


def _cascade(metric, inputs, explain_fn, layer_order, layers, how, seed, skip_layers, progress):
    """Explanations after each randomisation step `[(layer, maps)]` (only the last when
    `skip_layers`)."""
    if skip_layers:
        last = fully_randomised(inputs.backbone, order=layer_order, layers=layers, how=how,
                                seed=seed)
        return [] if last is None else [(last[0], explain_fn(last[1]))]
    total = len(layers) if layers is not None else len(weight_layers(inputs.backbone.model))
    steps = []
    with progress_bar(total=total, desc=metric, progress=progress, unit="layer") as bar:
        for name, model in randomised_models(
                inputs.backbone, order=layer_order, layers=layers, how=how, seed=seed):
            steps.append((name, explain_fn(model)))
            bar.update(1)
    return steps


def _correlations(original: np.ndarray, steps, reduce: str, abs: bool, normalise: bool):
    reference = prepare_maps(original, abs=abs, normalise=normalise).reshape(len(original), -1)
    per_layer = np.stack([
        similarity_rows("spearman", reference,
                        prepare_maps(maps, abs=abs, normalise=normalise).reshape(len(maps), -1))
        for _, maps in steps
    ])
    return per_layer[-1] if reduce == "last" else per_layer.mean(axis=0)


def model_parameter_randomisation(
    maps: Any,
    *,
    model: Any = None,
    images: Any = None,
    targets: Any = None,
    method: Callable[..., Any] | None = None,
    layer_order: str = "top_down",
    layers: Sequence[str] | None = None,
    randomisation: str = "redraw",
    skip_layers: bool = False,
    reduce: str = "last",
    abs: bool = True,
    normalise: bool = True,
    seed: int = 42,
    batch_size: int = 64,
    progress: bool | None = None,
) -> np.ndarray:
    """Model parameter randomisation test (Adebayo et al. 2018): Spearman correlation between the
    explanation and the one of a copy of the model whose layers are randomised.

    Follows `quantus.MPRT` (Quantus 0.6.0): cascading randomisation `"top_down"`, maps absolute
    and normalised, Spearman similarity per layer. One score per image: the correlation after
    the last layer (`reduce="last"`, Quantus' `return_last_correlation`) or the mean over layers
    (`"average"`; Quantus 0.6.0 also averages in its unrandomised entry, kerasviz does not).
    Lower means the explanation depends on the weights (a good sign).

    Args:
        maps: `(N, H, W)` explanations by `method` of the original model.
        model: A `Backbone` or Keras model taking pixels in `[0, 255]` (never modified).
        images: `(N, H, W, 3)` pixels.
        targets: Class per image; `None` for each predicted class (of the original model).
        method: `fn(model, images, targets) -> maps`.
        layer_order: `"top_down"`, `"bottom_up"` or `"independent"`.
        layers: Layers to randomise (default: every leaf layer with weights).
        randomisation: `"redraw"` or `"permute"` (Quantus' TensorFlow backend).
        skip_layers: Explain only after the last layer (one explanation instead of one per layer).
        reduce: `"last"` or `"average"` (needs `skip_layers=False`).
        abs: Absolute maps first (Quantus' default).
        normalise: Divide each map by its largest absolute value first.
        seed: Seed of the new weights.
        batch_size: Images per call of `method`.
        progress: Progress bar setting.

    Returns:
        float64 `(N,)` in `[-1, 1]` (NaN where a map is constant).

    Raises:
        ModelError, ImageError, TargetError, ParameterError, LayerNotFoundError: Bad inputs.
    """
    inputs = model_inputs("model_parameter_randomisation", maps, model, images, targets)
    check_choice(reduce, "reduce", ("last", "average"))
    seed = check_int(seed, "seed", low=0)

    def explain_fn(randomised):
        return explain(method, randomised, inputs.images, inputs.targets,
                       metric="model_parameter_randomisation", batch_size=batch_size)

    check_method(method, "model_parameter_randomisation")  # fail before cloning
    steps = _cascade("model_parameter_randomisation", inputs, explain_fn, layer_order, layers,
                     randomisation, seed, skip_layers or reduce == "last", progress)
    return _correlations(inputs.maps, steps, reduce, abs, normalise)


def smooth_mprt(
    maps: Any,
    *,
    model: Any = None,
    images: Any = None,
    targets: Any = None,
    method: Callable[..., Any] | None = None,
    nr_samples: int = 50,
    noise_magnitude: float = 0.1,
    layer_order: str = "bottom_up",
    layers: Sequence[str] | None = None,
    randomisation: str = "redraw",
    reduce: str = "last",
    abs: bool = True,
    normalise: bool = True,
    seed: int = 42,
    batch_size: int = 64,
    progress: bool | None = None,
) -> np.ndarray:
    """Smooth MPRT (Hedström et al. 2023): MPRT on explanations of the randomised model averaged
    over noisy copies of the input, which removes the shattered-gradient noise.

    Follows `quantus.SmoothMPRT` (Quantus 0.6.0): `nr_samples` explanations per image, noise
    `N(0, (noise_magnitude * (max - min))^2)` (the last sample noise-free; copies clipped to
    `[0, 255]`), averaged; cascading
    `"bottom_up"`; Spearman against the given maps.

    Args:
        maps: `(N, H, W)` explanations of the original model.
        model: A `Backbone` or Keras model taking pixels in `[0, 255]`.
        images: `(N, H, W, 3)` pixels.
        targets: Class per image; `None` for each predicted class.
        method: `fn(model, images, targets) -> maps`.
        nr_samples: Noisy explanations averaged per image.
        noise_magnitude: Noise standard deviation as a fraction of each image's value range.
        layer_order: `"bottom_up"`, `"top_down"` or `"independent"`.
        layers: Layers to randomise (default: every leaf layer with weights).
        randomisation: `"redraw"` or `"permute"`.
        reduce: `"last"` (after all layers; one smoothed explanation) or `"average"`.
        abs: Absolute maps first.
        normalise: Divide each map by its largest absolute value first.
        seed: Seed of the weights and the noise.
        batch_size: Images per call of `method`.
        progress: Progress bar setting.

    Returns:
        float64 `(N,)` in `[-1, 1]`; lower is better.

    Raises:
        ModelError, ImageError, TargetError, ParameterError: Bad inputs.
    """
    inputs = model_inputs("smooth_mprt", maps, model, images, targets)
    check_choice(reduce, "reduce", ("last", "average"))
    nr_samples = check_int(nr_samples, "nr_samples", low=1)
    noise_magnitude = check_number(noise_magnitude, "noise_magnitude", low=0.0)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    n = len(inputs.images)
    span = np.ptp(inputs.images.reshape(n, -1), axis=1)[:, None, None, None]

    def explain_fn(randomised):
        noise = rng.standard_normal((nr_samples - 1, *inputs.images.shape)) * noise_magnitude
        copies = np.concatenate([inputs.images[None] + noise * span, inputs.images[None]])
        stacked = np.clip(copies.reshape(-1, *inputs.images.shape[1:]), 0, 255).astype(np.float32)
        found = explain(method, randomised, stacked, np.tile(inputs.targets, nr_samples),
                        metric="smooth_mprt", batch_size=batch_size)
        return found.reshape(nr_samples, *inputs.maps.shape).mean(axis=0)

    check_method(method, "smooth_mprt")
    steps = _cascade("smooth_mprt", inputs, explain_fn, layer_order, layers, randomisation,
                     int(seed), reduce == "last", progress)
    return _correlations(inputs.maps, steps, reduce, abs, normalise)


def discrete_entropy(maps: np.ndarray, n_bins: int = 100) -> np.ndarray:
    """Entropy `(N,)` of each map's histogram with `n_bins` bins (Quantus' `discrete_entropy`).

    Args:
        maps: `(N, ...)` maps.
        n_bins: Number of histogram bins.

    Returns:
        float64 `(N,)` entropies (natural log).
    """
    return np.array([entropy(np.histogram(m.ravel(), bins=n_bins)[0]) for m in maps])


def efficient_mprt(
    maps: Any = None,
    *,
    model: Any = None,
    images: Any = None,
    targets: Any = None,
    method: Callable[..., Any] | None = None,
    n_bins: int = 100,
    layer_order: str = "bottom_up",
    layers: Sequence[str] | None = None,
    randomisation: str = "redraw",
    abs: bool = False,
    seed: int = 42,
    batch_size: int = 64,
    progress: bool | None = None,
) -> np.ndarray:
    """Efficient MPRT (Hedström et al. 2023): relative rise in the explanation's complexity when
    the whole model is randomised.

    Follows `quantus.EfficientMPRT` (Quantus 0.6.0): explanations of the original and of the
    fully randomised model (`"bottom_up"`, only the last layer explained), complexity = entropy
    of a 100-bin histogram of the map (no normalisation, no absolute value by default); score
    `(H_random - H_original) / H_original`. Higher is better. Like Quantus, the original
    complexity uses `method`'s own explanation (the `maps` only fix the shapes).

    Args:
        maps: `(N, H, W)` explanations of the original model (validated; may be `None`).
        model: A `Backbone` or Keras model taking pixels in `[0, 255]`.
        images: `(N, H, W, 3)` pixels.
        targets: Class per image; `None` for each predicted class.
        method: `fn(model, images, targets) -> maps`.
        n_bins: Histogram bins.
        layer_order: `"bottom_up"`, `"top_down"` or `"independent"`.
        layers: Layers to randomise (default: every leaf layer with weights).
        randomisation: `"redraw"` or `"permute"`.
        abs: Absolute maps before the histogram.
        seed: Seed of the new weights.
        batch_size: Images per call of `method`.
        progress: Progress bar setting.

    Returns:
        float64 `(N,)`.

    Raises:
        ModelError, ImageError, TargetError, ParameterError: Bad inputs.
    """
    n_bins = check_int(n_bins, "n_bins", low=2)
    if maps is None and images is not None:
        maps = np.zeros(np.shape(images)[:3])
    inputs = model_inputs("efficient_mprt", maps, model, images, targets)

    def explain_fn(randomised, reuse=False):
        found = explain(method, randomised, inputs.images, inputs.targets,
                        metric="efficient_mprt", batch_size=batch_size, reuse=reuse)
        return np.abs(found) if abs else found

    before = discrete_entropy(explain_fn(inputs.backbone, reuse=True), n_bins)
    steps = _cascade("efficient_mprt", inputs, explain_fn, layer_order, layers, randomisation,
                     check_int(seed, "seed", low=0), True, progress)
    after = discrete_entropy(steps[-1][1], n_bins)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (after - before) / before


def random_logit(
    maps: Any,
    *,
    model: Any = None,
    images: Any = None,
    targets: Any = None,
    method: Callable[..., Any] | None = None,
    off_targets: Any = None,
    abs: bool = False,
    normalise: bool = True,
    seed: int = 42,
    batch_size: int = 64,
) -> np.ndarray:
    """Random logit (Sixt et al. 2020): SSIM between the explanation of the target class and the
    explanation of a random other class.

    Matches `quantus.RandomLogit` (Quantus 0.6.0): one other class per image drawn uniformly
    among the `C - 1` others, both maps normalised, `skimage.metrics.structural_similarity` on
    the flattened maps with the pair's value range. Lower means class-sensitive (good).

    Args:
        maps: `(N, H, W)` explanations of the target classes by `method`.
        model: A `Backbone` or Keras model taking pixels in `[0, 255]`.
        images: `(N, H, W, 3)` pixels.
        targets: Class per image; `None` for each predicted class.
        method: `fn(model, images, targets) -> maps`.
        off_targets: `(N,)` other classes to use instead of drawing them.
        abs: Absolute maps first.
        normalise: Divide each map by its largest absolute value first (Quantus' default).
        seed: Seed of the drawn classes.
        batch_size: Images per call of `method`.

    Returns:
        float64 `(N,)` in `[-1, 1]`.

    Raises:
        ModelError, ImageError, TargetError, ParameterError: Bad inputs.
    """
    inputs = model_inputs("random_logit", maps, model, images, targets)
    n, classes = len(inputs.images), inputs.backbone.num_classes
    if off_targets is None:
        drawn = np.random.default_rng(check_int(seed, "seed", low=0)).integers(0, classes - 1, n)
        off = drawn + (drawn >= inputs.targets)
    else:
        off = np.asarray(off_targets)
        if off.shape != (n,) or off.dtype.kind not in "iu" or (off == inputs.targets).any() or (
            off.min() < 0 or off.max() >= classes
        ):
            raise TargetError(
                f"`off_targets` must be one class per image in 0..{classes - 1}, each different "
                f"from its target. Received: off_targets={np.asarray(off_targets).tolist()!r:.80}"
            )
    other = explain(method, inputs.backbone, inputs.images, off.astype(np.int64),
                    metric="random_logit", batch_size=batch_size)
    first = prepare_maps(inputs.maps, abs=abs, normalise=normalise).reshape(n, -1)
    second = prepare_maps(other, abs=abs, normalise=normalise).reshape(n, -1)
    scores = np.empty(n)
    for i, (a, b) in enumerate(zip(first, second)):
        value_range = float(np.abs(max(a.max(), b.max()) - min(a.min(), b.min())))
        scores[i] = structural_similarity(a, b, data_range=value_range or 1.0)
    return scores
