"""Fast style family: Johnson et al.'s transform networks (one or many styles, mixed in one
pass), trained with the synthesis objectives (on one device or many workers), checkpointed, resumed,
exported as SavedModels (TF Serving) or LiteRT files, and run over videos."""

from ..errors import ExportError
from .artefacts import blob_artefact_mask, blob_artefact_score
from .distribute import make_strategy
from .export import export_style_model
from .inference import stylize
from .litert import export_style_tflite, load_tflite, stylize_tflite
from .network import build_transform_net, extract_style, transform_net_config
from .options import NetworkOptions, TrainingData, TrainingLoss, TrainingRun
from .saved_model import load_style_model, stylize_saved_model
from .train import TrainingResult, train_style_network
from .video import VideoResult, stylize_video

__all__ = [
    "ExportError",
    "NetworkOptions",
    "TrainingData",
    "TrainingLoss",
    "TrainingResult",
    "TrainingRun",
    "VideoResult",
    "blob_artefact_mask",
    "blob_artefact_score",
    "build_transform_net",
    "export_style_model",
    "export_style_tflite",
    "extract_style",
    "load_style_model",
    "load_tflite",
    "make_strategy",
    "stylize",
    "stylize_saved_model",
    "stylize_tflite",
    "stylize_video",
    "train_style_network",
    "transform_net_config",
]
