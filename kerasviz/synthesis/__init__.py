"""Synthesis family: composable objectives, image parameterizations and one gradient-ascent engine,
with class / feature visualization, fooling and adversarial images, DeepDream and feature
inversion built on them.

Objectives are functions of a FeatureModel's outputs that add and scale.

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

The objective code lives in `objective_type` (`Objective`, `objective`), `objective_inputs`
(`PIXELS`, `objective_outputs`, `per_image_mean`, `layer_argument`), `activation_objectives`
(class_score, channel, neuron, layer_l2), `regularizers` (total_variation, l2, l1) and
`style_losses` (content, style, gram_matrix and their targets).
"""

from ..data import PAINTINGS
from .activation_objectives import channel, class_score, layer_l2, neuron
from .adversarial import FoolingReport, adversarial_example, fooling_image
from .ascent_options import PLAIN, Ascent, Execution, Regularization
from .decorrelated_images import DecorrelatedImage, FourierImage
from .deepdream import deep_dream
from .inversion import invert_features
from .objective_inputs import PIXELS, objective_outputs, per_image_mean
from .objective_type import Objective, objective
from .optimize import OptimizeResult, optimize
from .optimizers import Adam, GradientAscent, Optimizer
from .paintings import load_painting
from .parameterization_base import Parameterization
from .patch_texture import quilt_texture
from .pixel_image import PixelImage
from .regularizers import l1, l2, total_variation
from .style_losses import content, content_targets, gram_matrix, gram_targets, style
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
