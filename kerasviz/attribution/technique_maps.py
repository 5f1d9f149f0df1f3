"""Any registered technique's result as one kind of array: a heatmap `(N, H, W)` in `[0, 1]`.

The command line, the demo, the faithfulness table, `kv.evaluate` and the explorer call
techniques by name through `technique_map`, so a technique added to `kerasviz.registry` works
in each of them without a line of its own.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..images import normalize_map
from ..registry import get_technique
from ..targets import TargetLike
from ..technique import Technique

__all__ = ["as_heatmap", "run_technique", "technique_map"]


def as_heatmap(result: Any, output: str) -> np.ndarray:
    """Read a technique's result as heatmaps in `[0, 1]`.

    Args:
        result: What the technique returned (an array, or a result with `attributions`).
        output: The technique's `output` kind (a key of `kerasviz.technique.OUTPUTS`).

    Returns:
        float32 heatmaps with the result's leading shape (`(N, H, W)` or `(H, W)`).
    """
    array = np.asarray(getattr(result, "attributions", result), np.float32)
    if output == "attribution":  # signed per colour: magnitude summed over colours
        return normalize_map(np.abs(array).sum(axis=-1))
    if output in ("relevance", "probability_drop", "signed"):  # signed: the positive evidence
        return normalize_map(np.maximum(array, 0.0))
    if output == "importance":  # non-negative, unnormalized
        return normalize_map(array)
    return array


def run_technique(technique: Technique, model: Any, images: Any, target: Optional[TargetLike] = None, **options: Any) -> Any:
    """Call a registered technique the one way every front end does: with the target only if it
    takes one, and one image at a time if it takes single images (LIME, Kernel SHAP).

    Args:
        technique: A registry entry.
        model: A `Backbone` or `keras.Model` (a predictor for black-box techniques).
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`.
        target: Class index, one per image, or callable; ignored by class-agnostic techniques.
        **options: The technique's keyword options.

    Returns:
        The technique's own result (its `output` kind), stacked per image for one-image techniques.
    """
    function = technique.load()
    if not technique.batched and np.ndim(images) == 4:
        targets = np.broadcast_to(np.asarray(target, dtype=object), (len(images),))
        return np.stack([np.asarray(run_technique(technique, model, image, t, **options)) for image, t in zip(images, targets)])
    if technique.targeted:
        return function(model, images, target, **options)
    return function(model, images, **options)


def technique_map(
    name: str, model: Any, images: Any, target: Optional[TargetLike] = None, **options: Any
) -> np.ndarray:
    """Run a registered technique by name and return its heatmaps in `[0, 1]`.

    Args:
        name: A technique of `kerasviz.registry` (Python or command spelling), e.g. `"gradcam"`.
        model: A `Backbone` or `keras.Model` (a predictor for black-box techniques).
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`.
        target: Class index, one per image, or callable; ignored by class-agnostic techniques.
        **options: The technique's keyword options (e.g. `layer=`, `samples=`).

    Returns:
        float32 `(N, H, W)` (or `(H, W)`) in `[0, 1]`.

    Raises:
        ParameterError: Unknown technique name.
        KerasvizError: Whatever the technique raises for bad input.
    """
    technique = get_technique(name)
    return as_heatmap(run_technique(technique, model, images, target, **options), technique.output)
