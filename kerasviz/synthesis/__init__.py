"""Synthesis family: composable objectives, image parameterizations and one gradient-ascent engine,
with class / feature visualization, fooling and adversarial images, DeepDream and feature
inversion built on them."""

from .adversarial import FoolingReport, adversarial_example, fooling_image
from .deepdream import deep_dream
from .inversion import invert_features
from .optimize import OptimizeResult, optimize
from .parameterization import DecorrelatedImage, FourierImage, Parameterization, PixelImage
from .transforms import Transforms
from .visualize import visualize_class, visualize_feature
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
    "visualize_class",
    "visualize_feature",
    "fooling_image",
    "FoolingReport",
    "adversarial_example",
    "deep_dream",
    "invert_features",
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
