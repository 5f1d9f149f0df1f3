"""Synthesis family: composable objectives, image parameterizations and one gradient-ascent engine,
with class / feature visualization, fooling and adversarial images, DeepDream and feature
inversion built on them."""

from .objectives import (
    PIXELS,
    Objective,
    channel,
    class_score,
    content,
    content_targets,
    gram_matrix,
    gram_targets,
    l1,
    l2,
    layer_l2,
    neuron,
    objective_outputs,
    style,
    total_variation,
)

__all__ = [
    "PIXELS",
    "Objective",
    "channel",
    "class_score",
    "content",
    "content_targets",
    "gram_matrix",
    "gram_targets",
    "l1",
    "l2",
    "layer_l2",
    "neuron",
    "objective_outputs",
    "style",
    "total_variation",
]
