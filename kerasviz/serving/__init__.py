"""Serving: an embedded server speaking TF Serving's gRPC and REST APIs, and clients for both."""

from .client import RestStyleClient, StyleClient
from .explainer import export_explainer
from .errors import ServingError
from .server import ServingServer

__all__ = ["RestStyleClient", "ServingError", "ServingServer", "StyleClient", "export_explainer"]
