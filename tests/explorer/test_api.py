"""The explorer's JSON API through aiohttp's test client (no browser): registry exposure, real
results that match the library's functions, and every bad request answered without harm."""

from __future__ import annotations

import re
import struct
import threading
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest

from kerasviz.explorer.state import STATE_KEY

from .api_client import ApiClient, decode, png

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Three small pictures and one corrupt file (skipped by the folder rule)."""
    from kerasviz.images import sample_image, save_image

    root = tmp_path_factory.mktemp("explorer-images")
    for name in ("chelsea", "coffee", "astronaut"):
        save_image(root / f"{name}.png", sample_image(name, size=48))
    (root / "broken.png").write_bytes(b"not an image")
    return root


@pytest.fixture(scope="module")
def small(zoo_sequential, folder, tmp_path_factory):
    """The explorer on the zoo's Sequential CNN (32 x 32, 10 classes), with an images folder."""
    from kerasviz.explorer import create_app

    app = create_app(lambda: zoo_sequential, images_folder=str(folder),
                     cache_dir=str(tmp_path_factory.mktemp("explorer-cache")), max_request_bytes=2_000_000)
    client = ApiClient(app)
    client.wait_ready()
    yield client
    client.close()


@pytest.fixture(scope="module")
def chelsea32():
    from kerasviz.images import sample_image

    return sample_image("chelsea", size=32)


def _upload(client: ApiClient, image: np.ndarray) -> str:
    status, body = client.json("POST", "/api/images", data=png(image), headers={"Content-Type": "image/png"})
    assert status == 200, body
    return body["image_id"]


def test_health_is_503_while_loading_then_200(zoo_sequential):
    from kerasviz.explorer import create_app

    release = threading.Event()

    def slow_loader():
        release.wait(60)
        return zoo_sequential

    client = ApiClient(create_app(slow_loader, warm_up=False))
    try:
        status, body = client.json("GET", "/api/health")
        assert (status, body["status"]) == (503, "loading")
        status, body = client.json("GET", "/api/model")
        assert status == 503 and "still loading" in body["error"]
        release.set()
        assert client.wait_ready(60)["status"] == "ok"
    finally:
        release.set()
        client.close()


def test_failed_load_is_reported_by_health():
    from kerasviz.errors import ModelError
    from kerasviz.explorer import create_app

    def broken():
        raise ModelError("no such model. Received: model='x.keras'")

    client = ApiClient(create_app(broken, warm_up=False))
    try:
        for _ in range(100):
            status, body = client.json("GET", "/api/health")
            if status != 503:
                break
            threading.Event().wait(0.05)
        assert status == 500 and "no such model" in body["error"]
    finally:
        client.close()


def test_techniques_come_from_the_registry(small, monkeypatch):
    from kerasviz.explorer import catalog
    from kerasviz.registry import TECHNIQUES, Option, Technique

    status, body = small.json("GET", "/api/techniques")
    assert status == 200
    assert [t["name"] for t in body["techniques"]] == [t.name for t in TECHNIQUES]
    smooth = next(t for t in body["techniques"] if t["name"] == "smoothgrad")
    registered = next(t for t in TECHNIQUES if t.name == "smoothgrad")
    assert [(o["name"], o["default"], o["help"]) for o in smooth["options"]] == [
        (o.name, o.default, o.help) for o in registered.options]
    assert smooth["options"][0]["type"] == "int" and smooth["title"] == registered.title
    rollout = next(t for t in body["techniques"] if t["name"] == "attention_rollout")
    assert rollout["targeted"] is False and rollout["options"][0]["choices"] == ["mean", "max", "min"]
    # a technique added to the registry appears with no change to the explorer
    extra = Technique("future_map", "Future map", "kerasviz.attribution.gradcam:gradcam", "relevance", "a new family",
                      options=(Option("epsilon", float, 1e-6, "stabilizer"),))
    monkeypatch.setattr(catalog, "TECHNIQUES", TECHNIQUES + (extra,))
    status, body = small.json("GET", "/api/techniques")
    assert body["techniques"][-1]["name"] == "future_map"
    assert body["techniques"][-1]["options"] == [
        {"name": "epsilon", "type": "float", "default": 1e-6, "help": "stabilizer", "choices": None, "repeat": False}]


def test_predict_matches_the_backbone(small, chelsea32, zoo_sequential):
    import kerasviz as kv

    image_id = _upload(small, chelsea32)
    status, body = small.json("POST", "/api/predict", json={"image_id": image_id, "top": 5})
    assert status == 200
    expected = kv.load_backbone(zoo_sequential).predict(chelsea32[None])[0]
    assert [c["index"] for c in body["classes"]] == list(np.argsort(-expected)[:5])
    np.testing.assert_allclose([c["probability"] for c in body["classes"]], np.sort(expected)[::-1][:5], atol=1e-5)
    # the file itself as the body works too (scripting), and so does a form upload
    status, body2 = small.json("POST", "/api/predict", data=png(chelsea32), headers={"Content-Type": "image/png"})
    assert status == 200 and body2["classes"][0]["index"] == body["classes"][0]["index"]


def test_explain_heatmap_is_the_technique_map(small, chelsea32, zoo_sequential):
    import kerasviz as kv
    from kerasviz.attribution.technique_maps import technique_map

    image_id = _upload(small, chelsea32)
    status, headers, data = small.call("POST", "/api/explain", json={
        "image_id": image_id, "technique": "gradcam", "target": 3, "view": "heatmap", "colormap": "gray"})
    assert status == 200 and headers["Content-Type"] == "image/png" and headers["X-Kerasviz-Target"] == "3"
    picture = decode(data)
    assert picture.shape == (32, 32, 3)
    expected = technique_map("gradcam", kv.load_backbone(zoo_sequential), chelsea32[None], 3)[0]
    assert np.abs(picture[..., 0] / 255.0 - expected).max() <= 1.5 / 255
    # options reach the technique: a different layer gives a different map
    status, _, other = small.call("POST", "/api/explain", json={
        "image_id": image_id, "technique": "gradcam", "target": 3, "view": "heatmap", "colormap": "gray",
        "options": {"layer": "conv1"}})
    expected = technique_map("gradcam", kv.load_backbone(zoo_sequential), chelsea32[None], 3, layer="conv1")[0]
    assert status == 200 and np.abs(decode(other)[..., 0] / 255.0 - expected).max() <= 1.5 / 255
    # overlay view, form upload with JSON options
    from aiohttp import FormData

    form = FormData()
    form.add_field("image", png(chelsea32), filename="cat.png", content_type="image/png")
    for key, value in {"technique": "saliency", "options": "{}", "alpha": "0.3"}.items():
        form.add_field(key, value)
    status, _, overlay = small.call("POST", "/api/explain", data=form)
    assert status == 200 and decode(overlay).shape == (32, 32, 3)


@pytest.mark.parametrize(
    "request_kwargs, status, words",
    [
        ({"data": b"\x89PNG garbage", "headers": {"Content-Type": "image/png"}}, 400, "Not a readable image"),
        ({"data": b"", "headers": {"Content-Type": "image/png"}}, 400, "names no image"),
        ({"json": {}}, 400, "names no image"),
        ({"json": {"image_id": "nope"}}, 400, "Unknown image id"),
        ({"json": {"sample": "../../etc/passwd"}}, 400, "Unknown sample"),
        ({"json": {"folder": 99}}, 400, "folder"),
        ({"json": {"folder": "/etc/passwd"}}, 400, "folder"),
        ({"data": "{not json", "headers": {"Content-Type": "application/json"}}, 400, "not valid JSON"),
        ({"data": "[1, 2]", "headers": {"Content-Type": "application/json"}}, 400, "must be an object"),
    ],
)
def test_bad_image_requests_get_400_with_the_reason(small, request_kwargs, status, words):
    got, body = small.json("POST", "/api/predict", **request_kwargs)
    assert got == status and words in body["error"], body


def _bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares a huge image (a decompression bomb's first bytes)."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_decode_limits_and_request_size_limits(small):
    status, body = small.json("POST", "/api/images", data=_bomb_png(30000, 30000), headers={"Content-Type": "image/png"})
    assert status == 400 and "pixels" in body["error"], body
    status, _, _ = small.call("POST", "/api/images", data=b"\0" * 3_000_000, headers={"Content-Type": "image/png"})
    assert status == 413


@pytest.mark.parametrize(
    "params, words",
    [
        ({"technique": "nope"}, "Unknown technique"),
        ({}, "`technique` is required"),
        ({"technique": "smoothgrad", "options": {"samples": "many"}}, "takes a int"),
        ({"technique": "smoothgrad", "options": {"bogus": 1}}, "has no option"),
        ({"technique": "attention_rollout", "options": {"head_fusion": "median"}}, "one of"),
        ({"technique": "gradcam", "target": 10}, "class index"),
        ({"technique": "gradcam", "options": {"layer": "no_such_layer"}}, "no_such_layer"),
        ({"technique": "gradcam", "view": "3d"}, "`view`"),
        ({"technique": "gradcam", "colormap": "rainbow"}, "`colormap`"),
        ({"technique": "gradcam", "alpha": 2}, "alpha"),
    ],
)
def test_bad_explain_requests_get_400_and_the_app_keeps_working(small, chelsea32, params, words):
    image_id = _upload(small, chelsea32)
    status, body = small.json("POST", "/api/explain", json={"image_id": image_id, **params})
    assert status == 400 and words in body["error"], body
    status, _, data = small.call("POST", "/api/explain", json={"image_id": image_id, "technique": "gradcam"})
    assert status == 200 and decode(data).shape == (32, 32, 3)
    assert small.json("GET", "/api/health")[0] == 200


def test_layers_and_activation_grid(small, chelsea32, zoo_sequential):
    import kerasviz as kv

    status, body = small.json("GET", "/api/layers")
    assert status == 200 and body["layers"] == kv.layer_names(small.app[STATE_KEY].workbench.backbone)
    assert "conv2" in body["layers"] and body["default"] == "conv3"
    image_id = _upload(small, chelsea32)
    status, headers, data = small.call("POST", "/api/activations", json={"image_id": image_id, "layer": "conv2"})
    assert status == 200 and headers["X-Kerasviz-Layer"] == "conv2"
    channels = [int(c) for c in headers["X-Kerasviz-Channels"].split(",")]
    maps, grid = kv.activation_maps(zoo_sequential, chelsea32, "conv2", tile_size=64, ncols=4)
    assert channels == list(np.argsort(-maps.mean(axis=(1, 2)), kind="stable")[:16])
    assert sorted(channels) == list(range(16)) and int(headers["X-Kerasviz-Columns"]) == 4
    np.testing.assert_array_equal(decode(data), grid)
    status, body = small.json("POST", "/api/activations", json={"image_id": image_id, "layer": "gap"})
    assert status == 400, body


def test_neuron_pictures_are_the_library_functions(small, chelsea32, zoo_sequential):
    import kerasviz as kv
    from kerasviz.images import gradient_image

    image_id = _upload(small, chelsea32)
    status, _, data = small.call("POST", "/api/neuron", json={
        "image_id": image_id, "layer": "conv2", "channel": 5, "view": "guided_backprop"})
    expected = gradient_image(kv.guided_backprop(zoo_sequential, chelsea32[None], layer="conv2", channel=5)[0])
    assert status == 200
    np.testing.assert_array_equal(decode(data), expected)
    status, _, data = small.call("POST", "/api/neuron", json={"image_id": image_id, "layer": "conv2", "channel": 5})
    assert status == 200 and decode(data).shape == (32, 32, 3)
    status, body = small.json("POST", "/api/neuron", json={"image_id": image_id, "layer": "conv2", "channel": 99})
    assert status == 400, body


def _wait_job(client: ApiClient, job_id: str, timeout: float = 300.0) -> dict:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = client.json("GET", f"/api/jobs/{job_id}")
        assert status == 200
        if body["state"] in ("done", "error", "cancelled"):
            return body
        time.sleep(0.1)
    raise TimeoutError(job_id)


@pytest.mark.slow
def test_feature_visualization_job_is_cached_and_cancellable(small):
    status, job = small.json("POST", "/api/jobs", json={"kind": "feature", "layer": "conv2", "channel": 1})
    assert status == 202
    done = _wait_job(small, job["id"])
    assert done["state"] == "done", done
    status, _, first = small.call("GET", f"/api/jobs/{job['id']}/result")
    assert status == 200 and decode(first).shape[2] == 3
    cached = list(Path(small.app[STATE_KEY].neurons.folder).rglob("1.png"))
    assert len(cached) == 1
    status, job = small.json("POST", "/api/jobs", json={"kind": "feature", "layer": "conv2", "channel": 1})
    assert _wait_job(small, job["id"])["state"] == "done"
    assert small.call("GET", f"/api/jobs/{job['id']}/result")[2] == first  # read back from disk
    # a new channel, cancelled at once: stops at its next step (or before it starts)
    status, job = small.json("POST", "/api/jobs", json={"kind": "feature", "layer": "conv3", "channel": 2})
    status, cancelled = small.json("DELETE", f"/api/jobs/{job['id']}")
    assert status == 200
    assert _wait_job(small, job["id"])["state"] == "cancelled"
    status, body = small.json("GET", f"/api/jobs/{job['id']}/result")
    assert status == 409 and "cancelled" in body["error"]
    assert small.json("POST", "/api/jobs", json={"kind": "dream", "layer": "conv2", "channel": 1})[0] == 400
    assert small.json("GET", "/api/jobs/unknown")[0] == 400


def test_top_patches_come_from_the_folder_by_index(small, folder):
    status, body = small.json("GET", "/api/folder")
    assert status == 200 and body["images"] == ["astronaut.png", "chelsea.png", "coffee.png"]
    assert all("/" not in name and str(folder) not in name for name in body["images"])
    status, image = small.json("POST", "/api/images", json={"folder": 1})
    assert status == 200 and (image["height"], image["width"]) == (32, 32)
    status, job = small.json("POST", "/api/jobs", json={"kind": "patches", "layer": "conv3", "channel": 0})
    assert status == 202
    assert _wait_job(small, job["id"])["state"] == "done"
    status, _, data = small.call("GET", f"/api/jobs/{job['id']}/result")
    assert status == 200 and decode(data).ndim == 3
    assert list(Path(small.app[STATE_KEY].neurons.folder).glob("index-3-32x32-*.npy"))


def test_page_has_every_test_hook_and_no_remote_assets(small):
    status, headers, data = small.call("GET", "/")
    html = data.decode()
    assert status == 200 and "default-src 'self'" in headers["Content-Security-Policy"]
    hooks = {
        "image-input": r'<input type="file"[^>]*data-testid="image-input"',
        "technique-select": r'<select[^>]*data-testid="technique-select"',
        "class-select": r'<select[^>]*data-testid="class-select"',
        "layer-select": r'<select[^>]*data-testid="layer-select"',
        "run": r'<button[^>]*data-testid="run"',
        "result-image": r'<img[^>]*data-testid="result-image"',
        "activation-grid": r'<img[^>]*data-testid="activation-grid"',
        "status": r'data-testid="status"',
    }
    for hook, pattern in hooks.items():
        assert re.search(pattern, html), hook
    assert not re.search(r'(src|href)="(https?:)?//', html)
    for asset in ("/static/app.js", "/static/style.css"):
        status, _, body = small.call("GET", asset)
        assert status == 200 and b"http://" not in body and b"https://" not in body
    assert small.call("GET", "/static/../app.py")[0] in (403, 404)


@pytest.mark.slow
def test_stylize_with_the_bundled_network(small, chelsea32):
    from kerasviz.faststyle import stylize
    from kerasviz.faststyle.weights import load_demo_network

    status, body = small.json("GET", "/api/styles")
    assert status == 200 and body["styles"] == ["starry_night", "great_wave", "udnie"]
    image_id = _upload(small, chelsea32)
    status, _, data = small.call("POST", "/api/stylize", json={"image_id": image_id, "weights": [1, 1, 0]})
    assert status == 200
    net, _ = load_demo_network()
    np.testing.assert_array_equal(decode(data), stylize(net, small.app[STATE_KEY].store.get(image_id), [0.5, 0.5, 0.0]))
    for weights in ([1, 0], [0, 0, 0], [-1, 1, 1], "abc"):
        status, body = small.json("POST", "/api/stylize", json={"image_id": image_id, "weights": weights})
        assert status == 400 and "weights" in body["error"], body


@pytest.mark.slow
def test_every_registered_technique_runs_or_says_why(small, chelsea32):
    from kerasviz.registry import TECHNIQUES

    image_id = _upload(small, chelsea32)
    for technique in TECHNIQUES:
        status, headers, data = small.call("POST", "/api/explain", json={
            "image_id": image_id, "technique": technique.name, "view": "heatmap"})
        if "attention" in technique.needs:
            assert status == 400, technique.name  # a CNN has no attention layers: a clear refusal
        else:
            assert status == 200 and decode(data).shape == (32, 32, 3), (technique.name, data[:200])


def test_binds_loopback_by_default_and_warns_otherwise(monkeypatch):
    from kerasviz.explorer import server

    bound = []
    monkeypatch.setattr(server.web, "run_app", lambda app, host, port, **kwargs: bound.append((host, port)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        server.serve(object(), port=8050)
    with pytest.warns(UserWarning, match="anyone who can reach this machine"):
        server.serve(object(), host="0.0.0.0", port=8051)
    assert bound == [("127.0.0.1", 8050), ("0.0.0.0", 8051)]
    assert server.is_loopback("::1") and server.is_loopback("localhost") and not server.is_loopback("192.168.1.2")
