"""Fast style family: Johnson et al.'s transform networks (one or many styles, mixed in one
pass), trained with the synthesis objectives (on one device or many workers), checkpointed, resumed,
exported as SavedModels (TF Serving) or LiteRT files, and run over videos; Huang & Belongie's AdaIN
stylizer for any style image; and the measures of their pictures (style strength, blobs)."""

from ..errors import ExportError
from .adain import build_arbitrary_stylizer
from .arbitrary import load_arbitrary_stylizer, stylize_arbitrary
from .artefacts import blob_artefact_mask, blob_artefact_score
from .distribute import make_strategy
from .export import export_style_model
from .inference import stylize
from .litert import export_style_tflite, load_tflite, stylize_tflite
from .network import build_transform_net, extract_style, transform_net_config
from .options import NetworkOptions, TrainingData, TrainingLoss, TrainingRun
from .saved_model import load_style_model, stylize_saved_model
from .style_strength import StyleStrength, style_distance, style_strength
from .train import TrainingResult, train_style_network
from .train_arbitrary import ArbitraryTrainingResult, train_arbitrary_stylizer
from .video import VideoResult, stylize_video

__all__ = [
    "ArbitraryTrainingResult",
    "ExportError",
    "NetworkOptions",
    "StyleStrength",
    "TrainingData",
    "TrainingLoss",
    "TrainingResult",
    "TrainingRun",
    "VideoResult",
    "blob_artefact_mask",
    "blob_artefact_score",
    "build_arbitrary_stylizer",
    "build_transform_net",
    "export_style_model",
    "export_style_tflite",
    "extract_style",
    "load_arbitrary_stylizer",
    "load_style_model",
    "load_tflite",
    "make_strategy",
    "style_distance",
    "style_strength",
    "stylize",
    "stylize_arbitrary",
    "stylize_saved_model",
    "stylize_tflite",
    "stylize_video",
    "train_arbitrary_stylizer",
    "train_style_network",
    "transform_net_config",
]
