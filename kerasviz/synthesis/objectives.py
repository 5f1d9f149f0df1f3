"""Composable objectives: functions of a FeatureModel's outputs that add and scale.

An `Objective` scores each image of a batch, `(N,)`, from the dict a `FeatureModel` returns
(layer name -> tensor, `"logits"`) plus `"pixels"`: the image batch being scored, float32
`(N, H, W, 3)` in `[0, 255]`, for pixel regularizers. It records which layers it reads, so an
engine builds exactly one FeatureModel for the union of them.

Sign convention (one rule, as in Lucid): every constructor returns its natural quantity —
activations and class scores (more = stronger) and distances / penalties (`content`, `style`,
`total_variation`, `l2`, `l1`: >= 0, less = closer or smoother). The engine `optimize`
**maximizes** an objective, so penalties and losses are subtracted:
`class_score(285) - 1e-3 * l2()`, or `-(content(...) + 1e-2 * style(...))` to minimize a loss.

A custom objective in five lines, with a stable trace key (the number is an input, not traced):

    >>> def brightest(outputs, values):  # values: the tensors given as `values=` below
    ...     return values[0] * per_image_mean(outputs["pixels"])
    >>> bright = objective(score=brightest, requires={"pixels"}, values=(np.float32(2.0),),
    ...                    name="brightness")
    >>> result = optimize(backbone, class_score(285) + 1e-3 * bright)

This module is the public face of objectives; the code lives in `objective_type` (`Objective`,
`objective`), `objective_inputs` (`PIXELS`, `objective_outputs`, `per_image_mean`,
`layer_argument`) and the built-in objectives in `activation_objectives` (class_score, channel,
neuron, layer_l2), `regularizers` (total_variation, l2, l1) and `style_losses` (content, style,
gram_matrix and their targets); all are re-exported here.
"""

from __future__ import annotations

from .activation_objectives import channel, class_score, layer_l2, neuron
from .objective_inputs import PIXELS, layer_argument, objective_outputs, per_image_mean
from .objective_type import Check, Objective, ScoreFn, objective  # noqa: F401  (importable from here, as before the split)
from .regularizers import l1, l2, total_variation
from .style_losses import content, content_targets, gram_matrix, gram_targets, style

__all__ = [
    "PIXELS",
    "Objective",
    "objective",
    "objective_outputs",
    "per_image_mean",
    "layer_argument",
    "channel", "class_score", "layer_l2", "neuron", "l1", "l2", "total_variation",
    "content", "content_targets", "gram_matrix", "gram_targets", "style",
]
