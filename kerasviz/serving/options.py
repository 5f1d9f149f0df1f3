"""`ServingServer`'s option records, one per concern, each checked when it is made (field names
are `tensorflow_model_server`'s flag names):

- `SecurityOptions`: TLS files and the bearer token;
- `LimitOptions`: concurrency, message size, shutdown grace and the REST timeouts;
- `ModelConfigOptions`: the model config file and how often versions / the config are re-read;
- `OperationsOptions`: server-side batching and Prometheus monitoring.

```python
ServingServer("style", "models/style", limits=LimitOptions(max_concurrent_requests=8),
              model_config=ModelConfigOptions(file_system_poll_wait_seconds=0))
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ..checks import check_bool, check_int, check_number
from ..errors import ParameterError
from .server_options import DEFAULT_MAX_MESSAGE_BYTES, check_limits, check_tls_files

__all__ = ["LimitOptions", "ModelConfigOptions", "OperationsOptions", "SecurityOptions", "check_record"]


def _check_optional_path(value: Any, name: str) -> None:
    if value is not None and not isinstance(value, str):
        raise ParameterError(f"`{name}` must be a file path (str) or None. Received: {name}={value!r}")


@dataclass(frozen=True)
class SecurityOptions:
    """TLS and authentication.

    Attributes:
        ssl_cert: PEM server certificate; with `ssl_key`, both APIs use TLS.
        ssl_key: PEM private key of `ssl_cert`.
        ssl_client_ca: PEM CA bundle; if given, clients must present a certificate it signed (mTLS).
        auth_token: Bearer token required on every call (gRPC `authorization` metadata, REST
            `Authorization` header); defaults to `$KERASVIZ_SERVING_TOKEN` when set.

    Raises:
        ParameterError: Half a key pair, a client CA without the pair, a non-string path.
    """

    ssl_cert: Optional[str] = None
    ssl_key: Optional[str] = None
    ssl_client_ca: Optional[str] = None
    auth_token: Optional[str] = None

    def __post_init__(self) -> None:
        for name in ("ssl_cert", "ssl_key", "ssl_client_ca"):
            _check_optional_path(getattr(self, name), name)
        check_tls_files(self.ssl_cert, self.ssl_key, self.ssl_client_ca)


@dataclass(frozen=True)
class LimitOptions:
    """Request limits and timeouts.

    Attributes:
        max_concurrent_requests: Requests handled at once per API, >= 1; more get
            RESOURCE_EXHAUSTED / 429.
        max_message_bytes: Largest request and response (gRPC message, REST body), >= 1.
        grace_seconds: Default time `stop()` lets running requests finish, >= 0.
        rest_api_timeout_in_ms: Default REST predict deadline (504 after; 0 = none).
        rest_body_timeout_seconds: Time a REST client has to send its whole body (408 after), > 0.
        rest_header_timeout_seconds: Time a REST client has to send a request's headers (408
            and the connection closed after), > 0.

    Raises:
        ParameterError: A value out of range.
    """

    max_concurrent_requests: int = 64
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    grace_seconds: float = 5.0
    rest_api_timeout_in_ms: int = 30_000
    rest_body_timeout_seconds: float = 30.0
    rest_header_timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        check_limits(self.max_concurrent_requests, self.max_message_bytes, self.grace_seconds)
        check_int(self.rest_api_timeout_in_ms, "rest_api_timeout_in_ms", low=0)
        check_number(self.rest_body_timeout_seconds, "rest_body_timeout_seconds", low=0, open_low=True)
        check_number(self.rest_header_timeout_seconds, "rest_header_timeout_seconds", low=0, open_low=True)


@dataclass(frozen=True)
class ModelConfigOptions:
    """Where the models come from and how often that is re-read.

    Attributes:
        model_config_file: TF Serving `ModelServerConfig` text file (several models, version
            policies, labels), instead of `model_name` / `model_base_path`.
        model_config_file_poll_wait_seconds: Seconds between re-reads of `model_config_file`
            (0 = read once), >= 0.
        file_system_poll_wait_seconds: Seconds between scans for new versions (0 = no polling), >= 0.

    Raises:
        ParameterError: A negative period or a non-string path.
    """

    model_config_file: Optional[str] = None
    model_config_file_poll_wait_seconds: float = 0.0
    file_system_poll_wait_seconds: float = 1.0

    def __post_init__(self) -> None:
        _check_optional_path(self.model_config_file, "model_config_file")
        check_number(self.model_config_file_poll_wait_seconds, "model_config_file_poll_wait_seconds", low=0)
        check_number(self.file_system_poll_wait_seconds, "file_system_poll_wait_seconds", low=0)


@dataclass(frozen=True)
class OperationsOptions:
    """Server-side batching and monitoring.

    Attributes:
        enable_batching: Merge same-shaped requests into one model call.
        batching_parameters_file: TF Serving `BatchingParameters` text file (default TF
            Serving's defaults); used with `enable_batching`.
        monitoring_config_file: TF Serving `MonitoringConfig` text file; `prometheus_config {
            enable: true }` serves Prometheus metrics on the REST port.

    Raises:
        ParameterError: A non-bool `enable_batching` or a non-string path.
    """

    enable_batching: bool = False
    batching_parameters_file: Optional[str] = None
    monitoring_config_file: Optional[str] = None

    def __post_init__(self) -> None:
        check_bool(self.enable_batching, "enable_batching")
        _check_optional_path(self.batching_parameters_file, "batching_parameters_file")
        _check_optional_path(self.monitoring_config_file, "monitoring_config_file")


def check_record(value: Any, record: type, name: str) -> Any:
    """An option record of type `record`: `value` itself, or the defaults for `None`.

    Args:
        value: A `record` instance or None.
        record: The option record class.
        name: The parameter's name (for the message).

    Returns:
        A `record` instance.

    Raises:
        ParameterError: `value` is something else (a dict, another record).
    """
    if value is None:
        return record()
    if not isinstance(value, record):
        raise ParameterError(
            f"`{name}` must be a {record.__name__} (e.g. {record.__name__}(...)) or None. Received: {name}={value!r}"
        )
    return value
