"""The embedded server over real loopback sockets: served results equal the SavedModel, TLS, health, arguments."""

from __future__ import annotations

import base64
import io
import ssl

import grpc
import numpy as np
import pytest
import tensorflow as tf
from grpc_health.v1 import health_pb2, health_pb2_grpc
from PIL import Image

from kerasviz.errors import ParameterError
from kerasviz.serving import (
    LimitOptions,
    ModelConfigOptions,
    OperationsOptions,
    RestStyleClient,
    SecurityOptions,
    ServingServer,
    StyleClient,
)

MODEL = "style"
NO_POLLING = ModelConfigOptions(file_system_poll_wait_seconds=0)
RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, (2, 32, 32, 3)).astype(np.float32)
WEIGHTS = np.array([[1.0, 0.0, 0.0], [0.2, 0.3, 0.5]], np.float32)


def _png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image.astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


PNGS = np.array([_png(image) for image in IMAGES], dtype=object)


@pytest.mark.parametrize("styles", ["single", "multi"])
def test_dense_signature_equals_savedmodel(styles, request, grpc_predict, http, direct):
    """serving_default over gRPC (official stub) and REST (rows and columns) equals the in-process call."""
    server = request.getfixturevalue("server" if styles == "single" else "multi_server")
    inputs = {"images": IMAGES} if styles == "single" else {"images": IMAGES, "style_weights": WEIGHTS}
    expected = direct(server.manager.base_path, "serving_default", inputs)["stylized"]

    response = grpc_predict(server.grpc_port, inputs)
    np.testing.assert_allclose(tf.make_ndarray(response.outputs["stylized"]), expected, atol=1e-3)
    assert response.model_spec.version.value == 1 and response.model_spec.signature_name == "serving_default"

    url = f"http://127.0.0.1:{server.rest_port}/v1/models/{MODEL}:predict"
    status, body = http(url, {"inputs": {k: v.tolist() for k, v in inputs.items()}})
    assert status == 200
    np.testing.assert_allclose(np.array(body["outputs"], np.float32), expected, atol=1e-3)
    rows = [{k: v[i].tolist() for k, v in inputs.items()} for i in range(2)]
    status, body = http(url, {"instances": rows})
    assert status == 200
    np.testing.assert_allclose(np.array(body["predictions"], np.float32), expected, atol=1e-3)


@pytest.mark.parametrize("styles", ["single", "multi"])
def test_bytes_signature_equals_savedmodel(styles, request, grpc_predict, http, direct):
    """The encoded-image signature over gRPC and REST (`{"b64": ...}`) returns the same PNGs as in-process."""
    server = request.getfixturevalue("server" if styles == "single" else "multi_server")
    signature = next(n for n, s in server.manager.servable().signature_defs.items() if n != "serving_default")
    spec = server.manager.servable().signature_defs[signature]
    image_key = next(k for k, i in spec.inputs.items() if i.dtype == tf.string.as_datatype_enum)
    output_key = next(iter(spec.outputs))
    inputs = {image_key: PNGS} if styles == "single" else {image_key: PNGS, "style_weights": WEIGHTS}
    expected = [_decode(png) for png in direct(server.manager.base_path, signature, inputs)[output_key]]

    response = grpc_predict(server.grpc_port, inputs, signature=signature)
    served = tf.make_ndarray(response.outputs[output_key])
    for png, want in zip(served, expected, strict=True):
        np.testing.assert_array_equal(_decode(png), want)

    body = {"signature_name": signature, "instances": [
        {image_key: {"b64": base64.b64encode(png).decode()}, **({"style_weights": w.tolist()} if styles == "multi" else {})}
        for png, w in zip(PNGS, WEIGHTS, strict=True)
    ]}
    status, reply = http(f"http://127.0.0.1:{server.rest_port}/v1/models/{MODEL}:predict", body)
    assert status == 200
    for row, want in zip(reply["predictions"], expected, strict=True):
        np.testing.assert_array_equal(_decode(base64.b64decode(row["b64"])), want)


def test_status_metadata_and_health(server, http):
    """REST status / metadata in TF Serving's JSON shape, and the gRPC health service says SERVING."""
    base = f"http://127.0.0.1:{server.rest_port}/v1/models/{MODEL}"
    status, body = http(base)
    assert status == 200
    assert body["model_version_status"] == [
        {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
    ]
    status, body = http(base + "/versions/1/metadata")
    assert status == 200 and body["model_spec"]["version"] == "1"
    signatures = body["metadata"]["signature_def"]["signature_def"]
    assert signatures["serving_default"]["inputs"]["images"]["dtype"] == "DT_FLOAT"
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="tensorflow.serving.PredictionService"), timeout=5
        )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_tls(single_base, tls_files):
    """With TLS, plaintext clients cannot connect and clients trusting the test CA can (gRPC and REST)."""
    security = SecurityOptions(ssl_cert=str(tls_files["server.pem"]), ssl_key=str(tls_files["server.key"]))
    server = ServingServer(MODEL, single_base, security=security, model_config=NO_POLLING)
    server.start()
    try:
        ca = tls_files["ca.pem"].read_bytes()
        image = IMAGES[0].astype(np.uint8)
        with StyleClient(f"127.0.0.1:{server.grpc_port}", MODEL, retries=0) as plain:
            with pytest.raises(Exception) as caught:
                plain.stylize(image, timeout=3)
            assert getattr(caught.value, "code", None) == grpc.StatusCode.UNAVAILABLE
        with StyleClient(f"localhost:{server.grpc_port}", MODEL, root_certificates=ca, retries=0) as secure:
            assert secure.stylize(image, timeout=10).shape == image.shape
        with pytest.raises(Exception) as caught:
            RestStyleClient(f"http://127.0.0.1:{server.rest_port}", MODEL, retries=0).stylize(image, timeout=3)
        assert getattr(caught.value, "code", None) == grpc.StatusCode.UNAVAILABLE
        context = ssl.create_default_context(cafile=str(tls_files["ca.pem"]))
        secure_rest = RestStyleClient(f"https://localhost:{server.rest_port}", MODEL, ssl_context=context, retries=0)
        assert secure_rest.stylize(image, timeout=10).shape == image.shape
    finally:
        server.stop(grace=0)


def test_mutual_tls(single_base, tls_files):
    """With a client CA, a TLS client without a client certificate is refused; one with it is served."""
    security = SecurityOptions(
        ssl_cert=str(tls_files["server.pem"]), ssl_key=str(tls_files["server.key"]), ssl_client_ca=str(tls_files["ca.pem"])
    )
    server = ServingServer(MODEL, single_base, security=security, rest_api_port=None, model_config=NO_POLLING)
    server.start()
    try:
        ca = tls_files["ca.pem"].read_bytes()
        image = IMAGES[0].astype(np.uint8)
        with StyleClient(f"localhost:{server.grpc_port}", MODEL, root_certificates=ca, retries=0) as anonymous:
            with pytest.raises(Exception) as caught:
                anonymous.stylize(image, timeout=3)
            assert getattr(caught.value, "code", None) == grpc.StatusCode.UNAVAILABLE
        with StyleClient(f"localhost:{server.grpc_port}", MODEL, root_certificates=ca, retries=0,
                         private_key=tls_files["client.key"].read_bytes(),
                         certificate_chain=tls_files["client.pem"].read_bytes()) as client:
            assert client.stylize(image, timeout=10).shape == image.shape
        assert server.rest_port is None
    finally:
        server.stop(grace=0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(model_base_path="/nonexistent/models"), "model_base_path"),
        (dict(model_name="a/b"), "model_name"),
        (dict(port=70000), "port"),
        (dict(rest_api_port=-1), "rest_api_port"),
        (dict(security=SecurityOptions(ssl_cert="/nonexistent.pem", ssl_key="/nonexistent.key")), "ssl_cert"),
        (dict(security=SecurityOptions(auth_token="  ")), "auth_token"),
        (dict(limits={"max_concurrent_requests": 1}), "limits"),
        (dict(security=LimitOptions()), "security"),
        (dict(model_config=ModelConfigOptions(model_config_file="/nonexistent.config"), model_name=None,
              model_base_path=None), "model_config_file"),
        (dict(operations=OperationsOptions(enable_batching=True, batching_parameters_file="/nonexistent.txt")),
         "batching_parameters_file"),
    ],
)
def test_bad_arguments(single_base, kwargs, match):
    """Each bad constructor argument raises ParameterError naming it."""
    arguments = dict(model_name=MODEL, model_base_path=single_base)
    arguments.update(kwargs)
    with pytest.raises(ParameterError, match=match):
        ServingServer(arguments.pop("model_name"), arguments.pop("model_base_path"), **arguments)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: SecurityOptions(ssl_cert="cert.pem"), "ssl_cert"),
        (lambda: SecurityOptions(ssl_client_ca="ca.pem"), "ssl_client_ca"),
        (lambda: SecurityOptions(ssl_cert=3, ssl_key="k"), "ssl_cert"),
        (lambda: LimitOptions(max_concurrent_requests=0), "max_concurrent_requests"),
        (lambda: LimitOptions(max_message_bytes=0), "max_message_bytes"),
        (lambda: LimitOptions(grace_seconds=-1), "grace_seconds"),
        (lambda: LimitOptions(rest_api_timeout_in_ms=-1), "rest_api_timeout_in_ms"),
        (lambda: LimitOptions(rest_body_timeout_seconds=0), "rest_body_timeout_seconds"),
        (lambda: LimitOptions(rest_header_timeout_seconds=0), "rest_header_timeout_seconds"),
        (lambda: ModelConfigOptions(file_system_poll_wait_seconds=-1.0), "file_system_poll_wait_seconds"),
        (lambda: ModelConfigOptions(model_config_file_poll_wait_seconds=-1.0), "model_config_file_poll_wait_seconds"),
        (lambda: OperationsOptions(enable_batching="yes"), "enable_batching"),
    ],
)
def test_bad_option_records(make, match):
    """Each option record checks its fields when it is made, naming the bad one."""
    with pytest.raises(ParameterError, match=match):
        make()


def test_no_public_signature_over_twelve_parameters():
    import inspect

    for function in (ServingServer.__init__, SecurityOptions, LimitOptions, ModelConfigOptions, OperationsOptions):
        parameters = [p for p in inspect.signature(function).parameters if p != "self"]
        assert len(parameters) <= 12, (function, parameters)


def test_port_in_use(server, single_base):
    """A taken port is a ParameterError, not a crash."""
    with pytest.raises(ParameterError, match="port"):
        ServingServer(MODEL, single_base, port=0, rest_api_port=server.rest_port, model_config=NO_POLLING).start()
