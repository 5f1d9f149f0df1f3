"""Serving: an embedded server speaking TF Serving's gRPC and REST APIs, and clients for both."""

from .client import RestStyleClient, StyleClient
from .errors import ServingError
from .server import ServingServer

__all__ = ["RestStyleClient", "ServingError", "ServingServer", "StyleClient"]
