"""The JSON API: one handler per route, each reading its image and parameters and running the
model work on the compute thread. Errors are answered by `app.error_middleware`."""

from __future__ import annotations

import time
from typing import Any, Dict, Tuple

import numpy as np
from aiohttp import web

from ..errors import ParameterError
from .pictures import png_bytes
from .request_params import image_reference, read_request
from .state import STATE_KEY, ExplorerState

__all__ = ["add_routes", "API_ROUTES"]

#: `(method, path, what it does)` of every API route, as the README documents them.
API_ROUTES = (
    ("GET", "/api/health", "200 `{status: ok}` once the model is loaded; 503 while loading"),
    ("GET", "/api/model", "model name, input size, classes, default layer"),
    ("GET", "/api/techniques", "the technique registry: names, titles, options (type, default, help, choices)"),
    ("GET", "/api/layers", "every layer name (nested models, operation nodes) and the default layer"),
    ("GET", "/api/samples", "bundled sample pictures; `/api/folder`: the images folder's file names"),
    ("POST", "/api/images", "decode an image (file body, form field `image`, `sample` or `folder` index) -> `{image_id}`"),
    ("GET", "/api/images/{id}", "that image as the model sees it (PNG)"),
    ("POST", "/api/predict", "top classes `{classes: [{index, label, probability}]}`"),
    ("POST", "/api/explain", "`technique`, `target`, `options`, `view`, `alpha` -> PNG"),
    ("POST", "/api/activations", "`layer`, `max_tiles` -> activation grid PNG (`X-Kerasviz-Channels`)"),
    ("POST", "/api/neuron", "`layer`, `channel`, `view` = activation | guided_backprop -> PNG"),
    ("POST", "/api/jobs", "`kind` = feature | patches, `layer`, `channel` -> a job; "
     "GET / DELETE `/api/jobs/{id}`, GET `/api/jobs/{id}/result`"),
    ("GET", "/api/styles", "the bundled fast-style network's styles"),
    ("POST", "/api/stylize", "`weights` (one per style) -> PNG"),
)


def _state(request: web.Request) -> ExplorerState:
    return request.app[STATE_KEY]


def _png(data: bytes, headers: Dict[str, str] | None = None) -> web.Response:
    return web.Response(body=data, content_type="image/png", headers={"Cache-Control": "no-store", **(headers or {})})


async def _image(request: web.Request) -> Tuple[Dict[str, Any], str, np.ndarray]:
    """Parameters, the image id and the image of a request (new images are decoded and kept)."""
    state = _state(request)
    state.ready()
    params, data = await read_request(request)
    kind, value = image_reference(params, data)
    store = state.store
    if kind == "image_id":
        key = str(value)
    elif kind == "bytes":
        key = await state.run(store.add_bytes, value)
    elif kind == "sample":
        key = await state.run(store.add_sample, value)
    else:
        key = await state.run(store.add_folder_image, value)
    return params, key, store.get(key)


async def health(request: web.Request) -> web.Response:
    """`GET /api/health`."""
    state = _state(request)
    if state.workbench is not None:
        return web.json_response({"status": "ok", "model": state.workbench.backbone.name,
                                  "loaded_in_seconds": round(state.loaded_in or 0.0, 2)})
    if state.load_error is not None:
        return web.json_response({"status": "error", "error": state.load_error}, status=500)
    return web.json_response({"status": "loading"}, status=503)


async def model(request: web.Request) -> web.Response:
    """`GET /api/model`."""
    return web.json_response(_state(request).ready().model_info())


async def techniques(request: web.Request) -> web.Response:
    """`GET /api/techniques`."""
    return web.json_response({"techniques": _state(request).ready().techniques()})


async def layers(request: web.Request) -> web.Response:
    """`GET /api/layers`."""
    workbench = _state(request).ready()
    return web.json_response({"layers": workbench.layers, "default": workbench.backbone.gradcam_layer})


async def samples(request: web.Request) -> web.Response:
    """`GET /api/samples`."""
    from .image_store import ImageStore

    return web.json_response({"samples": list(ImageStore.samples())})


async def folder(request: web.Request) -> web.Response:
    """`GET /api/folder`: file names of the images folder (refer to them by index)."""
    state = _state(request)
    state.ready()
    return web.json_response({"images": state.store.folder_names()})


async def add_image(request: web.Request) -> web.Response:
    """`POST /api/images`."""
    _, key, image = await _image(request)
    return web.json_response({"image_id": key, "height": int(image.shape[0]), "width": int(image.shape[1])})


async def get_image(request: web.Request) -> web.Response:
    """`GET /api/images/{id}`."""
    state = _state(request)
    state.ready()
    return _png(png_bytes(state.store.get(request.match_info["id"])))


async def predict(request: web.Request) -> web.Response:
    """`POST /api/predict`."""
    params, key, image = await _image(request)
    state = _state(request)
    started = time.perf_counter()
    classes = await state.run(state.workbench.predict, image, params.get("top", 5))
    return web.json_response({"image_id": key, "classes": classes, "seconds": round(time.perf_counter() - started, 4)})


async def explain(request: web.Request) -> web.Response:
    """`POST /api/explain`."""
    params, key, image = await _image(request)
    state = _state(request)
    workbench = state.workbench
    technique = params.get("technique")
    if not technique:
        raise ParameterError("`technique` is required (GET /api/techniques lists them). Received: technique=None")
    started = time.perf_counter()

    def work() -> Tuple[bytes, Any]:
        heatmap, target = workbench.explain(image, technique, params.get("target"), params.get("options"))
        picture = workbench.picture(image, heatmap, params.get("view", "overlay"), params.get("colormap", "jet"),
                                    params.get("alpha", 0.5))
        return png_bytes(picture), target

    data, target = await state.run(work)
    return _png(data, {
        "X-Kerasviz-Image-Id": key,
        "X-Kerasviz-Target": "" if target is None else str(target),
        "X-Kerasviz-Seconds": f"{time.perf_counter() - started:.4f}",
    })


async def activations(request: web.Request) -> web.Response:
    """`POST /api/activations`."""
    params, key, image = await _image(request)
    state = _state(request)
    workbench = state.workbench
    layer = workbench.check_layer(params.get("layer"))
    started = time.perf_counter()
    grid, channels, ncols = await state.run(workbench.activation_grid, image, layer, params.get("max_tiles", 64))
    return _png(png_bytes(grid), {
        "X-Kerasviz-Image-Id": key,
        "X-Kerasviz-Layer": layer.encode("ascii", "replace").decode(),
        "X-Kerasviz-Channels": ",".join(map(str, channels)),
        "X-Kerasviz-Columns": str(ncols),
        "X-Kerasviz-Seconds": f"{time.perf_counter() - started:.4f}",
    })


async def neuron(request: web.Request) -> web.Response:
    """`POST /api/neuron`."""
    params, key, image = await _image(request)
    state = _state(request)
    workbench = state.workbench
    view = str(params.get("view", "activation"))
    if view not in ("activation", "guided_backprop"):
        raise ParameterError(f"`view` is 'activation' or 'guided_backprop'. Received: view={view!r}")
    function = workbench.neuron_map if view == "activation" else workbench.neuron_guided_backprop
    picture = await state.run(function, image, params.get("layer"), params.get("channel"))
    return _png(png_bytes(picture), {"X-Kerasviz-Image-Id": key})


async def start_job(request: web.Request) -> web.Response:
    """`POST /api/jobs`."""
    state = _state(request)
    state.ready()
    params, _ = await read_request(request)
    kind = str(params.get("kind"))
    if kind not in ("feature", "patches"):
        raise ParameterError(f"`kind` is 'feature' or 'patches'. Received: kind={kind!r}")
    layer = state.workbench.check_layer(params.get("layer"))
    channel = params.get("channel")
    if kind == "patches":
        state.store.folder_path(0)  # answers 400 now when there is no images folder
    cache = state.neurons
    function = cache.feature if kind == "feature" else cache.patches
    job = state.jobs.submit(kind, lambda report: function(layer, channel, report))
    return web.json_response(job.as_json(), status=202)


async def job_status(request: web.Request) -> web.Response:
    """`GET /api/jobs/{id}`."""
    return web.json_response(_state(request).jobs.get(request.match_info["id"]).as_json())


async def cancel_job(request: web.Request) -> web.Response:
    """`DELETE /api/jobs/{id}`."""
    return web.json_response(_state(request).jobs.cancel(request.match_info["id"]).as_json())


async def job_result(request: web.Request) -> web.Response:
    """`GET /api/jobs/{id}/result`: the PNG once done (409 before)."""
    job = _state(request).jobs.get(request.match_info["id"])
    if job.state != "done" or job.result is None:
        return web.json_response({"error": f"The job is {job.state}: {job.message}", **job.as_json()}, status=409)
    return _png(job.result)


async def styles(request: web.Request) -> web.Response:
    """`GET /api/styles`."""
    state = _state(request)
    return web.json_response({"styles": await state.run(state.style.styles)})


async def stylize(request: web.Request) -> web.Response:
    """`POST /api/stylize`."""
    params, key, image = await _image(request)
    state = _state(request)
    picture = await state.run(state.style.stylize, image, params.get("weights"))
    return _png(png_bytes(picture), {"X-Kerasviz-Image-Id": key})


def add_routes(app: web.Application) -> None:
    """Add every API route to an application."""
    app.router.add_get("/api/health", health)
    app.router.add_get("/api/model", model)
    app.router.add_get("/api/techniques", techniques)
    app.router.add_get("/api/layers", layers)
    app.router.add_get("/api/samples", samples)
    app.router.add_get("/api/folder", folder)
    app.router.add_post("/api/images", add_image)
    app.router.add_get("/api/images/{id}", get_image)
    app.router.add_post("/api/predict", predict)
    app.router.add_post("/api/explain", explain)
    app.router.add_post("/api/activations", activations)
    app.router.add_post("/api/neuron", neuron)
    app.router.add_post("/api/jobs", start_job)
    app.router.add_get("/api/jobs/{id}", job_status)
    app.router.add_delete("/api/jobs/{id}", cancel_job)
    app.router.add_get("/api/jobs/{id}/result", job_result)
    app.router.add_get("/api/styles", styles)
    app.router.add_post("/api/stylize", stylize)
