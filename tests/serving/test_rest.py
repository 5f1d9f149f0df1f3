"""REST API: TF Serving's JSON formats and HTTP codes, each error produced by a request built for it."""

from __future__ import annotations

import base64

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2

from kerasviz.serving.errors import ServingError
from kerasviz.serving.rest_json import format_predict_outputs, parse_predict_body

MODEL = "style"
TOKEN = "test-token-7f3a"
IMAGE = np.random.default_rng(3).integers(0, 256, (8, 8, 3)).tolist()
WEIGHTS = [0.5, 0.25, 0.25]


def _signature(**inputs) -> meta_graph_pb2.SignatureDef:
    signature = meta_graph_pb2.SignatureDef()
    for name, (dtype, shape) in inputs.items():
        info = signature.inputs[name]
        info.dtype = dtype.as_datatype_enum
        for size in shape:
            info.tensor_shape.dim.add(size=size)
    return signature


DENSE = _signature(images=(tf.float32, [-1, -1, -1, 3]), style_weights=(tf.float32, [-1, 3]))
ENCODED = _signature(image_bytes=(tf.string, [-1]))


def test_parse_rows_and_columns():
    """Row and columnar bodies give the same arrays; b64 objects become bytes."""
    rows, row_format = parse_predict_body({"instances": [{"images": IMAGE, "style_weights": WEIGHTS}] * 2}, DENSE)
    columns, columnar = parse_predict_body({"inputs": {"images": [IMAGE] * 2, "style_weights": [WEIGHTS] * 2}}, DENSE)
    assert row_format and not columnar
    for key in ("images", "style_weights"):
        assert rows[key].dtype == np.float32 and rows[key].shape == columns[key].shape
        np.testing.assert_array_equal(rows[key], columns[key])
    payload = {"b64": base64.b64encode(b"\x89PNG").decode()}
    for body in ({"instances": [payload]}, {"inputs": [payload]}, {"inputs": {"image_bytes": [payload]}}):
        arrays, _ = parse_predict_body(body, ENCODED)
        assert arrays["image_bytes"].dtype == object and arrays["image_bytes"].tolist() == [b"\x89PNG"]


@pytest.mark.parametrize(
    "body, signature",
    [
        ([1, 2], DENSE),
        ({}, DENSE),
        ({"instances": [], "inputs": []}, DENSE),
        ({"instances": []}, DENSE),
        ({"instances": [IMAGE]}, DENSE),
        ({"instances": [{"images": IMAGE}, {"images": IMAGE, "style_weights": WEIGHTS}]}, DENSE),
        ({"inputs": {"images": [[1, 2], [3]]}}, DENSE),
        ({"inputs": {"images": "text"}}, DENSE),
        ({"inputs": {"images": [{"b64": "AAAA"}]}}, DENSE),
        ({"inputs": {"pictures": [IMAGE]}}, DENSE),
        ({"inputs": [{"b64": "not base64!"}]}, ENCODED),
        ({"inputs": [{"b64": "AAAA", "extra": 1}]}, ENCODED),
        ({"inputs": [["nested", ["ragged"]]]}, ENCODED),
        ({"inputs": [1.5]}, ENCODED),
    ],
)
def test_parse_refuses_malformed_bodies(body, signature):
    """Malformed bodies raise INVALID_ARGUMENT before anything reaches TensorFlow."""
    with pytest.raises(ServingError) as caught:
        parse_predict_body(body, signature)
    assert caught.value.http_status == 400


def test_format_outputs():
    """Rows vs columns; PNG bytes and `_bytes` outputs as b64, text as text; no common batch -> error."""
    png = np.array([b"\x89PNG\r\n", b"\x89PNG\r\n"], dtype=object)
    assert format_predict_outputs({"out": png}, True)["predictions"][0] == {"b64": base64.b64encode(b"\x89PNG\r\n").decode()}
    assert format_predict_outputs({"label": np.array([b"cat"], dtype=object)}, False) == {"outputs": ["cat"]}
    assert format_predict_outputs({"label_bytes": np.array([b"cat"], dtype=object)}, False) == {"outputs": [{"b64": "Y2F0"}]}
    two = format_predict_outputs({"a": np.zeros((2, 1)), "b": np.ones(2)}, True)
    assert two == {"predictions": [{"a": [0.0], "b": 1.0}, {"a": [0.0], "b": 1.0}]}
    with pytest.raises(ServingError):
        format_predict_outputs({"a": np.zeros((2, 1)), "b": np.ones(3)}, True)


@pytest.mark.parametrize(
    "path, body, status",
    [
        ("/v1/models/nope:predict", {"instances": [IMAGE]}, 404),
        ("/v1/models/style/versions/9:predict", {"instances": [IMAGE]}, 404),
        ("/v1/models/style/labels/stable:predict", {"instances": [IMAGE]}, 400),  # TF Serving: unrecognized label
        ("/v1/models/nope", None, 404),
        ("/v1/models/style/versions/9", None, 404),
        ("/v1/models/style:predict", b"{not json", 400),
        ("/v1/models/style:predict", {"signature_name": "nope", "instances": [IMAGE]}, 400),
        ("/v1/models/style:predict", {"instances": [[[1.0, 2.0]]]}, 400),
        ("/v1/models/style:predict", {"instances": [np.full((8, 8, 3), 1e39).tolist()]}, 400),
        ("/v1/models/style:predict", {"inputs": {"images": [IMAGE], "extra": [1]}}, 400),
        ("/v1/models/style:predict", {"signature_name": 5, "inputs": [IMAGE]}, 400),
        ("/v1/models/style:classify", {"examples": []}, 501),
        ("/v2/anything", None, 404),
        ("/v1/models/..%2F..%2Fsingle:predict", {"instances": [IMAGE]}, 404),
    ],
)
def test_http_error_codes(server, http, path, body, status):
    """Each malformed request gets TF Serving's HTTP status and a JSON `{"error": ...}` body."""
    code, reply = http(f"http://127.0.0.1:{server.rest_port}{path}", body)
    assert code == status, reply
    assert set(reply) == {"error"} and reply["error"] and "Traceback" not in reply["error"]


def test_request_over_size_limit(server, http):
    """A 20 MB body is refused with 413 (limit 16 MiB); the server keeps serving."""
    body = b'{"inputs": [' + b"0," * 10_000_000 + b"0]}"
    code, reply = http(f"http://127.0.0.1:{server.rest_port}/v1/models/style:predict", body, timeout=30)
    assert code == 413 and "limit" in reply["error"]
    code, reply = http(f"http://127.0.0.1:{server.rest_port}/v1/models/style:predict", {"instances": [IMAGE]})
    assert code == 200 and np.shape(reply["predictions"]) == (1, 8, 8, 3)


def test_overload(tight_server, http, monkeypatch):
    """While the only request slot is held by a running predict, another predict gets 429; status
    and metadata requests take no slot and still answer."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from kerasviz.serving.servable import Servable

    entered, release = threading.Event(), threading.Event()
    run = Servable.run

    def blocked(self, *args, **kwargs):
        entered.set()
        release.wait(10)
        return run(self, *args, **kwargs)

    monkeypatch.setattr(Servable, "run", blocked)
    url = f"http://127.0.0.1:{tight_server.rest_port}/v1/models/style"
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(http, url + ":predict", {"instances": [IMAGE]})
        assert entered.wait(10)
        code, reply = http(url + ":predict", {"instances": [IMAGE]})
        assert code == 429 and "concurrent" in reply["error"]
        assert http(url)[0] == 200 and http(url + "/metadata")[0] == 200
        release.set()
        assert first.result(timeout=20)[0] == 200
    assert http(url + ":predict", {"instances": [IMAGE]})[0] == 200


def test_token(token_server, http):
    """With a token configured: none or a wrong one -> 401; the right one -> 200."""
    url = f"http://127.0.0.1:{token_server.rest_port}/v1/models/style:predict"
    assert http(url, {"instances": [IMAGE]})[0] == 401
    assert http(url, {"instances": [IMAGE]}, headers={"Authorization": "Bearer wrong"})[0] == 401
    code, reply = http(url, {"instances": [IMAGE]}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert code == 200 and np.shape(reply["predictions"]) == (1, 8, 8, 3)
