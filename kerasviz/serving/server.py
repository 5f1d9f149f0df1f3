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

from ..errors import ParameterError
from .batching import BatchScheduler
from .config import read_batching_parameters, read_monitoring_config
from .errors import ServingError
from .grpc_service import ModelServicer, PredictionServicer, TokenInterceptor
from .metrics import Metrics
from .model_set import ModelSet
from .models import ModelManager
from .options import LimitOptions, ModelConfigOptions, OperationsOptions, SecurityOptions, check_record
from .rest import RestOptions, make_app
from .rest_loop import RestLoop
from .server_options import (
    add_grpc_port,
    bind_rest_socket,
    check_port,
    model_specs,
    read_file_bytes,
    server_ssl_context,
    token_or_env,
)

__all__ = ["ServingServer"]

_SPARE_GRPC_THREADS = 4
_SERVICES = ("", "tensorflow.serving.PredictionService", "tensorflow.serving.ModelService")
_log = logging.getLogger(__name__)


class ServingServer:
    """An embedded TF Serving: gRPC `PredictionService` / `ModelService` / health, and the REST API.

    Give either `model_name` and `model_base_path` (one model, newest version) or
    `model_config=ModelConfigOptions(model_config_file=...)` (TF Serving's `model_config_list`:
    several models, version policies, version labels).

    Args:
        model_name: The name clients ask for.
        model_base_path: Folder of numeric SavedModel version folders (the only place models are
            loaded from).
        host: Interface to listen on (default loopback only).
        port: gRPC port (0 = a free port).
        rest_api_port: REST port (0 = a free port, None = no REST).
        security: TLS files and the bearer token (`SecurityOptions`; default none).
        limits: Concurrency, message size, grace period and REST timeouts (`LimitOptions`).
        model_config: Model config file and polling periods (`ModelConfigOptions`).
        operations: Server-side batching and Prometheus monitoring (`OperationsOptions`).

    Raises:
        ParameterError: a missing base path, half a TLS key pair, unreadable PEM or config files,
            bad ports or limits, an option record of the wrong type.
    """

    def __init__(
        self,
        model_name: Optional[str] = None,
        model_base_path: Optional[str | os.PathLike] = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        rest_api_port: Optional[int] = 0,
        security: Optional[SecurityOptions] = None,
        limits: Optional[LimitOptions] = None,
        model_config: Optional[ModelConfigOptions] = None,
        operations: Optional[OperationsOptions] = None,
    ) -> None:
        security = check_record(security, SecurityOptions, "security")
        limits = check_record(limits, LimitOptions, "limits")
        model_config = check_record(model_config, ModelConfigOptions, "model_config")
        operations = check_record(operations, OperationsOptions, "operations")
        specs = model_specs(model_name, model_base_path, model_config.model_config_file)
        batching = read_batching_parameters(operations.batching_parameters_file) if operations.enable_batching else None
        metrics_path = read_monitoring_config(operations.monitoring_config_file)
        check_port(port, "port")
        check_port(rest_api_port, "rest_api_port")
        self.host = host
        self._ports = (port, rest_api_port)
        self._cert_paths = (security.ssl_cert, security.ssl_key, security.ssl_client_ca)
        self._cert, self._key, self._client_ca = (
            read_file_bytes(path, name) for path, name in zip(self._cert_paths, ("ssl_cert", "ssl_key", "ssl_client_ca"))
        )
        self._token = token_or_env(security.auth_token)
        self.limits = limits
        self.grace_seconds = limits.grace_seconds
        self.models = ModelSet(
            specs,
            model_config.file_system_poll_wait_seconds,
            model_config.model_config_file,
            model_config.model_config_file_poll_wait_seconds,
        )
        self._batching = batching
        self.batcher: Optional[BatchScheduler] = None
        self.metrics = Metrics(self.models)
        self._metrics_path = metrics_path
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
        workers = min(self.limits.max_concurrent_requests, 32)
        self._executor = futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kerasviz-rest")
        if self._batching is not None:
            self.batcher = BatchScheduler(self._batching, self.metrics.observe_queuing)
        try:
            self.models.start()
            self._start_grpc(self.limits.max_concurrent_requests)  # one thread per predict slot, plus spares
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
            ("grpc.max_receive_message_length", self.limits.max_message_bytes),
            ("grpc.max_send_message_length", self.limits.max_message_bytes),
            ("grpc.so_reuseport", 0),
        ]
        interceptors = [TokenInterceptor(self._token)] if self._token else []
        # Predict calls are limited by the servicer; the spare threads keep status, metadata and
        # health calls answering while every predict slot is busy.
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=workers + _SPARE_GRPC_THREADS, thread_name_prefix="kerasviz-grpc"),
            interceptors=interceptors,
            options=options,
            maximum_concurrent_rpcs=self.limits.max_concurrent_requests + 4 * _SPARE_GRPC_THREADS,
        )
        predictions = PredictionServicer(self.models, self.batcher, self.metrics, self.limits.max_concurrent_requests)
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(predictions, server)
        model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelServicer(self.models), server)
        self._health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        self.grpc_port = add_grpc_port(server, self.host, self._ports[0], self._cert, self._key, self._client_ca)
        server.start()
        self._grpc = server

    def _start_rest(self, sock: socket.socket) -> None:
        options = RestOptions(
            max_concurrent_requests=self.limits.max_concurrent_requests,
            max_body_bytes=self.limits.max_message_bytes,
            auth_token=self._token,
            timeout_ms=self.limits.rest_api_timeout_in_ms,
            body_timeout_seconds=self.limits.rest_body_timeout_seconds,
            header_timeout_seconds=self.limits.rest_header_timeout_seconds,
            metrics_path=self._metrics_path,
        )
        app = make_app(self.models, self._executor, options, self.batcher, self.metrics)
        self._rest = RestLoop(app, sock, server_ssl_context(*self._cert_paths), self.limits.rest_header_timeout_seconds)
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
