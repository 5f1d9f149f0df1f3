"""TF Serving's gRPC services (`PredictionService`, `ModelService`) and the bearer-token interceptor."""

from __future__ import annotations

import contextlib
import hmac
import threading
import time
from typing import Any, Dict, Iterator, Optional, Tuple

import grpc
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
    status_pb2,
)

from .errors import ServingError
from .metrics import Metrics
from .models import ModelManager
from .servable import Call, Servable
from .tensors import array_to_proto, check_input_names, proto_to_array

__all__ = ["PredictionServicer", "ModelServicer", "TokenInterceptor", "lookup", "HEALTH_PREFIX"]

HEALTH_PREFIX = "/grpc.health.v1.Health/"


def lookup(models: Dict[str, ModelManager], spec: model_pb2.ModelSpec) -> Tuple[ModelManager, Optional[int]]:
    """The model a `ModelSpec` names and the version it asks for (a number, a label, or None = newest).

    Args:
        models: Served models by name.
        spec: The request's model spec.

    Returns:
        `(ModelManager, version or None)`.

    Raises:
        ServingError: INVALID_ARGUMENT for a missing model name or an unknown version label,
            NOT_FOUND for an unknown model.
    """
    if not spec.name:
        raise ServingError(grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec: the request names no model (model_spec.name)")
    manager = models.get(spec.name)
    if manager is None:
        raise ServingError(grpc.StatusCode.NOT_FOUND, f"Servable not found for request: model '{spec.name}'")
    if spec.HasField("version_label"):
        return manager, manager.resolve_label(spec.version_label)
    return manager, (spec.version.value if spec.HasField("version") else None)


def _call(context: grpc.ServicerContext) -> Call:
    remaining = context.time_remaining()
    deadline = time.monotonic() + remaining if remaining is not None and remaining < 1e9 else None
    return Call(deadline=deadline, is_cancelled=lambda: not context.is_active())


@contextlib.contextmanager
def _status_on_error(context: grpc.ServicerContext) -> Iterator[None]:
    try:
        yield
    except ServingError as error:
        context.abort(error.code, error.message)


class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    """`Predict` and `GetModelMetadata` over the served models (other methods: UNIMPLEMENTED)."""

    def __init__(
        self,
        models: Dict[str, ModelManager],
        batcher: Any = None,
        metrics: Optional[Metrics] = None,
        max_concurrent_predicts: Optional[int] = None,
    ) -> None:
        self._models = models
        self._batcher = batcher
        self._metrics = metrics
        # Only Predict takes a slot: status, metadata and health calls always get through.
        self._slots = threading.BoundedSemaphore(max_concurrent_predicts) if max_concurrent_predicts else None

    def Predict(self, request: predict_pb2.PredictRequest, context: grpc.ServicerContext) -> predict_pb2.PredictResponse:
        """Run a signature on the request's tensors (validated first); stops early when cancelled."""
        start = time.perf_counter()
        code = grpc.StatusCode.OK
        try:
            with _status_on_error(context):
                try:
                    if self._slots is None:
                        return self._predict(request, context)
                    if not self._slots.acquire(blocking=False):
                        raise ServingError(grpc.StatusCode.RESOURCE_EXHAUSTED, "too many concurrent requests")
                    try:
                        return self._predict(request, context)
                    finally:
                        self._slots.release()
                except ServingError as error:
                    code = error.code
                    raise
                except Exception:
                    code = grpc.StatusCode.UNKNOWN
                    raise
        finally:
            if self._metrics is not None:
                self._metrics.observe(request.model_spec.name, "predict", "GRPC", code, time.perf_counter() - start)

    def _predict(self, request: predict_pb2.PredictRequest, context: grpc.ServicerContext) -> predict_pb2.PredictResponse:
        manager, version = lookup(self._models, request.model_spec)
        servable = manager.servable(version)
        name, signature = servable.signature(request.model_spec.signature_name)
        check_input_names(name, signature, request.inputs)
        arrays = {key: proto_to_array(key, proto, signature.inputs[key]) for key, proto in request.inputs.items()}
        started = time.perf_counter()
        outputs = servable.predict(name, arrays, list(request.output_filter), _call(context), self._batcher)
        if self._metrics is not None:
            self._metrics.observe_runtime(manager.name, time.perf_counter() - started)
        response = predict_pb2.PredictResponse()
        _fill_spec(response.model_spec, manager.name, servable, name)
        for key, array in outputs.items():
            response.outputs[key].CopyFrom(array_to_proto(array))
        return response

    def GetModelMetadata(
        self, request: get_model_metadata_pb2.GetModelMetadataRequest, context: grpc.ServicerContext
    ) -> get_model_metadata_pb2.GetModelMetadataResponse:
        """The served version's `signature_def` map (the only metadata field TF Serving has)."""
        with _status_on_error(context):
            manager, version = lookup(self._models, request.model_spec)
            servable = manager.servable(version)
            fields = set(request.metadata_field)
            if fields != {"signature_def"}:
                raise ServingError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"metadata_field must be ['signature_def']; got {sorted(fields)}",
                )
            response = get_model_metadata_pb2.GetModelMetadataResponse()
            _fill_spec(response.model_spec, manager.name, servable, "")
            signature_map = get_model_metadata_pb2.SignatureDefMap()
            for key, signature in servable.signature_defs.items():
                signature_map.signature_def[key].CopyFrom(signature)
            response.metadata["signature_def"].Pack(signature_map)
            return response


def _fill_spec(spec: model_pb2.ModelSpec, name: str, servable: Servable, signature_name: str) -> None:
    spec.name = name
    spec.version.value = servable.version
    spec.signature_name = signature_name


class ModelServicer(model_service_pb2_grpc.ModelServiceServicer):
    """`GetModelStatus`: each version's state and load error (model reloading is not offered)."""

    def __init__(self, models: Dict[str, ModelManager]) -> None:
        self._models = models

    def GetModelStatus(
        self, request: get_model_status_pb2.GetModelStatusRequest, context: grpc.ServicerContext
    ) -> get_model_status_pb2.GetModelStatusResponse:
        """Versions newest first with state (`AVAILABLE`, `LOADING`, `END`) and error status."""
        with _status_on_error(context):
            manager, version = lookup(self._models, request.model_spec)
            response = get_model_status_pb2.GetModelStatusResponse()
            for status in manager.statuses(version):
                entry = response.model_version_status.add()
                entry.version = status.version
                entry.state = get_model_status_pb2.ModelVersionStatus.State.Value(status.state)
                entry.status.CopyFrom(
                    status_pb2.StatusProto(error_code=status.code.value[0], error_message=status.message)
                )
            return response


class TokenInterceptor(grpc.ServerInterceptor):
    """Refuse calls without `authorization: Bearer <token>` metadata (UNAUTHENTICATED).

    The gRPC health service stays open so load balancers can probe it.

    Args:
        token: The expected bearer token.
    """

    def __init__(self, token: str) -> None:
        self._expected = f"Bearer {token}".encode()

        def deny(request: bytes, context: grpc.ServicerContext) -> None:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong bearer token in 'authorization' metadata")

        self._deny = grpc.unary_unary_rpc_method_handler(deny)

    def intercept_service(self, continuation, handler_call_details):
        """Pass authenticated calls (and health checks) on; answer the rest with UNAUTHENTICATED."""
        if handler_call_details.method.startswith(HEALTH_PREFIX):
            return continuation(handler_call_details)
        supplied = dict(handler_call_details.invocation_metadata or ()).get("authorization", "")
        if isinstance(supplied, str) and hmac.compare_digest(supplied.encode(), self._expected):
            return continuation(handler_call_details)
        return self._deny
