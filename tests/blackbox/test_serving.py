"""Through the embedded server: an exported classifier explained over gRPC and REST gives the
in-process map; a server that is down, slow or refusing ends in a clear PredictorError."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from kerasviz.blackbox import PredictClient, PredictorError, RestPredictClient, kernel_shap, rise
from kerasviz.errors import ImageError, ParameterError
from kerasviz.serving.classifier_export import CLASSIFY_BYTES

IMAGE = np.random.default_rng(4).uniform(0, 255, (32, 32, 3)).astype(np.float32)


def _grpc(server, **kwargs):
    return PredictClient(f"127.0.0.1:{server.grpc_port}", "small", **kwargs)


def _rest(server, **kwargs):
    return RestPredictClient(f"http://127.0.0.1:{server.rest_port}", "small", **kwargs)


def test_served_probabilities_equal_the_model(small_classifier, small_served):
    expected = small_classifier.predict(IMAGE[None], verbose=0)
    for client in (_grpc(small_served), _rest(small_served)):
        np.testing.assert_allclose(client.predict_probabilities(IMAGE[None]), expected, atol=1e-6)
        assert client.as_predictor().input_size == (32, 32)


@pytest.mark.parametrize("transport", [_grpc, _rest])
def test_rise_through_server_equals_in_process(small_classifier, small_served, transport):
    local = rise(small_classifier, IMAGE, 3, masks=96, cell=4, seed=5, batch_size=32)
    # A small message limit forces several requests per batch: the map must not change.
    remote = rise(transport(small_served, max_message_bytes=200_000), IMAGE, 3, masks=96, cell=4, seed=5, batch_size=32)
    assert np.abs(remote - local).max() <= 1e-4
    assert np.ptp(local) > 0


def test_kernel_shap_through_server_equals_in_process(small_classifier, small_served):
    segments = np.arange(32)[:, None] // 8 * 4 + np.arange(32)[None] // 8
    local = kernel_shap(small_classifier, IMAGE, 1, segments=segments, samples=64)
    remote = kernel_shap(_grpc(small_served), IMAGE, 1, segments=segments, samples=64)
    assert np.abs(remote - local).max() <= 1e-5


def test_encoded_signature_classifies_png(small_classifier, small_served):
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    png = tf.io.encode_png(IMAGE.astype(np.uint8)).numpy()
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "small"
    request.model_spec.signature_name = CLASSIFY_BYTES
    request.inputs["images"].CopyFrom(tf.make_tensor_proto(np.array([png], dtype=object)))
    with grpc.insecure_channel(f"127.0.0.1:{small_served.grpc_port}") as channel:
        reply = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=10)
    probabilities = tf.make_ndarray(reply.outputs["probabilities"])
    expected = small_classifier.predict(IMAGE.astype(np.uint8)[None].astype(np.float32), verbose=0)
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)
    assert tf.make_ndarray(reply.outputs["classes"]).tolist() == [int(expected.argmax())]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_server_down_is_a_predictor_error():
    port = _free_port()
    for client in (PredictClient(f"127.0.0.1:{port}", "small", retries=1, backoff=0.01, timeout=2),
                   RestPredictClient(f"http://127.0.0.1:{port}", "small", retries=1, backoff=0.01, timeout=2)):
        with pytest.raises(PredictorError, match="UNAVAILABLE|reach"):
            rise(client, IMAGE, 0, masks=8)


def test_refused_batch_reports_partial_work(small_served, monkeypatch):
    client = _grpc(small_served)
    calls = {"n": 0}
    original = client.predict_probabilities

    def flaky(images):
        calls["n"] += 1
        if calls["n"] == 3:  # the first call finds the top class; then two batches pass
            return original(np.zeros((len(images), 8, 8, 3), np.float32))  # the server refuses the size
        return original(images)

    monkeypatch.setattr(client, "predict_probabilities", flaky)
    with pytest.raises(PredictorError, match=r"after 16 of 48 queries") as info:
        rise(client, IMAGE, None, masks=48, batch_size=16)
    assert info.value.queries_done == 16 and "INVALID_ARGUMENT" in str(info.value)


def test_wrong_model_or_signature(small_served):
    with pytest.raises(PredictorError, match="no signature"):
        rise(_grpc(small_served, signature="nope"), IMAGE, 0, masks=4)
    with pytest.raises(PredictorError, match="NOT_FOUND|not found"):
        rise(PredictClient(f"127.0.0.1:{small_served.grpc_port}", "missing", retries=0), IMAGE, 0, masks=4)
    with pytest.raises(ImageError, match="32 x 32"):
        rise(_grpc(small_served).as_predictor(), np.zeros((16, 16, 3)), 0, masks=4)


def test_client_arguments():
    with pytest.raises(ParameterError):
        PredictClient("127.0.0.1:1", "m", version=1, version_label="stable")
    with pytest.raises(ParameterError):
        RestPredictClient("http://127.0.0.1:1", "m", timeout=0)
    with pytest.raises(ParameterError):
        PredictClient("127.0.0.1:1", "m", max_message_bytes=10)


def test_timeout_is_a_predictor_error(small_served):
    client = _grpc(small_served, timeout=1e-4, retries=0)
    with pytest.raises(PredictorError, match="DEADLINE_EXCEEDED"):
        rise(client, IMAGE, 0, masks=8)
