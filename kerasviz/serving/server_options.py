"""The embedded server's options: checked once at construction, with TF Serving's flag names in
the messages (model specs, ports, TLS files, limits, the auth token and its environment variable).
"""

from __future__ import annotations

import os
import socket
import ssl
from pathlib import Path
from typing import Any, List, Optional

import grpc

from ..errors import ParameterError
from .config import ModelSpecConfig, read_model_config

__all__ = [
    "AUTH_TOKEN_ENV",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "add_grpc_port",
    "bind_rest_socket",
    "check_limits",
    "check_port",
    "check_tls_files",
    "model_specs",
    "read_file_bytes",
    "server_ssl_context",
    "token_or_env",
]

# One 1024 x 1024 float32 RGB image is 12.6 MB; 16 MiB leaves room for the rest of the request.
DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024
AUTH_TOKEN_ENV = "KERASVIZ_SERVING_TOKEN"


def read_file_bytes(path: Optional[str], what: str) -> Optional[bytes]:
    """The bytes of a certificate / key file, or `None` without a path.

    Raises:
        ParameterError: The file cannot be read.
    """
    if path is None:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise ParameterError(f"Cannot read the {what} file: {error.strerror}. Received: {what}={path!r}") from None


def check_port(value: Optional[int], name: str) -> None:
    """Check a port number in `[0, 65535]` (0 = any free port) or `None`.

    Raises:
        ParameterError: Anything else.
    """
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 65535):
        raise ParameterError(f"`{name}` must be a port number in [0, 65535] (0 = any free port). Received: {name}={value!r}")


def model_specs(model_name: Optional[str], base_path: Any, config_file: Optional[str]) -> List[ModelSpecConfig]:
    """The models to serve: from a model config file, or one name and base path.

    Raises:
        ParameterError: Both or neither given, a bad name, or a missing base path.
    """
    if config_file is not None:
        if model_name is not None or base_path is not None:
            raise ParameterError(
                "Give --model_config_file or --model_name/--model_base_path, not both. Received: "
                f"model_config_file={config_file!r}, model_base_path={base_path!r}"
            )
        return read_model_config(config_file)
    if not model_name or not isinstance(model_name, str) or "/" in model_name or ":" in model_name:
        raise ParameterError(f"`model_name` must be a non-empty name without '/' or ':'. Received: model_name={model_name!r}")
    if base_path is None or not Path(base_path).is_dir():
        raise ParameterError(
            "`model_base_path` must be an existing folder of numeric version folders (e.g. "
            f"export with `export_style_model`). Received: model_base_path={None if base_path is None else str(base_path)!r}"
        )
    return [ModelSpecConfig(model_name, Path(base_path).resolve())]


def check_tls_files(ssl_cert: Optional[str], ssl_key: Optional[str], ssl_client_ca: Optional[str]) -> None:
    """Check that the TLS files come as a certificate + key pair (plus an optional client CA).

    Raises:
        ParameterError: Only one of the pair, or a client CA without the pair.
    """
    if (ssl_cert is None) != (ssl_key is None):
        raise ParameterError(f"Pass both `ssl_cert` and `ssl_key`, or neither. Received: ssl_cert={ssl_cert!r}, ssl_key={ssl_key!r}")
    if ssl_client_ca is not None and ssl_cert is None:
        raise ParameterError(f"`ssl_client_ca` needs `ssl_cert` and `ssl_key`. Received: ssl_client_ca={ssl_client_ca!r}")


def check_limits(max_concurrent_requests: Any, max_message_bytes: Any, grace_seconds: Any) -> None:
    """Check the request limits (positive ints) and the shutdown grace period (>= 0).

    Raises:
        ParameterError: A value out of range.
    """
    for name, value in (("max_concurrent_requests", max_concurrent_requests), ("max_message_bytes", max_message_bytes)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ParameterError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    if not isinstance(grace_seconds, (int, float)) or not grace_seconds >= 0:
        raise ParameterError(f"`grace_seconds` must be a number >= 0. Received: grace_seconds={grace_seconds!r}")


def token_or_env(auth_token: Optional[str]) -> Optional[str]:
    """The bearer token: `auth_token`, else `$KERASVIZ_SERVING_TOKEN`, else `None` (no auth).

    Raises:
        ParameterError: An empty or non-string token.
    """
    auth_token = auth_token if auth_token is not None else os.environ.get(AUTH_TOKEN_ENV) or None
    if auth_token is not None and (not isinstance(auth_token, str) or not auth_token.strip()):
        raise ParameterError(f"`auth_token` must be a non-empty string. Received: auth_token={auth_token!r}")
    return auth_token


def server_ssl_context(cert: Optional[str], key: Optional[str], client_ca: Optional[str]) -> Optional[ssl.SSLContext]:
    """The REST server's TLS context (client certificates required with `client_ca`), or `None`.

    Args:
        cert: PEM certificate path, or `None` for plain HTTP.
        key: PEM key path.
        client_ca: PEM CA path whose client certificates are required, or `None`.

    Returns:
        An `ssl.SSLContext` or `None`.
    """
    if cert is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    if client_ca is not None:
        context.load_verify_locations(client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def add_grpc_port(
    server: grpc.Server, host: str, port: int, cert: Optional[bytes], key: Optional[bytes], client_ca: Optional[bytes]
) -> int:
    """Open the gRPC port (TLS with `cert` / `key`, client certificates required with `client_ca`).

    Returns:
        The port bound (the free one chosen for port 0).

    Raises:
        ParameterError: The address cannot be bound.
    """
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        if cert is not None:
            credentials = grpc.ssl_server_credentials(
                [(key, cert)], root_certificates=client_ca, require_client_auth=client_ca is not None
            )
            return server.add_secure_port(address, credentials)
        return server.add_insecure_port(address)
    except RuntimeError as error:
        raise ParameterError(f"Cannot listen for gRPC on {address}: {error}. Received: port={port}") from None


def bind_rest_socket(host: str, port: int) -> socket.socket:
    """A socket bound to the REST address (IPv6 when `host` has a colon).

    Raises:
        ParameterError: The address cannot be bound.
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise ParameterError(
            f"Cannot listen for REST on {host}:{port}: {error.strerror}. Received: rest_api_port={port}"
        ) from None
    return sock
