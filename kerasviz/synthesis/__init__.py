"""Synthesis family: composable objectives, image parameterizations and one gradient-ascent engine,
with class / feature visualization, fooling and adversarial images, DeepDream and feature
inversion built on them."""

from .optimize import OptimizeResult, optimize
from .parameterization import DecorrelatedImage, FourierImage, Parameterization, PixelImage
from .transforms import Transforms
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
    "optimize",
    "OptimizeResult",
    "Transforms",
    "Parameterization",
    "PixelImage",
    "DecorrelatedImage",
    "FourierImage",
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
