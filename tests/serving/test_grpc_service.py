"""gRPC status codes, each produced by a request built for it, as TF Serving returns them."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import grpc
import numpy as np
import pytest
import tensorflow as tf
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

MODEL = "style"
TOKEN = "test-token-7f3a"
IMAGES = np.random.default_rng(1).uniform(0, 255, (2, 16, 16, 3)).astype(np.float32)
WEIGHTS = np.full((2, 3), 1 / 3, np.float32)


def _code(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    error = caught.value
    assert "Traceback" not in (error.details() or "")
    return error


def _huge_shape_request() -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL
    proto = request.inputs["images"]
    proto.dtype = tf.float32.as_datatype_enum
    for size in (1000, 1000, 1000, 3):
        proto.tensor_shape.dim.add(size=size)
    proto.float_val.append(1.0)  # TensorFlow would broadcast this over 12 GB
    return request


@pytest.mark.parametrize(
    "case, code",
    [
        ("unknown model", grpc.StatusCode.NOT_FOUND),
        ("unknown version", grpc.StatusCode.NOT_FOUND),
        ("path as model name", grpc.StatusCode.NOT_FOUND),
        ("unknown signature", grpc.StatusCode.FAILED_PRECONDITION),
        ("empty request", grpc.StatusCode.INVALID_ARGUMENT),
        ("missing input", grpc.StatusCode.INVALID_ARGUMENT),
        ("extra input", grpc.StatusCode.INVALID_ARGUMENT),
        ("wrong dtype", grpc.StatusCode.INVALID_ARGUMENT),
        ("wrong rank", grpc.StatusCode.INVALID_ARGUMENT),
        ("wrong channels", grpc.StatusCode.INVALID_ARGUMENT),
        ("wrong style count", grpc.StatusCode.INVALID_ARGUMENT),
        ("batch mismatch", grpc.StatusCode.INVALID_ARGUMENT),
        ("zero-size batch", grpc.StatusCode.INVALID_ARGUMENT),
        ("NaN", grpc.StatusCode.INVALID_ARGUMENT),
        ("data shorter than shape", grpc.StatusCode.INVALID_ARGUMENT),
        ("bytes to the dense signature", grpc.StatusCode.INVALID_ARGUMENT),
    ],
)
def test_predict_status_codes(case, code, multi_server, grpc_predict):
    """Each malformed request gets TF Serving's status code and a one-line message."""
    port = multi_server.grpc_port
    good = {"images": IMAGES, "style_weights": WEIGHTS}
    calls = {
        "unknown model": lambda: grpc_predict(port, good, model="nope"),
        "unknown version": lambda: grpc_predict(port, good, version=7),
        "path as model name": lambda: grpc_predict(port, good, model=str(multi_server.manager.base_path)),
        "unknown signature": lambda: grpc_predict(port, good, signature="nope"),
        "empty request": lambda: grpc_predict(port, {}),
        "missing input": lambda: grpc_predict(port, {"images": IMAGES}),
        "extra input": lambda: grpc_predict(port, {**good, "mask": IMAGES}),
        "wrong dtype": lambda: grpc_predict(port, {**good, "images": IMAGES.astype(np.int32)}),
        "wrong rank": lambda: grpc_predict(port, {**good, "images": IMAGES[0]}),
        "wrong channels": lambda: grpc_predict(port, {**good, "images": IMAGES[..., :2]}),
        "wrong style count": lambda: grpc_predict(port, {**good, "style_weights": WEIGHTS[:, :2]}),
        "batch mismatch": lambda: grpc_predict(port, {**good, "style_weights": WEIGHTS[:1]}),
        "zero-size batch": lambda: grpc_predict(port, {"images": IMAGES[:0], "style_weights": WEIGHTS[:0]}),
        "NaN": lambda: grpc_predict(port, {**good, "images": np.where(IMAGES > 250, np.nan, IMAGES).astype(np.float32)}),
        "data shorter than shape": lambda: grpc_predict(port, {}, raw=_huge_shape_request()),
        "bytes to the dense signature": lambda: grpc_predict(port, {**good, "images": np.array([b"x", b"y"], dtype=object)}),
    }
    error = _code(calls[case])
    assert error.code() == code, error.details()
    assert "\n" not in error.details()


def test_server_keeps_serving_after_bad_requests(multi_server, grpc_predict):
    """After the malformed requests above, a good request still succeeds."""
    response = grpc_predict(multi_server.grpc_port, {"images": IMAGES, "style_weights": WEIGHTS})
    assert tf.make_ndarray(response.outputs["stylized"]).shape == IMAGES.shape


def test_metadata_and_status(server):
    """GetModelMetadata lists both signatures; GetModelStatus says version 1 AVAILABLE; unknown model NOT_FOUND."""
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        request.model_spec.name = MODEL
        reply = prediction_service_pb2_grpc.PredictionServiceStub(channel).GetModelMetadata(request, timeout=5)
        signatures = get_model_metadata_pb2.SignatureDefMap()
        reply.metadata["signature_def"].Unpack(signatures)
        assert "serving_default" in signatures.signature_def and len(signatures.signature_def) == 2
        request.metadata_field[:] = ["graph"]
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        assert _code(lambda: stub.GetModelMetadata(request, timeout=5)).code() == grpc.StatusCode.INVALID_ARGUMENT

        models = model_service_pb2_grpc.ModelServiceStub(channel)
        status_request = get_model_status_pb2.GetModelStatusRequest()
        status_request.model_spec.name = MODEL
        (status,) = models.GetModelStatus(status_request, timeout=5).model_version_status
        assert status.version == 1 and status.state == get_model_status_pb2.ModelVersionStatus.AVAILABLE
        status_request.model_spec.name = "nope"
        assert _code(lambda: models.GetModelStatus(status_request, timeout=5)).code() == grpc.StatusCode.NOT_FOUND


def test_request_over_size_limit(server, grpc_predict):
    """A 20 MB request is refused with RESOURCE_EXHAUSTED (limit 16 MiB) and the server keeps serving."""
    big = np.zeros((1, 1292, 1292, 3), np.float32)  # 20.0 MB of pixels
    assert big.nbytes > 20e6
    assert _code(lambda: grpc_predict(server.grpc_port, {"images": big})).code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert grpc_predict(server.grpc_port, {"images": IMAGES}).outputs["stylized"].dtype == tf.float32.as_datatype_enum


def test_overload(tight_server, grpc_predict):
    """16 simultaneous 3 MB requests to a server with one request slot: the extra ones get
    RESOURCE_EXHAUSTED (none fail otherwise) and the server answers normally afterwards."""
    images = np.random.default_rng(2).uniform(0, 255, (4, 256, 256, 3)).astype(np.float32)
    barrier = threading.Barrier(16, timeout=20)

    def call():
        barrier.wait()
        try:
            grpc_predict(tight_server.grpc_port, {"images": images}, timeout=20)
            return grpc.StatusCode.OK
        except grpc.RpcError as error:
            return error.code()

    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda _: call(), range(16), timeout=60))
    assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}, codes
    assert grpc.StatusCode.RESOURCE_EXHAUSTED in codes and grpc.StatusCode.OK in codes, codes
    assert grpc_predict(tight_server.grpc_port, {"images": IMAGES}).outputs["stylized"].tensor_shape.dim[0].size == 2


def test_deadline(server, grpc_predict):
    """A deadline too short for the request ends in DEADLINE_EXCEEDED."""
    images = np.zeros((4, 256, 256, 3), np.float32)
    assert _code(lambda: grpc_predict(server.grpc_port, {"images": images}, timeout=1e-4)).code() == grpc.StatusCode.DEADLINE_EXCEEDED


def test_token(token_server, grpc_predict):
    """With a token configured: none or a wrong one -> UNAUTHENTICATED; the right one succeeds; health stays open."""
    port = token_server.grpc_port
    assert _code(lambda: grpc_predict(port, {"images": IMAGES})).code() == grpc.StatusCode.UNAUTHENTICATED
    wrong = (("authorization", "Bearer wrong"),)
    assert _code(lambda: grpc_predict(port, {"images": IMAGES}, metadata=wrong)).code() == grpc.StatusCode.UNAUTHENTICATED
    right = (("authorization", f"Bearer {TOKEN}"),)
    assert tf.make_ndarray(grpc_predict(port, {"images": IMAGES}, metadata=right).outputs["stylized"]).shape == IMAGES.shape
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
