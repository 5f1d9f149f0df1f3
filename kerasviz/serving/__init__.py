"""Serving: an embedded server speaking TF Serving's gRPC and REST APIs, and clients for both."""

from .classifier_export import export_classifier
from .client import StyleClient
from .errors import ServingError
from .explainer import export_explainer
from .options import LimitOptions, ModelConfigOptions, OperationsOptions, SecurityOptions
from .rest_client import RestStyleClient
from .server import ServingServer

__all__ = [
    "LimitOptions",
    "ModelConfigOptions",
    "OperationsOptions",
    "RestStyleClient",
    "SecurityOptions",
    "ServingError",
    "ServingServer",
    "StyleClient",
    "export_classifier",
    "export_explainer",
]
