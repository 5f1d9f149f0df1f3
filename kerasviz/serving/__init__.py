"""Serving: an embedded server speaking TF Serving's gRPC and REST APIs, and clients for both."""

from .client import RestStyleClient, StyleClient
from .explainer import EXPLAIN_METHODS, export_explainer
from .errors import ServingError
from .server import ServingServer

__all__ = ["EXPLAIN_METHODS", "RestStyleClient", "ServingError", "ServingServer", "StyleClient", "export_explainer"]
