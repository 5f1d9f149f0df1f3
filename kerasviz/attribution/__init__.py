"""Attribution: which pixels made the network say *cat*? Occlusion, saliency, guided backprop,
Grad-CAM (and Grad-CAM++), SmoothGrad, integrated gradients, gradient x input, attention rollout
(vision transformers) and saliency-seeded GrabCut.

Where to add a technique: one module here (built on `core.py`) plus its import line and
its name in `__all__` below.
"""

from .attention_rollout import attention_rollout
from .gradcam import gradcam, gradcam_plus_plus
from .gradient_x_input import gradient_x_input
from ..images.render import gradient_image
from .guided_backprop import guided_backprop
from .integrated_gradients import IntegratedGradients, integrated_gradients
from .occlusion import occlusion
from .saliency import saliency
from .segmentation import grabcut_segmentation
from .smoothgrad import smoothgrad
from .metrics import DeletionInsertion, attribution_maps, deletion_insertion
from .pointing_game import PointingGame, pointing_game
from .sanity import RandomizationCheck, cascade_picture, randomization_check, rank_correlation
from .gradient_cams import hires_cam, xgrad_cam
from .layer_cam import layer_cam
from .eigen_cam import eigen_cam
from .score_cam import score_cam
from .ablation_cam import ablation_cam
from .callbacks import AttributionCallback, AttributionPNGCallback, attribution_pictures

__all__ = [
    "IntegratedGradients",
    "attention_rollout",
    "grabcut_segmentation",
    "gradcam",
    "gradcam_plus_plus",
    "gradient_image",
    "gradient_x_input",
    "guided_backprop",
    "integrated_gradients",
    "occlusion",
    "saliency",
    "smoothgrad",
    "DeletionInsertion",
    "PointingGame",
    "attribution_maps",
    "deletion_insertion",
    "pointing_game",
    "RandomizationCheck",
    "cascade_picture",
    "randomization_check",
    "rank_correlation",
    "AttributionCallback",
    "AttributionPNGCallback",
    "attribution_pictures",
    "ablation_cam",
    "eigen_cam",
    "hires_cam",
    "layer_cam",
    "score_cam",
    "xgrad_cam",
]
