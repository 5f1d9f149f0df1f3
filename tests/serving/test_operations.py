"""TF Serving operational parity: model config files (several models, version policies, labels,
reloads), server-side batching, Prometheus metrics."""

from __future__ import annotations

import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import numpy as np
import pytest
import tensorflow as tf

from kerasviz.errors import ParameterError
from kerasviz.serving import ModelConfigOptions, OperationsOptions, ServingServer
from kerasviz.serving.config import read_batching_parameters, read_model_config

NO_POLLING = ModelConfigOptions(file_system_poll_wait_seconds=0)
IMAGES = np.random.default_rng(6).uniform(0, 255, (1, 16, 16, 3)).astype(np.float32)



def _config(path, models):
    entries = []
    for name, base, policy, labels in models:
        label_text = "".join(f'    version_labels {{ key: "{k}" value: {v} }}\n' for k, v in labels.items())
        entries.append(
            f'  config {{\n    name: "{name}"\n    base_path: "{base}"\n    model_platform: "tensorflow"\n'
            f"    model_version_policy {{ {policy} }}\n{label_text}  }}\n"
        )
    path.write_text("model_config_list {\n" + "".join(entries) + "}\n")
    return str(path)


@pytest.fixture(scope="module")
def three_versions(tmp_path_factory, single_base):
    base = tmp_path_factory.mktemp("versions")
    for version in (1, 2, 3):
        shutil.copytree(single_base / "1", base / str(version))
    return base


def test_model_config_file_policies_labels_and_reload(tmp_path, three_versions, multi_base, grpc_predict, http, wait_for):
    path = _config(tmp_path / "models.config", [
        ("style", three_versions, "specific { versions: 1 versions: 3 }", {"stable": 1, "canary": 3}),
        ("multi", multi_base, "all {}", {}),
    ])
    config = ModelConfigOptions(model_config_file=path, file_system_poll_wait_seconds=0, model_config_file_poll_wait_seconds=0.1)
    server = ServingServer(model_config=config, rest_api_port=0, port=0)
    server.start()
    try:
        assert sorted(server.models) == ["multi", "style"]
        assert server.models["style"].served_versions() == [3, 1]
        assert grpc_predict(server.grpc_port, {"images": IMAGES}).model_spec.version.value == 3
        with pytest.raises(grpc.RpcError) as caught:
            grpc_predict(server.grpc_port, {"images": IMAGES}, version=2)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND

        from tensorflow_serving.apis import predict_pb2

        request = predict_pb2.PredictRequest()
        request.model_spec.name, request.model_spec.version_label = "style", "stable"
        request.inputs["images"].CopyFrom(tf.make_tensor_proto(IMAGES))
        assert grpc_predict(server.grpc_port, {}, raw=request).model_spec.version.value == 1
        request.model_spec.version_label = "nope"
        with pytest.raises(grpc.RpcError) as caught:
            grpc_predict(server.grpc_port, {}, raw=request)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        rest = f"http://127.0.0.1:{server.rest_port}/v1/models"
        assert http(f"{rest}/style/labels/canary:predict", {"instances": IMAGES.tolist()})[0] == 200
        weights = [[1.0, 0.0, 0.0]]
        code, _ = http(f"{rest}/multi:predict", {"inputs": {"images": IMAGES.tolist(), "style_weights": weights}})
        assert code == 200

        _config(tmp_path / "models.config", [("style", three_versions, "latest { num_versions: 2 }", {})])
        assert wait_for(lambda: sorted(server.models) == ["style"] and server.models["style"].served_versions() == [3, 2])
        assert http(f"{rest}/multi")[0] == 404
        (tmp_path / "models.config").write_text("model_config_list { config { name: ")  # broken: kept as is
        time.sleep(0.3)  # several reload attempts (poll 0.1 s); nothing may change
        assert sorted(server.models) == ["style"]
    finally:
        server.stop(grace=0)


def test_config_files_are_validated(tmp_path, single_base):
    with pytest.raises(ParameterError, match="model_config_file"):
        read_model_config(str(tmp_path / "missing"))
    bad = tmp_path / "bad.config"
    bad.write_text('model_config_list { config { name: "a" base_path: "/does/not/exist" } }')
    with pytest.raises(ParameterError, match="base_path"):
        read_model_config(str(bad))
    batching = tmp_path / "batching.txt"
    batching.write_text("max_batch_size { value: 8 }\nallowed_batch_sizes: 2\nallowed_batch_sizes: 4\n")
    with pytest.raises(ParameterError, match="allowed_batch_sizes"):
        read_batching_parameters(str(batching))
    with pytest.raises(ParameterError):
        ServingServer("style", single_base, model_config=ModelConfigOptions(model_config_file=str(bad)))


def test_server_side_batching_merges_same_shaped_requests(tmp_path, single_base, grpc_predict, direct):
    params = tmp_path / "batching.txt"
    params.write_text(
        "max_batch_size { value: 8 }\nbatch_timeout_micros { value: 200000 }\nmax_enqueued_batches { value: 4 }\n"
        "num_batch_threads { value: 1 }\nallowed_batch_sizes: 4\nallowed_batch_sizes: 8\n"
    )
    server = ServingServer("style", single_base, rest_api_port=None, model_config=NO_POLLING,
                           operations=OperationsOptions(enable_batching=True, batching_parameters_file=str(params)))
    server.start()
    try:
        rng = np.random.default_rng(0)
        images = [rng.uniform(0, 255, (1, 16, 16, 3)).astype(np.float32) for _ in range(8)]
        barrier = threading.Barrier(8)

        def one(image):
            barrier.wait(10)
            return tf.make_ndarray(grpc_predict(server.grpc_port, {"images": image}).outputs["stylized"])

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(one, images))
        assert max(server.batcher.batch_sizes) > 1, list(server.batcher.batch_sizes)
        for image, result in zip(images, results):
            np.testing.assert_allclose(result, direct(single_base, "serving_default", {"images": image})["stylized"], atol=1e-3)
        with pytest.raises(grpc.RpcError) as caught:
            grpc_predict(server.grpc_port, {"images": np.zeros((9, 8, 8, 3), np.float32)})
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "maximum batch size" in caught.value.details()
    finally:
        server.stop(grace=0)


def test_one_bad_request_in_a_batch_fails_alone(tmp_path, single_base, grpc_predict, direct):
    """Before: a junk image in `stylize_bytes` failed every request batched with it."""
    params = tmp_path / "batching.txt"
    params.write_text("max_batch_size { value: 4 }\nbatch_timeout_micros { value: 500000 }\nnum_batch_threads { value: 1 }\n")
    server = ServingServer("style", single_base, rest_api_port=None, model_config=NO_POLLING,
                           operations=OperationsOptions(enable_batching=True, batching_parameters_file=str(params)))
    server.start()
    try:
        pngs = [tf.io.encode_png(np.full((12, 12, 3), 40 * i, np.uint8)).numpy() for i in range(3)]
        payloads = [*pngs, b"junk image"]
        barrier = threading.Barrier(4)

        def one(data):
            barrier.wait(10)
            try:
                reply = grpc_predict(server.grpc_port, {"images": np.array([data], dtype=object)}, signature="stylize_bytes")
                return tf.make_ndarray(reply.outputs["stylized"])
            except grpc.RpcError as error:
                return error

        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(one, payloads))
        assert 4 in server.batcher.batch_sizes, list(server.batcher.batch_sizes)  # they were one batch
        for data, result in zip(pngs, results[:3]):
            expected = direct(single_base, "stylize_bytes", {"images": np.array([data], dtype=object)})["stylized"]
            assert not isinstance(result, grpc.RpcError), result
            assert result.tolist() == expected.tolist()
        assert results[3].code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "PNG, JPEG or BMP" in results[3].details()
    finally:
        server.stop(grace=0)


def test_prometheus_metrics_with_tf_serving_names(tmp_path, single_base, grpc_predict, http):
    monitoring = tmp_path / "monitoring.config"
    monitoring.write_text("prometheus_config { enable: true }\n")
    server = ServingServer("style", single_base, model_config=NO_POLLING,
                           operations=OperationsOptions(monitoring_config_file=str(monitoring)))
    server.start()
    try:
        grpc_predict(server.grpc_port, {"images": IMAGES})
        for name in ("nope", *(f"nope-{i}" for i in range(20))):  # each made a new series before
            http(f"http://127.0.0.1:{server.rest_port}/v1/models/{name}:predict", {"instances": [1]})
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{server.rest_port}/monitoring/prometheus/metrics", timeout=10) as reply:
            text = reply.read().decode()
        assert ':tensorflow:serving:request_count{model_name="style",status="OK"} 1.0' in text
        assert ':tensorflow:serving:request_count{model_name="__unknown__",status="NOT_FOUND"} 21.0' in text
        assert "nope" not in text  # unknown names are one bounded series, not one each
        assert "# TYPE :tensorflow:serving:request_latency histogram" in text
        assert ':tensorflow:serving:request_latency_count{API="predict",entrypoint="GRPC",model_name="style"} 1.0' in text
        assert ':tensorflow:serving:runtime_latency_count{API="predict",model_name="style",runtime="TF2"} 1.0' in text
    finally:
        server.stop(grace=0)
    plain = ServingServer("style", single_base, model_config=NO_POLLING)
    plain.start()
    try:
        assert http(f"http://127.0.0.1:{plain.rest_port}/monitoring/prometheus/metrics")[0] == 404
    finally:
        plain.stop(grace=0)
