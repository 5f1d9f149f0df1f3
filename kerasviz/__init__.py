"""kerasviz: visualize and understand Keras CNNs, and serve fast neural style networks.

Images go in and come out in pixel space (`[0, 255]`, channels last); see the README for the API.
"""

# The `kerasviz` command hides TensorFlow's start-up lines; it must run before TensorFlow loads.
from .cli import startup

startup.quiet_tensorflow_startup()
del startup

from .attribution import *  # noqa: F401,F403
from .attribution import __all__ as _attribution_all
from .backbones import Backbone, PixelPreprocessing, imagenet_class_names, load_backbone
from .errors import (
    ImageError,
    KerasvizError,
    LayerNotFoundError,
    ModelError,
    ParameterError,
    TargetError,
    WeightsUnavailableError,
)
from .faststyle import *  # noqa: F401,F403
from .faststyle import __all__ as _faststyle_all
from .features import FeatureModel, layer_names
from .images import (
    as_image_batch,
    colorize_map,
    image_grid,
    load_image,
    normalize_map,
    overlay_heatmap,
    resize_image,
    resize_map,
    sample_image,
    save_image,
    to_uint8,
)
from .inspect import *  # noqa: F401,F403
from .inspect import __all__ as _inspect_all
from .progress import set_progress
from .serving import *  # noqa: F401,F403
from .synthesis import *  # noqa: F401,F403
from .synthesis import __all__ as _synthesis_all
from .serving import __all__ as _serving_all

__version__ = "0.1.0"

__all__ = [
    "Backbone",
    "FeatureModel",
    "ImageError",
    "KerasvizError",
    "LayerNotFoundError",
    "ModelError",
    "ParameterError",
    "PixelPreprocessing",
    "TargetError",
    "WeightsUnavailableError",
    "as_image_batch",
    "colorize_map",
    "image_grid",
    "imagenet_class_names",
    "layer_names",
    "load_backbone",
    "load_image",
    "normalize_map",
    "overlay_heatmap",
    "resize_image",
    "resize_map",
    "sample_image",
    "save_image",
    "set_progress",
    "to_uint8",
    *_attribution_all,
    *_faststyle_all,
    *_inspect_all,
    *_serving_all,
    *_synthesis_all,
]
