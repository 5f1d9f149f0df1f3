"""Synthesis family: composable objectives, image parameterizations and one gradient-ascent engine,
with class / feature visualization, fooling and adversarial images, DeepDream and feature
inversion built on them."""

from .adversarial import FoolingReport, adversarial_example, fooling_image
from .ascent_options import PLAIN, Ascent, Execution, Regularization
from .deepdream import deep_dream
from .inversion import invert_features
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
    objective,
    objective_outputs,
    per_image_mean,
    style,
    total_variation,
)
from .optimize import OptimizeResult, optimize
from .optimizers import Adam, GradientAscent, Optimizer
from .paintings import PAINTINGS, load_painting
from .parameterization import DecorrelatedImage, FourierImage, Parameterization, PixelImage
from .patch_texture import quilt_texture
from .style_options import Descent, LossFeatures, LossWeights
from .style_transfer import style_transfer, style_transfer_losses
from .texture import synthesize_texture
from .transforms import Transforms
from .visualize import visualize_class, visualize_feature

__all__ = [
    "PAINTINGS",
    "load_painting",
    "synthesize_texture",
    "quilt_texture",
    "style_transfer",
    "style_transfer_losses",
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
    "Ascent",
    "Regularization",
    "Execution",
    "PLAIN",
    "LossWeights",
    "LossFeatures",
    "Descent",
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
    "objective",
    "objective_outputs",
    "per_image_mean",
    "Optimizer",
    "GradientAscent",
    "Adam",
    "style",
    "total_variation",
]
