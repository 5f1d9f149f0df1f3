"""Attribution: which pixels made the network say *cat*? Occlusion, saliency, guided backprop,
Grad-CAM (and Grad-CAM++), SmoothGrad, integrated gradients and saliency-seeded GrabCut."""

from .gradcam import gradcam, gradcam_plus_plus
from .gradients import (
    IntegratedGradients,
    gradient_image,
    guided_backprop,
    integrated_gradients,
    saliency,
    smoothgrad,
)
from .occlusion import occlusion
from .segmentation import grabcut_segmentation
from .sanity import RandomizationCheck, cascade_picture, randomization_check, rank_correlation
from .metrics import DeletionInsertion, PointingGame, attribution_maps, deletion_insertion, pointing_game

__all__ = [
    "IntegratedGradients",
    "grabcut_segmentation",
    "gradcam",
    "gradcam_plus_plus",
    "gradient_image",
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
]
