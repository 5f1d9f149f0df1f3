"""TensorProto decoding and signature checks (no server): every refusal is INVALID_ARGUMENT."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2

from kerasviz.serving.errors import ServingError, code_from_http
from kerasviz.serving.tensors import (
    array_to_proto,
    proto_to_array,
    read_signature_defs,
    validate_inputs,
)


def _info(dtype, shape):
    info = meta_graph_pb2.TensorInfo(dtype=dtype.as_datatype_enum)
    for size in shape:
        info.tensor_shape.dim.add(size=size)
    return info


IMAGES = _info(tf.float32, [-1, -1, -1, 3])
SIGNATURE = meta_graph_pb2.SignatureDef(inputs={"images": IMAGES, "style_weights": _info(tf.float32, [-1, 2])})


def _refused(call):
    with pytest.raises(ServingError) as caught:
        call()
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT and caught.value.http_status == 400
    return caught.value.message


def test_values_in_the_wrong_field_or_two_fields_are_refused():
    """Before: half_val / int_val for DT_FLOAT, or float_val plus tensor_content, ran on zeros."""
    info = _info(tf.float32, [-1, 2])
    for field in ("half_val", "int_val"):
        proto = array_to_proto(np.zeros((1, 2), np.float32))
        proto.ClearField("tensor_content")
        getattr(proto, field).extend([15360, 15360])  # 1.0 as half bits; or 15360 as an int
        assert f"values are in '{field}'" in _refused(lambda proto=proto: proto_to_array("w", proto, info))
    both = array_to_proto(np.ones((1, 2), np.float32))  # tensor_content ...
    both.float_val.extend([1.0, 1.0])  # ... and float_val
    assert "several fields" in _refused(lambda: proto_to_array("w", both, info))
    two_lists = tf.make_tensor_proto(np.ones((1, 2), np.float32))
    two_lists.ClearField("tensor_content")
    two_lists.float_val.extend([1.0, 1.0])
    two_lists.double_val.extend([1.0, 1.0])
    assert "several fields" in _refused(lambda: proto_to_array("w", two_lists, info))
    good = tf.make_tensor_proto(np.ones((1, 2), np.float32))
    good.ClearField("tensor_content")
    good.float_val.extend([1.0, 2.0])
    np.testing.assert_array_equal(proto_to_array("w", good, info), [[1.0, 2.0]])


def test_round_trip():
    """Numbers and strings survive array -> proto -> array unchanged."""
    pixels = np.random.default_rng(0).uniform(0, 255, (2, 5, 7, 3)).astype(np.float32)
    np.testing.assert_array_equal(proto_to_array("images", array_to_proto(pixels), IMAGES), pixels)
    strings = np.array([b"\x89PNG", b"\x00\xff"], dtype=object)
    assert proto_to_array("b", array_to_proto(strings), _info(tf.string, [-1])).tolist() == strings.tolist()


def test_proto_refusals():
    """Wrong dtype, data not filling the declared shape (both encodings), negative or unknown shape."""
    pixels = np.zeros((1, 4, 4, 3), np.float32)
    assert "DT_FLOAT" in _refused(lambda: proto_to_array("images", array_to_proto(pixels.astype(np.float64)), IMAGES))
    short = array_to_proto(pixels)
    short.tensor_content = short.tensor_content[:-4]
    _refused(lambda: proto_to_array("images", short, IMAGES))
    broadcast = array_to_proto(np.float32(1.0))
    broadcast.tensor_shape.Clear()
    for size in (1000, 1000, 1000, 3):
        broadcast.tensor_shape.dim.add(size=size)
    assert "values do not fill" in _refused(lambda: proto_to_array("images", broadcast, IMAGES))
    negative = array_to_proto(pixels)
    negative.tensor_shape.dim[1].size = -4
    _refused(lambda: proto_to_array("images", negative, IMAGES))
    unknown = array_to_proto(pixels)
    unknown.tensor_shape.unknown_rank = True
    _refused(lambda: proto_to_array("images", unknown, IMAGES))


@pytest.mark.parametrize(
    "inputs, words",
    [
        ({}, "empty request"),
        ({"images": np.zeros((1, 4, 4, 3), np.float32)}, "missing ['style_weights']"),
        ({"images": np.zeros((1, 4, 4), np.float32), "style_weights": np.ones((1, 2), np.float32) / 2}, "rank 4"),
        ({"images": np.zeros((1, 4, 4, 3), np.int32), "style_weights": np.ones((1, 2), np.float32) / 2}, "float32"),
        ({"images": np.zeros((1, 4, 4, 3), np.float32), "style_weights": np.ones((1, 3), np.float32) / 3}, "shape [-1, 2]"),
        ({"images": np.zeros((2, 4, 4, 3), np.float32), "style_weights": np.ones((1, 2), np.float32) / 2}, "batch size"),
        ({"images": np.full((1, 4, 4, 3), np.inf, np.float32), "style_weights": np.ones((1, 2), np.float32) / 2}, "NaN or infinity"),
        ({"images": np.zeros((1, 0, 4, 3), np.float32), "style_weights": np.ones((1, 2), np.float32) / 2}, "empty"),
    ],
)
def test_validate_inputs(inputs, words):
    """Each mismatch with the signature is refused with a message saying what was wrong."""
    assert words in _refused(lambda: validate_inputs("serving_default", SIGNATURE, inputs))


def test_read_signature_defs(single_base):
    """A fast-style export lists exactly its two public signatures."""
    signatures = read_signature_defs(single_base / "1")
    assert sorted(signatures) == ["serving_default", "stylize_bytes"]
    assert signatures["stylize_bytes"].inputs["images"].dtype == tf.string.as_datatype_enum


def test_http_codes_map_back():
    """REST statuses map back to the gRPC codes the clients report."""
    assert code_from_http(404) == grpc.StatusCode.NOT_FOUND
    assert code_from_http(400) == grpc.StatusCode.INVALID_ARGUMENT
    assert code_from_http(413) == code_from_http(429) == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert code_from_http(401) == grpc.StatusCode.UNAUTHENTICATED
    assert code_from_http(503) == grpc.StatusCode.UNAVAILABLE
    assert code_from_http(418) == grpc.StatusCode.UNKNOWN
