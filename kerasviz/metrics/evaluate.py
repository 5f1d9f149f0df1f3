"""`evaluate`: every method x every metric x every image as one tidy table; and the folder
version behind `kerasviz evaluate` (scores.csv, summary.csv, chart.png)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..backbones import as_backbone
from ..checks import check_int
from ..errors import ParameterError
from ..images import as_image_batch
from ..progress import progress_bar
from .catalogue import (
    accepted_arguments,
    metric_function,
    quick_settings,
    resolve_method,
)
from .inputs import check_masks, explain, resolve_targets
from .memo import shared_work

__all__ = ["DEFAULT_METRICS", "evaluate", "evaluate_to_folder"]

#: Twelve metrics, two per family, that need no ground-truth masks except the localisation pair.
DEFAULT_METRICS = (
    "faithfulness_correlation", "pixel_flipping", "road", "irof",
    "max_sensitivity", "continuity",
    "sparseness", "complexity",
    "model_parameter_randomisation", "random_logit",
    "completeness", "input_invariance",
)

Methods = Mapping[str, Any] | Sequence[Any]


def _methods(methods: Methods) -> dict[str, Callable[..., Any]]:
    if isinstance(methods, Mapping):
        items = list(methods.items())
    elif isinstance(methods, (list, tuple)):
        items = [(m if isinstance(m, str) else getattr(m, "__name__", repr(m)), m) for m in methods]
    elif isinstance(methods, str) or callable(methods):
        return _methods([methods])
    else:
        raise ParameterError(
            "`methods` must be a dict {name: fn} or a list of names / callables. Received: "
            f"methods={methods!r}"
        )
    if not items:
        raise ParameterError("Give at least one method. Received: methods=[]")
    return {str(name): resolve_method(fn) for name, fn in items}


def evaluate(
    model: Any,
    images: Any,
    targets: Any = None,
    methods: Methods = ("gradcam", "saliency"),
    metrics: Sequence[str] = DEFAULT_METRICS,
    *,
    masks: Any = None,
    seed: int = 0,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    quick: bool = True,
    batch_size: int = 64,
    progress: bool | None = None,
) -> Any:
    """Score attribution methods with metrics, one row per (method, metric, image).

    Each method explains all images once (`method(model, images, targets)`); each metric then
    scores those maps, with the model / images / targets / masks / method / seed it needs.
    Work that does not depend on the maps is shared by every metric and method of the call
    (`kerasviz.metrics.memo`): the scores are those of separate metric calls. With
    `quick` (default), costly metrics use `quick_settings` (fewer, larger perturbation steps;
    Quantus' definitions otherwise); `settings` overrides any metric's keyword arguments.

    Args:
        model: A `Backbone` or Keras model taking pixels in `[0, 255]`.
        images: `(N, H, W, 3)` pixels in `[0, 255]`.
        targets: Class per image, one for all, or `None` for each predicted class.
        methods: `{name: fn(model, images, targets) -> maps}`, or a list of kerasviz attribution
            names (`"gradcam"`, `"saliency"`, ...) / callables.
        metrics: Metric names (see `kerasviz.metrics.METRICS`).
        masks: Ground-truth masks `(N, H, W)` for localisation metrics.
        seed: Seed of every random perturbation (the same draws for every method).
        settings: `{metric: {argument: value}}` overrides.
        quick: Use `quick_settings` for costly metrics.
        batch_size: Images per compiled call.
        progress: Progress bar setting.

    Returns:
        `pandas.DataFrame` with columns `method`, `metric`, `image`, `score` (float; NaN where
        a metric is undefined for an image).

    Raises:
        ParameterError: Unknown metric or method names, bad settings, missing masks.
        ModelError, ImageError, TargetError: Bad model, images or targets.
    """
    import pandas as pd

    seed = check_int(seed, "seed", low=0)
    chosen = {name: metric_function(name) for name in ([metrics] if isinstance(metrics, str) else metrics)}
    if not chosen:
        raise ParameterError("Give at least one metric. Received: metrics=[]")
    settings = dict(settings or {})
    for name in settings:
        metric_function(name)
    backbone = as_backbone(model)
    batch, _ = as_image_batch(images)
    backbone.check_size(batch.shape[1:3])
    batch = np.ascontiguousarray(batch, np.float32)
    classes = resolve_targets(backbone, batch, targets)
    height, width = batch.shape[1:3]
    needs_masks = [n for n, f in chosen.items() if "masks" in accepted_arguments(f)]
    if needs_masks:
        masks = check_masks(masks, batch.shape[:3], needs_masks[0])
    rows = []
    # Work that does not depend on the maps (the model's scores of the images, their
    # explanation by each method, faithfulness correlation's perturbed copies, SLIC segments)
    # is done once for all metrics and methods of this call.
    with shared_work(), progress_bar(
        total=len(methods) * len(chosen) if hasattr(methods, "__len__") else None,
        desc="evaluate", progress=progress,
    ) as bar:
        for method_name, method in _methods(methods).items():
            maps = explain(method, backbone, batch, classes, metric=f"method {method_name!r}",
                           batch_size=batch_size, progress=False, reuse=True)
            for metric_name, function in chosen.items():
                options = quick_settings(metric_name, height, width) if quick else {}
                options.update(settings.get(metric_name, {}))
                available = {"model": backbone, "images": batch, "targets": classes,
                             "masks": masks, "method": method, "seed": seed,
                             "batch_size": batch_size, "progress": False}
                accepted = accepted_arguments(function)
                kwargs = {k: v for k, v in available.items() if k in accepted}
                kwargs.update(options)
                scores = np.asarray(function(maps, **kwargs), np.float64)
                rows.extend(
                    (method_name, metric_name, i, float(s)) for i, s in enumerate(scores)
                )
                bar.update(1)
    return pd.DataFrame(rows, columns=["method", "metric", "image", "score"])


def evaluate_to_folder(
    images: Any,
    out: str | os.PathLike,
    *,
    model: Any = "efficientnet_lite0",
    methods: Methods = ("gradcam", "saliency"),
    metrics: Sequence[str] = DEFAULT_METRICS,
    targets: Any = None,
    masks: Any = None,
    seed: int = 0,
    quick: bool = True,
    chart_name: str = "chart.png",
    progress: bool | None = None,
) -> dict[str, str]:
    """The work of `kerasviz evaluate IMAGES... --out DIR`: scores, summary and chart on disk.

    Args:
        images: Image paths (files or folders), or an array `(N, H, W, 3)` in `[0, 255]`;
            files are loaded at the model's input size.
        out: Folder to write into (created).
        model: A backbone name (`kerasviz.load_backbone`), a `Backbone` or a Keras model.
        methods: Method names / callables, or `{name: fn}`.
        metrics: Metric names.
        targets: Class per image, or `None` for each predicted class.
        masks: Ground-truth masks `(N, H, W)` for localisation metrics.
        seed: Seed of every random perturbation.
        quick: Use `quick_settings` for costly metrics.
        chart_name: File name of the chart inside `out`.
        progress: Progress bar setting.

    Returns:
        `{"scores": path, "summary": path, "chart": path}`.

    Raises:
        KerasvizError: Any invalid input (see `evaluate`); `ExportError` when `out` cannot be
            written.
    """
    from ..backbones import load_backbone
    from ..errors import ExportError
    from ..images import load_image
    from .chart import score_chart
    from .summary import summarize_scores

    for name in [metrics] if isinstance(metrics, str) else metrics:
        metric_function(name)  # an unknown name fails before a model is loaded
    backbone = load_backbone(model) if isinstance(model, str) else as_backbone(model)
    if isinstance(images, (str, os.PathLike)) or (
        isinstance(images, (list, tuple)) and images and isinstance(images[0], (str, os.PathLike))
    ):
        from ..images import readable_image_files

        paths = [images] if isinstance(images, (str, os.PathLike)) else list(images)
        files = []
        for path in paths:
            files.extend(readable_image_files(path) if os.path.isdir(path) else [path])
        size = tuple(backbone.model.inputs[0].shape[1:3])
        images = np.stack([load_image(f, size=size) for f in files])
    scores = evaluate(backbone, images, targets, methods, metrics, masks=masks, seed=seed,
                      quick=quick, progress=progress)
    summary = summarize_scores(scores, seed=seed)
    try:
        os.makedirs(out, exist_ok=True)
        written = {
            "scores": os.path.join(out, "scores.csv"),
            "summary": os.path.join(out, "summary.csv"),
            "chart": os.path.join(out, chart_name),
        }
        scores.to_csv(written["scores"], index=False)
        summary.to_csv(written["summary"], index=False)
        score_chart(summary, written["chart"])
    except OSError as error:
        raise ExportError(f"Could not write the evaluation into {out!r}. Received: {error}") from error
    return written
