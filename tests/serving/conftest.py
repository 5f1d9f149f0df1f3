"""Serving fixtures: exported style models, running embedded servers on free loopback ports, TLS files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

MODEL = "style"


def export_toy_model(base: Path, version: int, n_styles: int = 1, offset: float = 0.0, broken: bool = False) -> Path:
    """A tiny SavedModel with the fast-style export's signatures (and warm-up records).

    `serving_default`: `images` float32 (N,H,W,3) [+ `style_weights` (N, n_styles)] -> `stylized`;
    `stylize_bytes`: `image_bytes` string (N,) [+ `style_weights`] -> `stylized_png` string (N,).
    `broken=True` writes a version whose `saved_model.pb` is garbage.
    """
    target = Path(base) / str(version)
    if broken:
        target.mkdir(parents=True)
        (target / "saved_model.pb").write_bytes(b"not a SavedModel")
        return target
    scales = tf.constant(np.linspace(0.5, 1.0, n_styles).astype("float32"))
    image_spec = tf.TensorSpec([None, None, None, 3], tf.float32, name="images")
    weight_spec = [tf.TensorSpec([None, n_styles], tf.float32, name="style_weights")] if n_styles > 1 else []

    def stylize(images, weights=None):
        scale = tf.reduce_sum(weights * scales, axis=-1)[:, None, None, None] if weights is not None else scales[0]
        return tf.clip_by_value(255.0 - images * scale + offset, 0.0, 255.0)

    def dense(images, *weights):
        return {"stylized": stylize(images, *weights)}

    def encoded(image_bytes, *weights):
        images = tf.map_fn(
            lambda b: tf.cast(tf.io.decode_image(b, channels=3, expand_animations=False), tf.float32),
            image_bytes,
            fn_output_signature=tf.TensorSpec([None, None, 3], tf.float32),
        )
        out = tf.cast(tf.round(stylize(images, *weights)), tf.uint8)
        return {"stylized_png": tf.map_fn(tf.io.encode_png, out, fn_output_signature=tf.string)}

    module = tf.Module()
    module.dense = tf.function(dense, input_signature=[image_spec, *weight_spec])
    module.encoded = tf.function(encoded, input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes"), *weight_spec])
    tmp = Path(base) / f".tmp-{version}"
    tf.saved_model.save(
        module,
        str(tmp),
        signatures={"serving_default": module.dense.get_concrete_function(), "stylize_bytes": module.encoded.get_concrete_function()},
    )
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL
    request.inputs["images"].CopyFrom(tf.make_tensor_proto(np.zeros((1, 8, 8, 3), np.float32)))
    if n_styles > 1:
        request.inputs["style_weights"].CopyFrom(tf.make_tensor_proto(np.full((1, n_styles), 1 / n_styles, np.float32)))
    (tmp / "assets.extra").mkdir()
    with tf.io.TFRecordWriter(str(tmp / "assets.extra" / "tf_serving_warmup_requests")) as writer:
        log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
        writer.write(log.SerializeToString())
    os.replace(tmp, target)
    return target


@pytest.fixture(scope="session")
def toy_export():
    """The test-local SavedModel maker (`export_toy_model`)."""
    return export_toy_model
