"""Fast style family: Johnson et al.'s transform networks (one or many styles, mixed in one
pass), trained with the synthesis objectives, checkpointed, resumed and exported as SavedModels."""

from .export import export_style_model, load_style_model, stylize_saved_model
from .network import build_transform_net, extract_style, stylize, transform_net_config
from .train import TrainingResult, train_style_network

__all__ = [
    "TrainingResult",
    "build_transform_net",
    "export_style_model",
    "extract_style",
    "load_style_model",
    "stylize",
    "stylize_saved_model",
    "train_style_network",
    "transform_net_config",
]
