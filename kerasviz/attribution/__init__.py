"""Attribution: which pixels made the network say *cat*? Occlusion, saliency, guided backprop,
Grad-CAM (and Grad-CAM++), SmoothGrad, integrated gradients, gradient x input, attention rollout
(vision transformers) and saliency-seeded GrabCut.

Where to add a technique: one module here (built on `core.py`), its import and name below, and
its entry in `kerasviz/registry.py` (which gives it a command, a demo panel and a place in
`kv.evaluate` and the explorer).
"""

from ..images.render import gradient_image
from ..metrics.deletion import DeletionInsertion, attribution_maps, deletion_insertion
from ..metrics.model_randomisation import rank_correlation
from .ablation_cam import ablation_cam
from .attention_rollout import attention_rollout
from .callbacks import AttributionCallback, AttributionPNGCallback
from .eigen_cam import eigen_cam
from .gradcam import gradcam, gradcam_plus_plus
from .gradient_cams import hires_cam, xgrad_cam
from .gradient_x_input import gradient_x_input
from .guided_backprop import guided_backprop
from .integrated_gradients import IntegratedGradients, integrated_gradients
from .layer_cam import layer_cam
from .occlusion import occlusion
from .pictures import attribution_pictures
from .pointing_game import PointingGame, pointing_game
from .saliency import saliency
from .sanity import RandomizationCheck, cascade_picture, randomization_check
from .score_cam import score_cam
from .segmentation import grabcut_segmentation
from .smoothgrad import smoothgrad

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
