"""Explanations as a service: export_explainer's SavedModel equals the library functions, in-process,
through `kerasviz serve` (gRPC and REST clients), from float pixels and from encoded bytes."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import kerasviz as kv
from kerasviz.backbones import as_backbone
from kerasviz.errors import ModelError, ParameterError
from kerasviz.serving import RestStyleClient, ServingError, StyleClient, export_explainer

STEPS = 8
IMAGES = np.random.default_rng(7).integers(0, 256, (3, 32, 32, 3)).astype(np.uint8)


@pytest.fixture(scope="module")
def classifier():
    keras.utils.set_random_seed(3)
    pixels = keras.Input((32, 32, 3))
    x = keras.layers.Rescaling(1 / 255.0)(pixels)
    x = keras.layers.Conv2D(8, 3, activation="relu", name="conv1")(x)
    x = keras.layers.Conv2D(16, 3, strides=2, activation="relu", name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(pixels, keras.layers.Dense(10, activation="softmax", name="probs")(x))


@pytest.fixture(scope="module")
def exported(classifier, tmp_path_factory):
    base = tmp_path_factory.mktemp("explainers")
    return {
        method: export_explainer(classifier, base / method, method, steps=STEPS, batch_size=4, top_k=3)
        for method in ("gradcam", "saliency", "integrated_gradients")
    }


def _library(classifier, method, images, target=None):
    if method == "gradcam":
        return kv.gradcam(classifier, images, target), None
    if method == "saliency":
        return kv.saliency(classifier, images, target), None
    result = kv.integrated_gradients(classifier, images, target, steps=STEPS)
    heat = np.abs(result.attributions).sum(axis=-1)
    heat = heat / heat.reshape(len(heat), -1).max(axis=1)[:, None, None]
    return heat, result.attributions


def _assert_equal_to_library(outputs, classifier, method, images, target=None):
    heatmaps, attributions = _library(classifier, method, images, target)
    np.testing.assert_allclose(outputs["heatmaps"], heatmaps, atol=2e-5)
    if attributions is not None:
        np.testing.assert_allclose(outputs["attributions"], attributions, atol=1e-5 * np.abs(attributions).max())
    logits = as_backbone(classifier).model(images.astype(np.float32)).numpy()
    expected_target = logits.argmax(axis=1) if target is None else np.broadcast_to(target, (len(images),))
    np.testing.assert_array_equal(outputs["target"], expected_target)
    np.testing.assert_array_equal(outputs["classes"], np.argsort(-logits, axis=1)[:, :3])


@pytest.mark.parametrize("method", ["gradcam", "saliency", "integrated_gradients"])
def test_signatures_equal_the_library(exported, classifier, method):
    loaded = tf.saved_model.load(str(exported[method]))
    pixels = IMAGES.astype(np.float32)
    outputs = {k: v.numpy() for k, v in loaded.signatures["serving_default"](images=tf.constant(pixels)).items()}
    assert outputs["heatmaps"].shape == (3, 32, 32) and outputs["heatmaps"].dtype == np.float32
    _assert_equal_to_library(outputs, classifier, method, IMAGES)
    target = np.array([1, 4, 9], np.int32)
    outputs = loaded.signatures["explain_target"](images=tf.constant(pixels), target=tf.constant(target))
    _assert_equal_to_library({k: v.numpy() for k, v in outputs.items()}, classifier, method, IMAGES, target)
    encoded = tf.constant([tf.io.encode_png(image).numpy() for image in IMAGES])
    outputs = {k: v.numpy() for k, v in loaded.signatures["explain_bytes"](images=encoded).items()}
    _assert_equal_to_library(outputs, classifier, method, IMAGES)


def test_bytes_of_another_size_are_resized_and_bombs_refused(exported):
    loaded = tf.saved_model.load(str(exported["saliency"]))
    jpeg = tf.io.encode_jpeg(np.zeros((50, 70, 3), np.uint8)).numpy()
    outputs = loaded.signatures["explain_bytes"](images=tf.constant([jpeg]))
    assert outputs["heatmaps"].shape == (1, 32, 32)
    assert (exported["saliency"] / "assets.extra" / "tf_serving_warmup_requests").is_file()
    import struct
    import zlib

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    ihdr = struct.pack(">I", 13) + b"IHDR" + header + struct.pack(">I", zlib.crc32(b"IHDR" + header))
    with pytest.raises(tf.errors.InvalidArgumentError, match="decode limit"):
        loaded.signatures["explain_bytes"](images=tf.constant([b"\x89PNG\r\n\x1a\n" + ihdr]))


def test_served_explanations_through_both_clients(exported, classifier, start):
    server = start(exported["gradcam"].parent)
    try:
        grpc_client = StyleClient(f"127.0.0.1:{server.grpc_port}", "style")
        rest_client = RestStyleClient(f"http://127.0.0.1:{server.rest_port}", "style")
        for client in (grpc_client, rest_client):
            for encoded in (True, False):
                outputs = client.explain(IMAGES, encoded=encoded, timeout=30)
                _assert_equal_to_library(outputs, classifier, "gradcam", IMAGES)
            single = client.explain(IMAGES[0], target=5, timeout=30)
            assert single["heatmaps"].shape == (32, 32) and int(single["target"]) == 5
            np.testing.assert_allclose(single["heatmaps"], kv.gradcam(classifier, IMAGES[0], 5), atol=2e-5)
        with pytest.raises(ParameterError):
            grpc_client.explain(IMAGES, target=-1)
        grpc_client.close()
    finally:
        server.stop(grace=0)


def test_explaining_a_style_model_is_a_clear_error(server):
    with StyleClient(f"127.0.0.1:{server.grpc_port}", "style") as client:
        with pytest.raises(ServingError) as caught:
            client.explain(IMAGES, timeout=10)
    assert caught.value.code.name in ("FAILED_PRECONDITION", "INVALID_ARGUMENT")


def test_bad_arguments(classifier, tmp_path):
    with pytest.raises(ParameterError, match="method"):
        export_explainer(classifier, tmp_path / "x", "occlusion")
    with pytest.raises(ModelError, match="4-D"):
        export_explainer(classifier, tmp_path / "x", "gradcam", layer="pool")
    with pytest.raises(ParameterError, match="steps"):
        export_explainer(classifier, tmp_path / "x", "integrated_gradients", steps=0)
    assert not (tmp_path / "x").exists()
