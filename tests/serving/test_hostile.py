"""Hostile clients and careless operators (issue 16): each test is one row of the checklist that failed."""

from __future__ import annotations

import os
import shutil
import socket
import struct
import threading
import time
import zlib

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import get_model_status_pb2, model_service_pb2_grpc, predict_pb2, prediction_service_pb2_grpc

from kerasviz.serving.options import LimitOptions, ModelConfigOptions
from kerasviz.serving.servable import Servable
from kerasviz.serving.versions import list_versions

MODEL = "style"
IMAGES = np.random.default_rng(5).uniform(0, 255, (1, 16, 16, 3)).astype(np.float32)


def _png_bomb(width, height):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\0" * (1 + 3 * width) * 4, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")



def _status(port, version=None):
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        request = get_model_status_pb2.GetModelStatusRequest()
        request.model_spec.name = MODEL
        try:
            reply = model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(request, timeout=5)
        except grpc.RpcError:
            return {}
    return {s.version: s for s in reply.model_version_status}


class _CountingRun:
    """Patches `Servable.run` to count calls; the first call waits for `release` (or 10 s)."""

    def __init__(self, monkeypatch):
        self.calls = 0
        self.started, self.release, self.finished = threading.Event(), threading.Event(), threading.Event()
        run, predict = Servable.run, Servable.predict

        def counting_run(servable, *args, **kwargs):
            self.calls += 1
            self.started.set()
            self.release.wait(10)
            return run(servable, *args, **kwargs)

        def tracked_predict(servable, *args, **kwargs):
            try:
                return predict(servable, *args, **kwargs)
            finally:
                self.finished.set()

        monkeypatch.setattr(Servable, "run", counting_run)
        monkeypatch.setattr(Servable, "predict", tracked_predict)


def test_png_bomb_is_refused_before_decoding(server, grpc_predict, http):
    """A < 1 KB PNG declaring 20000 x 20000 pixels: INVALID_ARGUMENT / HTTP 400, the server lives on."""
    bomb = _png_bomb(20000, 20000)
    assert len(bomb) < 100_000
    with pytest.raises(grpc.RpcError) as caught:
        grpc_predict(server.grpc_port, {"images": np.array([bomb], dtype=object)}, signature="stylize_bytes")
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "decode limit" in caught.value.details()
    assert "function_node" not in caught.value.details()
    import base64

    body = {"signature_name": "stylize_bytes", "instances": [{"b64": base64.b64encode(bomb).decode()}]}
    code, reply = http(f"http://127.0.0.1:{server.rest_port}/v1/models/style:predict", body)
    assert code == 400 and "decode limit" in reply["error"]
    assert grpc_predict(server.grpc_port, {"images": IMAGES}).outputs["stylized"].tensor_shape.dim[1].size == 16


def test_version_folders_beyond_int64_or_outside_the_base_are_ignored(tmp_path, single_base, grpc_predict, start):
    base = tmp_path / "base"
    base.mkdir()
    shutil.copytree(single_base / "1", base / "1")
    shutil.copytree(single_base / "1", base / "99999999999999999999")
    outside = tmp_path / "outside"
    shutil.copytree(single_base / "1", outside / "1")
    os.symlink(outside / "1", base / "5")
    os.symlink(single_base / "1" / "saved_model.pb", (base / "7").mkdir() or base / "7" / "saved_model.pb")
    assert list_versions(base) == [1]
    server = start(base)
    try:
        assert grpc_predict(server.grpc_port, {"images": IMAGES}).model_spec.version.value == 1
        assert sorted(_status(server.grpc_port)) == [1]
    finally:
        server.stop(grace=0)


def test_slow_bodies_neither_starve_nor_hang(single_base, start, http):
    """More slow senders than slots: predict, status and metadata still answer; a body that does not
    arrive in time gets 408 and its connection is closed."""
    server = start(single_base, limits=LimitOptions(max_concurrent_requests=2, rest_body_timeout_seconds=1.0))
    url = f"http://127.0.0.1:{server.rest_port}/v1/models/style"
    slow = []
    try:
        for _ in range(4):
            sock = socket.create_connection(("127.0.0.1", server.rest_port), timeout=10)
            sock.sendall(b"POST /v1/models/style:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
            slow.append(sock)
        assert http(url)[0] == 200 and http(url + "/metadata")[0] == 200
        code, reply = http(url + ":predict", {"instances": IMAGES.tolist()})
        assert code == 200, reply
        answer = slow[0].recv(4096)  # the server gives up on the slow body after 1 s
        assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
    finally:
        for sock in slow:
            sock.close()
        server.stop(grace=0)


def test_slow_headers_get_408_and_are_closed(single_base, start, http):
    """Before: a client dribbling header lines was never timed out (only bodies were)."""
    server = start(single_base, limits=LimitOptions(rest_header_timeout_seconds=1.0))
    url = f"http://127.0.0.1:{server.rest_port}/v1/models/style"
    dribbler = socket.create_connection(("127.0.0.1", server.rest_port), timeout=10)
    silent = socket.create_connection(("127.0.0.1", server.rest_port), timeout=10)
    stop = threading.Event()

    def dribble():
        dribbler.sendall(b"POST /v1/models/style:predict HTTP/1.1\r\nHost: x\r\n")
        for i in range(40):  # one header line every 0.2 s: 8 s of headers unless cut off
            if stop.wait(0.2):
                return
            try:
                dribbler.sendall(b"X-Slow-%d: y\r\n" % i)
            except OSError:
                return

    thread = threading.Thread(target=dribble, daemon=True)
    try:
        started = time.monotonic()
        thread.start()
        answer = dribbler.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
        assert time.monotonic() - started < 5
        assert silent.recv(4096).startswith(b"HTTP/1.1 408")  # a connection that sends nothing too
        assert http(url)[0] == 200  # prompt clients are served meanwhile
        with socket.create_connection(("127.0.0.1", server.rest_port), timeout=10) as kept:
            for _ in range(2):  # a kept-alive connection idle for longer than the limit stays usable
                kept.sendall(b"GET /v1/models/style HTTP/1.1\r\nHost: x\r\n\r\n")
                assert kept.recv(4096).startswith(b"HTTP/1.1 200")
                time.sleep(1.5)
    finally:
        stop.set()
        dribbler.close()
        silent.close()
        server.stop(grace=0)


def test_cancelled_grpc_call_stops_between_images(server, monkeypatch):
    """Cancelling a 30-image stylize_bytes request stops it after the image running then."""
    images = np.array([tf.io.encode_png(np.zeros((8, 8, 3), np.uint8)).numpy()] * 30, dtype=object)
    request = predict_pb2.PredictRequest()
    request.model_spec.name, request.model_spec.signature_name = MODEL, "stylize_bytes"
    request.inputs["images"].CopyFrom(tf.make_tensor_proto(images))
    counter = _CountingRun(monkeypatch)
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        future = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict.future(request, timeout=30)
        assert counter.started.wait(10)
        future.cancel()
        counter.release.set()
        assert counter.finished.wait(10)
    assert counter.calls <= 2, f"{counter.calls} of 30 images ran after the cancel"


def test_closed_rest_connection_stops_between_images(server, monkeypatch, wait_for):
    import base64
    import json

    png = base64.b64encode(tf.io.encode_png(np.zeros((8, 8, 3), np.uint8)).numpy()).decode()
    body = json.dumps({"signature_name": "stylize_bytes", "instances": [{"b64": png}] * 30}).encode()
    counter = _CountingRun(monkeypatch)
    sock = socket.create_connection(("127.0.0.1", server.rest_port), timeout=10)
    sock.sendall(b"POST /v1/models/style:predict HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    assert counter.started.wait(10)
    sock.close()
    assert wait_for(lambda: False, 0.3) is False  # let the server notice the close
    counter.release.set()
    assert counter.finished.wait(10)
    assert counter.calls <= 2, f"{counter.calls} of 30 images ran after the client left"


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 1000 + b"]" * 1000,
        b'{"instances": ' + b"[" * 1000 + b"1" + b"]" * 1000 + b"}",
        b'{"inputs": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"signature_name": "stylize_bytes", "instances": ' + b"[" * 1000 + b'"x"' + b"]" * 1000 + b"}",
        b'{"instances": [' + b'{"a": ' * 1000 + b"1" + b"}" * 1000 + b"]}",
        b'{"instances": [{"b64": {"b64": "x"}}]}',
        b'{"instances": [[1, [2]]]}',
        b"\xff\xfe",
        b'{"instances": [NaN]}',
    ],
)
def test_every_malformed_json_is_400(server, http, body):
    code, reply = http(f"http://127.0.0.1:{server.rest_port}/v1/models/style:predict", body)
    assert code == 400, reply


def test_missing_model_name_is_invalid_argument(server):
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        with pytest.raises(grpc.RpcError) as caught:
            prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(predict_pb2.PredictRequest(), timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_failed_version_is_retried_when_its_files_change(tmp_path, single_base, grpc_predict, start, wait_for):
    """A version seen half-copied fails; once the copy completes it is loaded on a later poll."""
    shutil.copytree(single_base / "1", tmp_path / "1")
    (tmp_path / "2").mkdir()
    shutil.copy(single_base / "1" / "saved_model.pb", tmp_path / "2" / "saved_model.pb")  # no variables yet
    server = start(tmp_path, model_config=ModelConfigOptions(file_system_poll_wait_seconds=0.1))
    try:
        ended = get_model_status_pb2.ModelVersionStatus.END
        assert wait_for(lambda: 2 in _status(server.grpc_port) and _status(server.grpc_port)[2].state == ended)
        assert grpc_predict(server.grpc_port, {"images": IMAGES}).model_spec.version.value == 1
        shutil.copytree(single_base / "1", tmp_path / "2", dirs_exist_ok=True)  # the copy completes
        assert wait_for(lambda: grpc_predict(server.grpc_port, {"images": IMAGES}).model_spec.version.value == 2)
    finally:
        server.stop(grace=0)


def test_rest_deadline_answers_504(single_base, start, http, monkeypatch):
    server = start(single_base, limits=LimitOptions(rest_api_timeout_in_ms=300))
    url = f"http://127.0.0.1:{server.rest_port}/v1/models/style:predict"
    counter = _CountingRun(monkeypatch)
    try:
        started = time.monotonic()
        code, reply = http(url, {"instances": IMAGES.tolist()}, headers={"X-Request-Timeout-Ms": "100"})
        assert code == 504 and time.monotonic() - started < 5, reply
        code, reply = http(url, {"instances": IMAGES.tolist()})  # the server's default deadline
        assert code == 504, reply
        code, reply = http(url, {"instances": IMAGES.tolist()}, headers={"X-Request-Timeout-Ms": "soon"})
        assert code == 400
    finally:
        counter.release.set()
        server.stop(grace=0)


def test_rest_response_is_capped_by_max_message_bytes(single_base, start, http):
    server = start(single_base, limits=LimitOptions(max_message_bytes=150_000))
    try:
        pixels = np.random.default_rng(0).integers(0, 256, (1, 64, 64, 3)).tolist()  # ~50 KB of JSON in, ~250 KB out
        code, reply = http(f"http://127.0.0.1:{server.rest_port}/v1/models/style:predict", {"instances": pixels})
        assert code == 500 and "max_message_bytes" in reply["error"]
    finally:
        server.stop(grace=0)


def test_corrupt_warmup_file_is_data_loss(tmp_path, single_base, start):
    shutil.copytree(single_base / "1", tmp_path / "1")
    staging = tmp_path / ".staging"
    shutil.copytree(single_base / "1", staging)
    warmup = staging / "assets.extra" / "tf_serving_warmup_requests"
    data = bytearray(warmup.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte: the record's CRC no longer matches
    warmup.write_bytes(bytes(data))
    staging.rename(tmp_path / "2")
    server = start(tmp_path)
    try:
        status = _status(server.grpc_port)[2]
        assert status.status.error_code == grpc.StatusCode.DATA_LOSS.value[0], status
    finally:
        server.stop(grace=0)


def test_version_copied_in_place_is_loaded_only_once_the_copy_is_complete(tmp_path, single_base, start, caplog):
    """Before: a version folder with saved_model.pb and variables, its warm-up file still being
    copied, was loaded at the next poll (un-warmed, or failing on the half-written file)."""
    import logging

    shutil.copytree(single_base / "1", tmp_path / "1")
    server = start(tmp_path, model_config=ModelConfigOptions(file_system_poll_wait_seconds=0.05))
    try:
        caplog.set_level(logging.INFO, logger="kerasviz.serving.models")
        target = tmp_path / "2"
        target.mkdir()
        shutil.copy2(single_base / "1" / "saved_model.pb", target)  # keeps the old mtime, as cp -a does
        shutil.copytree(single_base / "1" / "variables", target / "variables")
        warmup = (single_base / "1" / "assets.extra" / "tf_serving_warmup_requests").read_bytes()
        (target / "assets.extra").mkdir()
        seen_during_copy = set()
        with open(target / "assets.extra" / "tf_serving_warmup_requests", "wb") as copy:
            step = len(warmup) // 30 + 1
            for start_byte in range(0, len(warmup), step):  # a copy going on for ~3 s, 0.1 s per chunk
                copy.write(warmup[start_byte : start_byte + step])
                copy.flush()
                time.sleep(0.1)
                seen_during_copy |= {s.version for s in server.manager.statuses()}
        assert seen_during_copy == {1}, "version 2 was picked up while it was still being copied"
        deadline = time.monotonic() + 30
        while 2 not in server.manager.served_versions() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.manager.served_versions() == [2]
        loads = [r.getMessage() for r in caplog.records if "version 2" in r.getMessage()]
        assert loads == ["serving style version 2 (2 warm-up records)"], loads
    finally:
        server.stop(grace=0)


def test_grpc_status_and_metadata_answer_while_every_predict_slot_is_busy(tight_server, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from tensorflow_serving.apis import get_model_metadata_pb2

    counter = _CountingRun(monkeypatch)
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL
    request.inputs["images"].CopyFrom(tf.make_tensor_proto(IMAGES))
    with grpc.insecure_channel(f"127.0.0.1:{tight_server.grpc_port}") as channel, ThreadPoolExecutor(1) as pool:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        first = pool.submit(stub.Predict, request, timeout=30)
        assert counter.started.wait(10)
        with pytest.raises(grpc.RpcError) as caught:
            stub.Predict(request, timeout=10)
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert _status(tight_server.grpc_port)[1].state == get_model_status_pb2.ModelVersionStatus.AVAILABLE
        metadata = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        metadata.model_spec.name = MODEL
        assert stub.GetModelMetadata(metadata, timeout=10).model_spec.version.value == 1
        counter.release.set()
        assert first.result(timeout=30).model_spec.version.value == 1
