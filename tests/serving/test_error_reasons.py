"""Refusals raised inside a served graph keep their reason (before: only "Graph execution error:")."""

from __future__ import annotations

import grpc
import keras
import numpy as np
import pytest

from kerasviz.serving import ServingError, export_explainer
from kerasviz.serving.servable import Servable, first_line


def test_three_style_bytes_signature_says_why_the_image_was_refused(multi_server, grpc_predict):
    inputs = {"images": np.array([b"junk image"], dtype=object), "style_weights": np.full((1, 3), 1 / 3, np.float32)}
    with pytest.raises(grpc.RpcError) as caught:
        grpc_predict(multi_server.grpc_port, inputs, signature="stylize_bytes")
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "images must be encoded PNG, JPEG or BMP" in caught.value.details()


def test_explainer_out_of_range_target_says_so(tmp_path):
    pixels = keras.Input((16, 16, 3))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(pixels))
    folder = export_explainer(keras.Model(pixels, keras.layers.Dense(3)(x)), tmp_path, "saliency")
    servable = Servable(1, folder)
    images = np.zeros((1, 16, 16, 3), np.float32)
    for target in (7, -1):
        with pytest.raises(ServingError) as caught:
            servable.predict("explain_target", {"images": images, "target": np.array([target], np.int32)})
        assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert "target class out of range" in caught.value.message, caught.value.message


def test_first_line_skips_graph_error_headers_and_stack_lines():
    message = (
        "Graph execution error:\n\nDetected at node map/while/Assert defined at (most recent call last):\n"
        '  File "x.py", line 3, in <module>\n<stack traces unavailable>\n'
        "assertion failed: [the reason]\n\t [[{{node map/while/Assert}}]] [Op:__inference_f_1]"
    )
    assert first_line(message) == "assertion failed: [the reason]"
    assert first_line("{{function_node f}} plain reason\nmore") == "plain reason"
    assert first_line("") == "unknown error"
