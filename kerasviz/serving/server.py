"""`ServingServer`: TF Serving's gRPC and REST APIs for one model or a `--model_config_file`'s
models, in one process.

gRPC runs on `grpc.server` threads; REST runs on aiohttp in its own event-loop thread; both share
the model set (versions by policy, background loading, warm-up, atomic swaps), the optional batch
scheduler (`enable_batching`) and the optional Prometheus metrics.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from concurrent import futures
from typing import Optional, Tuple

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

from ..checks import check_bool, check_int, check_number
from ..errors import ParameterError
from .batching import BatchScheduler
from .config import read_batching_parameters, read_monitoring_config
from .errors import ServingError
from .grpc_service import ModelServicer, PredictionServicer, TokenInterceptor
from .metrics import Metrics
from .model_set import ModelSet
from .models import ModelManager
from .rest import RestOptions, make_app
from .rest_loop import RestLoop
from .server_options import (
    add_grpc_port,
    bind_rest_socket,
    AUTH_TOKEN_ENV,
    DEFAULT_MAX_MESSAGE_BYTES,
    check_limits,
    check_port,
    check_tls_files,
    model_specs,
    read_file_bytes,
    server_ssl_context,
    token_or_env,
)

__all__ = ["ServingServer", "DEFAULT_MAX_MESSAGE_BYTES", "AUTH_TOKEN_ENV"]

_SPARE_GRPC_THREADS = 4
_SERVICES = ("", "tensorflow.serving.PredictionService", "tensorflow.serving.ModelService")
_log = logging.getLogger(__name__)


class ServingServer:
    """An embedded TF Serving: gRPC `PredictionService` / `ModelService` / health, and the REST API.

    Give either `model_name` and `model_base_path` (one model, newest version) or
    `model_config_file` (TF Serving's `model_config_list`: several models, version policies,
    version labels).

    Args:
        model_name: The name clients ask for.
        model_base_path: Folder of numeric SavedModel version folders (the only place models are
            loaded from).
        host: Interface to listen on (default loopback only).
        port: gRPC port (0 = a free port).
        rest_api_port: REST port (0 = a free port, None = no REST).
        ssl_cert: PEM server certificate; with `ssl_key`, both APIs use TLS.
        ssl_key: PEM private key of `ssl_cert`.
        ssl_client_ca: PEM CA bundle; if given, clients must present a certificate it signed (mTLS).
        auth_token: Bearer token required on every call (gRPC `authorization` metadata, REST
            `Authorization` header); defaults to `$KERASVIZ_SERVING_TOKEN` when set.
        file_system_poll_wait_seconds: Seconds between scans for new versions (0 = no polling).
        max_concurrent_requests: Requests handled at once per API; more get RESOURCE_EXHAUSTED / 429.
        max_message_bytes: Largest request and response (gRPC message, REST body).
        grace_seconds: Default time `stop()` lets running requests finish.
        model_config_file: TF Serving `ModelServerConfig` text file (instead of name / base path).
        model_config_file_poll_wait_seconds: Seconds between re-reads of `model_config_file`
            (0 = read once).
        enable_batching: Merge same-shaped requests into one model call (server-side batching).
        batching_parameters_file: TF Serving `BatchingParameters` text file (default TF Serving's
            defaults); used with `enable_batching`.
        monitoring_config_file: TF Serving `MonitoringConfig` text file; `prometheus_config {
            enable: true }` serves Prometheus metrics on the REST port.
        rest_api_timeout_in_ms: Default REST predict deadline (504 after; 0 = none).
        rest_body_timeout_seconds: Time a REST client has to send its whole body (408 after).

    Raises:
        ParameterError: a missing base path, half a TLS key pair, unreadable PEM or config files,
            bad ports or limits.
    """

    def __init__(
        self,
        model_name: Optional[str] = None,
        model_base_path: Optional[str | os.PathLike] = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        rest_api_port: Optional[int] = 0,
        ssl_cert: Optional[str] = None,
        ssl_key: Optional[str] = None,
        ssl_client_ca: Optional[str] = None,
        auth_token: Optional[str] = None,
        file_system_poll_wait_seconds: float = 1.0,
        max_concurrent_requests: int = 64,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        grace_seconds: float = 5.0,
        model_config_file: Optional[str] = None,
        model_config_file_poll_wait_seconds: float = 0.0,
        enable_batching: bool = False,
        batching_parameters_file: Optional[str] = None,
        monitoring_config_file: Optional[str] = None,
        rest_api_timeout_in_ms: int = 30_000,
        rest_body_timeout_seconds: float = 30.0,
    ) -> None:
        specs = model_specs(model_name, model_base_path, model_config_file)
        check_number(model_config_file_poll_wait_seconds, "model_config_file_poll_wait_seconds", low=0)
        check_bool(enable_batching, "enable_batching")
        check_int(rest_api_timeout_in_ms, "rest_api_timeout_in_ms", low=0)
        check_number(rest_body_timeout_seconds, "rest_body_timeout_seconds", low=0, open_low=True)
        batching = read_batching_parameters(batching_parameters_file) if enable_batching else None
        metrics_path = read_monitoring_config(monitoring_config_file)
        check_port(port, "port")
        check_port(rest_api_port, "rest_api_port")
        check_tls_files(ssl_cert, ssl_key, ssl_client_ca)
        check_limits(max_concurrent_requests, max_message_bytes, file_system_poll_wait_seconds, grace_seconds)
        auth_token = token_or_env(auth_token)
        self.host = host
        self._ports = (port, rest_api_port)
        self._cert, self._key, self._client_ca = read_file_bytes(ssl_cert, "ssl_cert"), read_file_bytes(ssl_key, "ssl_key"), read_file_bytes(ssl_client_ca, "ssl_client_ca")
        self._cert_paths = (ssl_cert, ssl_key, ssl_client_ca)
        self._token = auth_token
        self._max_concurrent = max_concurrent_requests
        self._max_bytes = max_message_bytes
        self.grace_seconds = grace_seconds
        self.models = ModelSet(
            specs, file_system_poll_wait_seconds, model_config_file, model_config_file_poll_wait_seconds
        )
        self._batching = batching
        self.batcher: Optional[BatchScheduler] = None
        self.metrics = Metrics(self.models)
        self._metrics_path = metrics_path
        self._rest_timeouts = (rest_api_timeout_in_ms, rest_body_timeout_seconds)
        self.grpc_port: Optional[int] = None
        self.rest_port: Optional[int] = None
        self._grpc: Optional[grpc.Server] = None
        self._health: Optional[health.HealthServicer] = None
        self._rest: Optional[RestLoop] = None
        self._executor: Optional[futures.ThreadPoolExecutor] = None
        self._stopped = threading.Event()

    @property
    def manager(self) -> ModelManager:
        """The first configured model's manager (the only one without a model config file)."""
        return next(iter(self.models.values()))

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> Tuple[int, Optional[int]]:
        """Load the newest version, then open the gRPC and REST ports.

        Returns:
            `(grpc_port, rest_port)`; `rest_port` is None without REST.

        Raises:
            ParameterError: a port is taken, or the server was already started (make a new one).
        """
        if self._executor is not None:
            raise ParameterError("A ServingServer starts once; create a new one to serve again. Received: start() called twice")
        rest_socket = bind_rest_socket(self.host, self._ports[1]) if self._ports[1] is not None else None
        if rest_socket is not None:
            self.rest_port = rest_socket.getsockname()[1]
        workers = min(self._max_concurrent, 32)
        self._executor = futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kerasviz-rest")
        if self._batching is not None:
            self.batcher = BatchScheduler(self._batching, self.metrics.observe_queuing)
        try:
            self.models.start()
            self._start_grpc(self._max_concurrent)  # one thread per predict slot, plus spares
            if rest_socket is not None:
                self._start_rest(rest_socket)
        except BaseException:
            if rest_socket is not None:
                rest_socket.close()
            self.stop(grace=0)
            raise
        self.models.on_change = self._mark_serving
        self._mark_serving()
        _log.info("serving models %s: gRPC %s:%s, REST %s", sorted(self.models), self.host, self.grpc_port, self.rest_port)
        return self.grpc_port, self.rest_port

    def _mark_serving(self) -> None:
        if self._health is None:
            return
        try:
            for manager in list(self.models.values()):
                manager.servable()
            state = health_pb2.HealthCheckResponse.SERVING if self.models else health_pb2.HealthCheckResponse.NOT_SERVING
        except ServingError:  # some model has no version loaded yet
            state = health_pb2.HealthCheckResponse.NOT_SERVING
        for service in _SERVICES:
            self._health.set(service, state)

    def _start_grpc(self, workers: int) -> None:
        options = [
            ("grpc.max_receive_message_length", self._max_bytes),
            ("grpc.max_send_message_length", self._max_bytes),
            ("grpc.so_reuseport", 0),
        ]
        interceptors = [TokenInterceptor(self._token)] if self._token else []
        # Predict calls are limited by the servicer; the spare threads keep status, metadata and
        # health calls answering while every predict slot is busy.
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=workers + _SPARE_GRPC_THREADS, thread_name_prefix="kerasviz-grpc"),
            interceptors=interceptors,
            options=options,
            maximum_concurrent_rpcs=self._max_concurrent + 4 * _SPARE_GRPC_THREADS,
        )
        predictions = PredictionServicer(self.models, self.batcher, self.metrics, self._max_concurrent)
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(predictions, server)
        model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelServicer(self.models), server)
        self._health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        self.grpc_port = add_grpc_port(server, self.host, self._ports[0], self._cert, self._key, self._client_ca)
        server.start()
        self._grpc = server

    def _start_rest(self, sock: socket.socket) -> None:
        options = RestOptions(
            max_concurrent_requests=self._max_concurrent,
            max_body_bytes=self._max_bytes,
            auth_token=self._token,
            timeout_ms=self._rest_timeouts[0],
            body_timeout_seconds=self._rest_timeouts[1],
            metrics_path=self._metrics_path,
        )
        app = make_app(self.models, self._executor, options, self.batcher, self.metrics)
        self._rest = RestLoop(app, sock, server_ssl_context(*self._cert_paths))
        self._rest.start()

    def stop(self, grace: Optional[float] = None) -> None:
        """Stop accepting requests, let running ones finish for `grace` seconds, then close.

        Args:
            grace: Seconds for running requests (default `grace_seconds`).
        """
        if self._stopped.is_set():
            return
        grace = self.grace_seconds if grace is None else grace
        grpc_done = None
        if self._grpc is not None:
            self._health.enter_graceful_shutdown()
            grpc_done = self._grpc.stop(grace)
        if self._rest is not None:
            self._rest.stop(grace)
        if grpc_done is not None:
            grpc_done.wait(timeout=grace + 5)
        if self.batcher is not None:
            self.batcher.stop()
        self.models.stop()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        self._stopped.set()

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Block until `stop()` has run (for the command line).

        Args:
            timeout: Seconds to wait at most (None = forever).

        Returns:
            True when the server has stopped.
        """
        return self._stopped.wait(timeout)

    def __enter__(self) -> "ServingServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
