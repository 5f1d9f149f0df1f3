"""The explorer's aiohttp application: the page and its static files, the API, and the error
middleware that turns every failure into one JSON answer (the process never dies of a request)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Awaitable, Callable, Optional

from aiohttp import web

from ..errors import KerasvizError
from .routes import add_routes
from .state import STATE_KEY, ExplorerState, ModelNotReady

__all__ = ["create_app", "STATIC_DIR", "DEFAULT_MAX_REQUEST_BYTES"]

_log = logging.getLogger(__name__)

#: The page: index.html, app.js, style.css (no CDN; works offline).
STATIC_DIR = Path(__file__).with_name("static")
#: Largest request body (an upload) accepted, in bytes.
DEFAULT_MAX_REQUEST_BYTES = 20 * 1024 * 1024

_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; "
    "style-src 'self'; script-src 'self'; connect-src 'self'",
}


@web.middleware
async def error_middleware(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """Answer every failure of a handler with JSON `{error}`: 400 for a bad request (a
    `KerasvizError`: the message says what was wrong), 503 while the model loads, the HTTP status of
    aiohttp's own refusals (413 for a too-large body), 500 for a bug (logged)."""
    try:
        response = await handler(request)
    except ModelNotReady as error:
        response = web.json_response({"error": str(error)}, status=error.status)
    except KerasvizError as error:
        response = web.json_response({"error": " ".join(str(error).split()), "type": type(error).__name__}, status=400)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        response = web.json_response({"error": error.reason if not error.text else error.text}, status=error.status)
    except Exception as error:
        _log.exception("explorer: %s %s failed", request.method, request.path)
        response = web.json_response({"error": f"Internal error ({type(error).__name__}: {error})"}, status=500)
    for key, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    return response


async def _index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-store"})


def create_app(
    load_model: Callable[[], Any],
    *,
    images_folder: Optional[str] = None,
    cache_dir: Optional[str] = None,
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
    warm_up: bool = True,
) -> web.Application:
    """Build the explorer application (the model loads on a thread once the app starts).

    Args:
        load_model: Returns a `kerasviz.Backbone` or a Keras classifier taking pixels in `[0, 255]`.
        images_folder: Folder of images for the image picker and the top patches, or None.
        cache_dir: Where feature visualizations and the patch index are cached on disk.
        max_request_bytes: Largest request body, > 0 (HTTP 413 beyond).
        warm_up: Trace Grad-CAM and an activation grid before `/api/health` answers 200.

    Returns:
        An `aiohttp.web.Application` (run it with `kerasviz.explorer.serve` or aiohttp's test client).
    """
    app = web.Application(client_max_size=int(max_request_bytes), middlewares=[error_middleware])
    state = ExplorerState(load_model, images_folder, cache_dir, warm_up)
    app[STATE_KEY] = state
    app.router.add_get("/", _index)
    app.router.add_static("/static/", STATIC_DIR, show_index=False, follow_symlinks=False)
    add_routes(app)

    async def on_startup(app: web.Application) -> None:
        state.start()

    async def on_cleanup(app: web.Application) -> None:
        state.close()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app
