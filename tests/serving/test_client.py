"""Clients: same pixels as the in-process SavedModel, errors carrying the server's status, bounded
retries on UNAVAILABLE only, and a server stopped mid-load ending in UNAVAILABLE without a hang."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import numpy as np
import pytest

from kerasviz.errors import ImageError, ParameterError
from kerasviz.images import to_uint8
from kerasviz.serving import RestStyleClient, ServingError, StyleClient, grpc_service
from kerasviz.serving import client_base as client_module
from kerasviz.serving import models as models_module

MODEL = "style"
TOKEN = "test-token-7f3a"
IMAGES = np.random.default_rng(5).integers(0, 256, (2, 24, 32, 3)).astype(np.uint8)


def _clients(server, **kwargs):
    return [
        StyleClient(f"127.0.0.1:{server.grpc_port}", MODEL, **kwargs),
        RestStyleClient(f"http://127.0.0.1:{server.rest_port}", MODEL, **kwargs),
    ]


@pytest.mark.parametrize("styles", ["single", "multi"])
@pytest.mark.parametrize("signature", [None, "serving_default"])
def test_stylize_matches_savedmodel(styles, signature, request, direct):
    """uint8 results equal the in-process SavedModel (±1 for rounding) through both clients and
    both signatures (None picks the encoded-bytes one); a single image gives a single result."""
    server = request.getfixturevalue("server" if styles == "single" else "multi_server")
    weights = None if styles == "single" else [0.2, 0.3, 0.5]
    inputs = {"images": IMAGES.astype(np.float32)}
    if weights is not None:
        inputs["style_weights"] = np.tile(np.float32(weights), (len(IMAGES), 1))
    expected = to_uint8(direct(server.manager.base_path, "serving_default", inputs)["stylized"])
    for client in _clients(server, signature=signature):
        out = client.stylize(IMAGES, style_weights=weights, timeout=20)
        assert out.dtype == np.uint8 and out.shape == IMAGES.shape
        assert np.abs(out.astype(int) - expected.astype(int)).max() <= 1
        assert client.stylize(IMAGES[0], style_weights=weights, timeout=20).shape == IMAGES.shape[1:]


def test_errors_carry_server_status(server, multi_server):
    """ServingError carries the server's code and message; bad arguments raise before any request."""
    for client in _clients(server, retries=0):
        with pytest.raises(ParameterError, match="style_weights"):
            client.stylize(IMAGES, style_weights=[1.0], timeout=5)
        with pytest.raises(ImageError):
            client.stylize(IMAGES[..., :2], timeout=5)
        with pytest.raises(ParameterError, match="timeout"):
            client.stylize(IMAGES, timeout=0)
    for client in _clients(multi_server, retries=0):
        with pytest.raises(ParameterError, match="style_weights"):
            client.stylize(IMAGES, style_weights=[0.5, 0.5], timeout=5)
    for client in _clients(server, retries=0, signature="nope"):
        with pytest.raises(ServingError) as caught:
            client.stylize(IMAGES, timeout=5)
        assert caught.value.code == grpc.StatusCode.FAILED_PRECONDITION and "nope" in caught.value.message
    for client in (StyleClient(f"127.0.0.1:{server.grpc_port}", "other", retries=0),
                   RestStyleClient(f"http://127.0.0.1:{server.rest_port}", "other", retries=0)):
        with pytest.raises(ServingError) as caught:
            client.stylize(IMAGES, timeout=5)
        assert caught.value.code == grpc.StatusCode.NOT_FOUND and "other" in caught.value.message
    with pytest.raises(ServingError) as caught:
        StyleClient(f"127.0.0.1:{server.grpc_port}", MODEL, retries=0).stylize(np.zeros((4, 512, 512, 3), np.uint8), timeout=1e-3)
    assert caught.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    with pytest.raises(ParameterError, match="base_url"):
        RestStyleClient("localhost:8501")


def test_token(token_server):
    """Clients with the token are served; without it they get UNAUTHENTICATED (gRPC) / 401 (REST)."""
    for client in _clients(token_server, retries=0, token=TOKEN):
        assert client.stylize(IMAGES, timeout=20).shape == IMAGES.shape
    for client in _clients(token_server, retries=0):
        with pytest.raises(ServingError) as caught:
            client.stylize(IMAGES, timeout=5)
        assert caught.value.code == grpc.StatusCode.UNAUTHENTICATED
    assert caught.value.http_status == 401


def test_retries_only_unavailable(server, monkeypatch):
    """UNAVAILABLE is retried `retries` times with doubling backoff; other errors are not retried."""
    sleeps = []
    monkeypatch.setattr(client_module.time, "sleep", sleeps.append)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for client in (StyleClient(f"127.0.0.1:{port}", MODEL, retries=3, backoff=0.05),
                   RestStyleClient(f"http://127.0.0.1:{port}", MODEL, retries=3, backoff=0.05)):
        sleeps.clear()
        with pytest.raises(ServingError) as caught:
            client.stylize(IMAGES, timeout=5)
        assert caught.value.code == grpc.StatusCode.UNAVAILABLE
        assert sleeps == pytest.approx([0.05, 0.1, 0.2])
    sleeps.clear()
    with pytest.raises(ServingError):
        StyleClient(f"127.0.0.1:{server.grpc_port}", "other", retries=3).stylize(IMAGES, timeout=5)
    assert sleeps == []


def test_request_running_when_the_server_stops_is_unavailable(single_base, start, monkeypatch):
    """A request still running when the server stops (grace over) ends in UNAVAILABLE."""
    server = start(single_base)
    client = StyleClient(f"127.0.0.1:{server.grpc_port}", MODEL, retries=0)
    client.stylize(IMAGES, timeout=10)  # signatures fetched; the next call goes straight to Predict
    entered, release = threading.Event(), threading.Event()
    predict = models_module.Servable.predict

    def blocked_predict(self, *args, **kwargs):
        entered.set()
        release.wait(10)
        return predict(self, *args, **kwargs)

    monkeypatch.setattr(models_module.Servable, "predict", blocked_predict)
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(client.stylize, IMAGES, timeout=10)
        assert entered.wait(10)
        server.stop(grace=0.2)
        release.set()
        with pytest.raises(ServingError) as caught:
            pending.result(timeout=10)
    assert caught.value.code == grpc.StatusCode.UNAVAILABLE
    client.close()


def test_request_cancelled_by_the_server_is_unavailable_and_retried(single_base, start, monkeypatch):
    """A server may cancel a request (gRPC servers do so while shutting down): the client, which never
    cancels its own calls, reports UNAVAILABLE and retries it like any other UNAVAILABLE."""
    monkeypatch.setattr(grpc_service.PredictionServicer, "Predict", lambda self, request, context: context.cancel())
    server = start(single_base)
    sleeps = []
    monkeypatch.setattr(client_module.time, "sleep", sleeps.append)
    try:
        with StyleClient(f"127.0.0.1:{server.grpc_port}", MODEL, retries=2, backoff=0.05) as client:
            with pytest.raises(ServingError) as caught:
                client.stylize(IMAGES, timeout=10)
    finally:
        server.stop(grace=0)
    assert caught.value.code == grpc.StatusCode.UNAVAILABLE and "cancelled" in str(caught.value)
    assert sleeps == pytest.approx([0.05, 0.1])


def test_server_stopped_mid_load(single_base, start):
    """Stopping the server during a load (gRPC and REST clients, concurrency 8): every request ends
    within its bounds, as a result or a ServingError UNAVAILABLE; nothing hangs."""
    server = start(single_base)
    clients = _clients(server, retries=1, backoff=0.05)
    outcomes, twelve_done = [], threading.Event()
    stopper = threading.Thread(target=lambda: twelve_done.wait(60) and server.stop(grace=0.5))
    stopper.start()

    def one(i):
        try:
            clients[i % 2].stylize(IMAGES, timeout=10)
            outcomes.append("ok")
        except ServingError as error:
            outcomes.append(error.code.name)
        if len(outcomes) >= 12:
            twelve_done.set()

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(80), timeout=120))
    stopper.join(timeout=30)
    assert not stopper.is_alive() and len(outcomes) == 80
    assert set(outcomes) <= {"ok", "UNAVAILABLE"}, outcomes
    assert outcomes.count("ok") >= 12 and "UNAVAILABLE" in outcomes
    assert time.monotonic() - started < 60
    print(f"stopped mid-load: {outcomes.count('ok')} ok, {outcomes.count('UNAVAILABLE')} UNAVAILABLE")
