"""Serving fixtures: exported style models, running embedded servers on free loopback ports, TLS files."""

from __future__ import annotations

import functools
import os
import shutil
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

from kerasviz.serving.options import LimitOptions, SecurityOptions

MODEL = "style"


@functools.lru_cache(maxsize=None)
def _transform_net(n_styles: int):
    from kerasviz.faststyle import build_transform_net

    keras.utils.set_random_seed(n_styles)
    return build_transform_net(n_styles=n_styles, width=16)


def export_style(base: Path, version: int, n_styles: int = 1) -> Path:
    """Export a small fast-style transform net with `export_style_model` into `base/<version>`."""
    from kerasviz.faststyle import export_style_model

    return export_style_model(_transform_net(n_styles), base, version=version)


def break_version(base: Path, version: int, how: str, good: Path) -> Path:
    """Write a deliberately broken version: `how="garbage"` (saved_model.pb is not a SavedModel)
    or `how="warmup"` (a copy of the good version folder `good` whose warm-up record names an
    input the model lacks)."""
    target = Path(base) / str(version)
    if how == "garbage":
        target.mkdir(parents=True)
        (target / "saved_model.pb").write_bytes(b"not a SavedModel")
        return target
    staging = Path(base) / f".staging-{version}"
    shutil.copytree(good, staging)
    request = predict_pb2.PredictRequest()
    request.inputs["bogus"].CopyFrom(tf.make_tensor_proto(np.zeros((1, 8, 8, 3), np.float32)))
    log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
    with tf.io.TFRecordWriter(str(staging / "assets.extra" / "tf_serving_warmup_requests")) as writer:
        writer.write(log.SerializeToString())
    os.replace(staging, target)
    return target


@pytest.fixture(scope="session")
def broken_version():
    """`break_version(base, version, how, good)`."""
    return break_version


@pytest.fixture(scope="session")
def single_base(tmp_path_factory) -> Path:
    """Base path holding version 1 of a single-style model."""
    base = tmp_path_factory.mktemp("single")
    export_style(base, 1)
    return base


@pytest.fixture(scope="session")
def multi_base(tmp_path_factory) -> Path:
    """Base path holding version 1 of a 3-style model."""
    base = tmp_path_factory.mktemp("multi")
    export_style(base, 1, n_styles=3)
    return base


def start_server(base: Path, **kwargs):
    """A started ServingServer on free loopback ports (stop it when done); no version polling
    unless `model_config` says otherwise."""
    from kerasviz.serving import ModelConfigOptions, ServingServer

    kwargs.setdefault("model_config", ModelConfigOptions(file_system_poll_wait_seconds=0))
    server = ServingServer(MODEL, base, **kwargs)
    server.start()
    return server


@pytest.fixture(scope="session")
def server(single_base):
    """The embedded server on the single-style model (session-wide, no polling)."""
    server = start_server(single_base)
    yield server
    server.stop(grace=1)


@pytest.fixture(scope="session")
def multi_server(multi_base):
    """The embedded server on the 3-style model."""
    server = start_server(multi_base)
    yield server
    server.stop(grace=1)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """A test CA, a server certificate for localhost / 127.0.0.1 and a client certificate (PEM paths)."""
    import datetime
    import ipaddress

    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.timezone.utc)

    def issue(name, issuer_name, issuer_key, ca=False, san=None):
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name or name)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        cert = builder.sign(issuer_key or key, hashes.SHA256())
        (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (folder / f"{name}.key").write_bytes(
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
        return key

    ca_key = issue("ca", None, None, ca=True)
    issue("server", "ca", ca_key, san=[x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    issue("client", "ca", ca_key)
    return {name: folder / name for name in ("ca.pem", "server.pem", "server.key", "client.pem", "client.key")}


@pytest.fixture(scope="session")
def grpc_predict():
    """`call(port, inputs, signature="", ...)` -> PredictResponse via the official PredictionServiceStub."""
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    def call(port, inputs, signature="", model=MODEL, version=None, timeout=10.0, metadata=None, raw=None):
        request = raw or predict_pb2.PredictRequest()
        if raw is None:
            request.model_spec.name = model
            request.model_spec.signature_name = signature
            if version is not None:
                request.model_spec.version.value = version
            for key, value in inputs.items():
                request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
        options = [("grpc.max_send_message_length", 64 << 20), ("grpc.max_receive_message_length", 64 << 20)]
        with grpc.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            return stub.Predict(request, timeout=timeout, metadata=metadata)

    return call


@pytest.fixture(scope="session")
def http():
    """`call(url, body=None, headers=None)` -> (HTTP status, decoded JSON) with plain urllib."""
    import json
    import urllib.error
    import urllib.request

    def call(url, body=None, headers=None, timeout=10.0, context=None):
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=context) as reply:
                return reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    return call


@functools.lru_cache(maxsize=None)
def _load(path: str):
    return tf.saved_model.load(path)


def direct_call(base: Path, signature: str, inputs: dict) -> dict:
    """The SavedModel's signature called in-process (the reference for served results)."""
    loaded = _load(str(base / "1"))
    outputs = loaded.signatures[signature](**{k: tf.constant(v) for k, v in inputs.items()})
    return {k: v.numpy() for k, v in outputs.items()}


@pytest.fixture(scope="session")
def direct():
    """`direct_call(base, signature, inputs)`: the in-process reference."""
    return direct_call


TOKEN = "test-token-7f3a"


@pytest.fixture(scope="session")
def token_server(single_base):
    """A server requiring the bearer token `TOKEN` on both APIs."""
    server = start_server(single_base, security=SecurityOptions(auth_token=TOKEN))
    yield server
    server.stop(grace=0)


@pytest.fixture(scope="session")
def tight_server(single_base):
    """A server that handles one request at a time per API (for overload tests)."""
    server = start_server(single_base, limits=LimitOptions(max_concurrent_requests=1))
    yield server
    server.stop(grace=0)


def wait_until(condition, seconds: float = 30.0) -> bool:
    """Poll `condition()` every 0.05 s until it is true (True) or `seconds` pass (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="session")
def wait_for():
    """`wait_for(condition, seconds=30.0)` -> whether `condition()` became true in time."""
    return wait_until


@pytest.fixture(scope="session")
def start():
    """`start(base, **kwargs)` -> a started ServingServer on free ports (the test stops it)."""
    return start_server
