"""Versions: newest served, new versions swapped in under load without failures, broken ones reported."""

from __future__ import annotations

import itertools
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import get_model_status_pb2, model_service_pb2_grpc

from kerasviz.serving import RestStyleClient, ServingError
from kerasviz.serving.options import ModelConfigOptions
from kerasviz.serving.versions import list_versions

POLL = ModelConfigOptions(file_system_poll_wait_seconds=0.1)

MODEL = "style"
IMAGES = np.random.default_rng(4).uniform(0, 255, (1, 64, 64, 3)).astype(np.float32)


def _statuses(port):
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        request = get_model_status_pb2.GetModelStatusRequest()
        request.model_spec.name = MODEL
        reply = model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(request, timeout=5)
    return {s.version: s for s in reply.model_version_status}


def _drop_copy(source, base, version):
    """Copy a version folder in under a temporary name and rename it into place (as export_style_model does)."""
    shutil.copytree(source, base / f".incoming-{version}")
    (base / f".incoming-{version}").rename(base / str(version))


def _state(port, version):
    """The version's state, or None while the server knows nothing about it."""
    try:
        status = _statuses(port).get(version)
    except grpc.RpcError:
        return None
    return None if status is None else status.state



def test_list_versions_ignores_partial_folders(tmp_path):
    """Only numeric folders with a saved_model.pb count (temporary and half-written ones do not)."""
    for name in ("1", "7", ".tmp-9", "abc", "12"):
        (tmp_path / name).mkdir()
    for name in ("1", "12", ".tmp-9", "abc"):
        (tmp_path / name / "saved_model.pb").write_bytes(b"")
    (tmp_path / "30").write_bytes(b"")
    assert list_versions(tmp_path) == [12, 1]
    assert list_versions(tmp_path / "missing") == []


def test_new_version_under_load(tmp_path, single_base, grpc_predict, start):
    """At least 200 requests at concurrency 16 (gRPC and REST) with a new version dropped in after
    20 of them: 0 failures, both versions answer during the load, the new one afterwards.

    The load goes on past 200 requests until version 2 has answered 10 of them (bounded only by a
    90 s deadline, not by a request count: on a busy CI machine loading version 2 took longer than
    800 requests), so the swap always happens under load however slow loading is.
    """
    shutil.copytree(single_base / "1", tmp_path / "1")
    server = start(tmp_path, model_config=POLL)
    rest = RestStyleClient(f"http://127.0.0.1:{server.rest_port}", MODEL, retries=0)
    tickets = itertools.count()
    versions, failures = [], []
    lock, dropped = threading.Lock(), threading.Event()
    deadline = time.monotonic() + 90

    def worker():
        while True:
            i = next(tickets)
            if time.monotonic() > deadline or (i >= 200 and versions.count(2) >= 10):
                return
            try:
                if i % 2:
                    versions.append(grpc_predict(server.grpc_port, {"images": IMAGES}, timeout=30).model_spec.version.value)
                else:
                    rest.stylize(IMAGES[0], timeout=30)
            except (grpc.RpcError, ServingError) as error:
                failures.append(repr(error))
            with lock:
                if i >= 20 and not dropped.is_set():
                    dropped.set()
                    _drop_copy(single_base / "1", tmp_path, 2)

    try:
        with ThreadPoolExecutor(16) as pool:
            for future in [pool.submit(worker) for _ in range(16)]:
                future.result(timeout=120)
        sent = next(tickets) - 16  # every worker drew one ticket it did not use
        assert failures == [] and sent >= 200, (failures[:3], sent)
        assert set(versions) == {1, 2}, f"v2 answered {versions.count(2)} of {len(versions)}"
        assert grpc_predict(server.grpc_port, {"images": IMAGES}).model_spec.version.value == 2
        assert _state(server.grpc_port, 2) == get_model_status_pb2.ModelVersionStatus.AVAILABLE
        assert _state(server.grpc_port, 1) == get_model_status_pb2.ModelVersionStatus.END
    finally:
        server.stop(grace=1)


def test_broken_versions_are_reported(tmp_path, single_base, broken_version, grpc_predict, start, wait_for):
    """A version that fails to load, or whose warm-up fails, is END with an error in GetModelStatus
    while the previous version keeps serving; a later good version is swapped in."""
    shutil.copytree(single_base / "1", tmp_path / "1")
    server = start(tmp_path, model_config=POLL)
    try:
        broken_version(tmp_path, 2, "garbage", single_base / "1")
        assert wait_for(lambda: _state(server.grpc_port, 2) == get_model_status_pb2.ModelVersionStatus.END)
        broken = _statuses(server.grpc_port)[2]
        assert broken.status.error_code != grpc.StatusCode.OK.value[0] and "load" in broken.status.error_message
        assert grpc_predict(server.grpc_port, {"images": IMAGES}).model_spec.version.value == 1

        broken_version(tmp_path, 3, "warmup", single_base / "1")
        assert wait_for(lambda: _state(server.grpc_port, 3) == get_model_status_pb2.ModelVersionStatus.END)
        assert "warm-up" in _statuses(server.grpc_port)[3].status.error_message
        assert grpc_predict(server.grpc_port, {"images": IMAGES}).model_spec.version.value == 1
        assert _statuses(server.grpc_port)[1].state == get_model_status_pb2.ModelVersionStatus.AVAILABLE

        _drop_copy(single_base / "1", tmp_path, 4)
        assert wait_for(lambda: grpc_predict(server.grpc_port, {"images": IMAGES}).model_spec.version.value == 4)
        with pytest.raises(grpc.RpcError) as caught:
            grpc_predict(server.grpc_port, {"images": IMAGES}, version=1)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    finally:
        server.stop(grace=1)


def test_no_version_yet(tmp_path, single_base, grpc_predict, start, wait_for):
    """An empty base path serves nothing (NOT_FOUND) until a version appears."""
    server = start(tmp_path, model_config=POLL)
    try:
        with pytest.raises(grpc.RpcError) as caught:
            grpc_predict(server.grpc_port, {"images": IMAGES})
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.RpcError) as caught:
            _statuses(server.grpc_port)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        _drop_copy(single_base / "1", tmp_path, 1)
        assert wait_for(lambda: _state(server.grpc_port, 1) == get_model_status_pb2.ModelVersionStatus.AVAILABLE)
        assert tf.make_ndarray(grpc_predict(server.grpc_port, {"images": IMAGES}).outputs["stylized"]).shape == IMAGES.shape
    finally:
        server.stop(grace=1)
