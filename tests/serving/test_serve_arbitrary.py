"""`kerasviz serve` (the embedded server) on an exported arbitrary (AdaIN) stylizer: encoded content
and style images over gRPC and REST give the in-process result; bad requests get INVALID_ARGUMENT /
HTTP 400 with the graph's reason, and the server keeps answering."""

from __future__ import annotations

import base64

import grpc
import numpy as np
import pytest
import tensorflow as tf

from kerasviz.faststyle import export_style_model
from kerasviz.faststyle.adain import build_arbitrary_stylizer, build_decoder
from kerasviz.faststyle.arbitrary import stylize_arbitrary

pytestmark = pytest.mark.slow  # ~40 s: VGG encoder, export, a server loading it

RNG = np.random.default_rng(21)
CONTENT = RNG.integers(0, 256, (2, 36, 44, 3)).astype(np.uint8)
STYLE = RNG.integers(0, 256, (2, 64, 48, 3)).astype(np.uint8)
ALPHA = np.float32([1.0, 0.6])


def _png(image: np.ndarray) -> bytes:
    return tf.io.encode_png(image).numpy()


def _pngs(images) -> np.ndarray:
    return np.array([_png(image) for image in images], dtype=object)


def _b64(items) -> list:
    return [{"b64": base64.b64encode(item).decode("ascii")} for item in items]


@pytest.fixture(scope="module")
def stylizer():
    tf.keras.utils.set_random_seed(9)
    return build_arbitrary_stylizer(build_decoder(16))


@pytest.fixture(scope="module")
def arbitrary_server(stylizer, tmp_path_factory, start):
    base = tmp_path_factory.mktemp("arbitrary_served")
    export_style_model(stylizer, base, version=1)
    server = start(base)
    yield server
    server.stop(grace=1)


@pytest.fixture(scope="module")
def expected(stylizer):
    """The in-process API's uint8 results for CONTENT[i] with STYLE[i] at ALPHA[i]."""
    return [np.rint(stylize_arbitrary(CONTENT[i], STYLE[i], alpha=float(ALPHA[i]), stylizer=stylizer)) for i in range(2)]


def _rest(http, server, body):
    return http(f"http://127.0.0.1:{server.rest_port}/v1/models/style:predict", body, timeout=60)


def test_encoded_images_over_grpc_and_rest(arbitrary_server, grpc_predict, http, expected):
    reply = grpc_predict(
        arbitrary_server.grpc_port, {"content": _pngs(CONTENT), "style": _pngs(STYLE), "alpha": ALPHA},
        signature="stylize_bytes", timeout=60,
    )
    served = [tf.io.decode_png(item).numpy() for item in tf.make_ndarray(reply.outputs["stylized"])]
    body = {"signature_name": "stylize_bytes", "inputs": {"content": _b64(_pngs(CONTENT)), "style": _b64(_pngs(STYLE)),
                                                           "alpha": ALPHA.tolist()}}
    status, answer = _rest(http, arbitrary_server, body)
    assert status == 200, answer
    outputs = answer["outputs"]["stylized"] if isinstance(answer["outputs"], dict) else answer["outputs"]
    over_rest = [tf.io.decode_png(base64.b64decode(item["b64"])).numpy() for item in outputs]
    for grpc_png, rest_png, reference in zip(served, over_rest, expected):
        assert grpc_png.shape == CONTENT.shape[1:]
        np.testing.assert_array_equal(grpc_png, rest_png)
        assert np.abs(grpc_png.astype(int) - reference).max() <= 1  # PNG rounding of the float result
    assert np.abs(served[0].astype(int) - served[1]).max() > 0


def test_pixels_over_grpc(arbitrary_server, grpc_predict, stylizer):
    reply = grpc_predict(
        arbitrary_server.grpc_port,
        {"content": CONTENT.astype(np.float32), "style": STYLE.astype(np.float32), "alpha": ALPHA}, timeout=60,
    )
    out = tf.make_ndarray(reply.outputs["stylized"])
    for i in range(2):
        reference = stylize_arbitrary(CONTENT[i], STYLE[i], alpha=float(ALPHA[i]), stylizer=stylizer)
        assert np.abs(out[i] - reference).max() < 0.05


@pytest.mark.parametrize(
    "signature, inputs, reason",
    [
        ("stylize_bytes", {"content": _pngs(CONTENT), "style": _pngs(STYLE), "alpha": np.float32([1.5, 0])}, "alpha must lie in [0, 1]"),
        ("stylize_bytes", {"content": _pngs(CONTENT), "style": _pngs(STYLE[:1]), "alpha": ALPHA}, "batch"),
        ("stylize_bytes", {"content": _pngs(CONTENT), "style": _pngs(STYLE[:, :20, :20]), "alpha": ALPHA}, "at least 32 x 32"),
        ("stylize_bytes", {"content": _pngs(CONTENT), "style": np.array([b"GIF89a" + b"\0" * 30] * 2, dtype=object),
                           "alpha": ALPHA}, "GIF"),
        ("serving_default", {"content": CONTENT.astype(np.float32), "style": STYLE.astype(np.float32),
                             "alpha": np.float32([0.5, -0.5])}, "alpha must lie in [0, 1]"),
        ("serving_default", {"content": CONTENT.astype(np.float32), "style": STYLE[..., :1].astype(np.float32), "alpha": ALPHA},
         "shape"),
        ("serving_default", {"content": CONTENT.astype(np.float32), "style": np.concatenate([STYLE, STYLE[..., :1]], -1).astype(np.float32),
                             "alpha": ALPHA}, "shape"),
        ("serving_default", {"content": CONTENT.astype(np.float32), "style": STYLE[:, :31].astype(np.float32), "alpha": ALPHA},
         "at least 32 x 32"),
    ],
)
def test_bad_requests_are_invalid_argument(arbitrary_server, grpc_predict, http, signature, inputs, reason):
    with pytest.raises(grpc.RpcError) as caught:
        grpc_predict(arbitrary_server.grpc_port, inputs, signature=signature, timeout=60)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
    assert reason in caught.value.details() and "function_node" not in caught.value.details()
    if signature == "stylize_bytes":
        body = {"signature_name": signature, "inputs": {k: _b64(v) if v.dtype == object else v.tolist() for k, v in inputs.items()}}
        status, answer = _rest(http, arbitrary_server, body)
        assert status == 400 and reason in answer["error"], answer
    # the server lives on: a good request right after
    reply = grpc_predict(arbitrary_server.grpc_port, {"content": _pngs(CONTENT[:1]), "style": _pngs(STYLE[:1]),
                                                      "alpha": ALPHA[:1]}, signature="stylize_bytes", timeout=60)
    assert tf.make_ndarray(reply.outputs["stylized"]).shape == (1,)
