"""TF Serving's REST API on aiohttp: predict, model status and metadata (JSON in `rest_json`), errors
as `{"error": "..."}` with TF Serving's HTTP codes, and the Prometheus metrics when enabled.

A predict request's body must arrive within `body_timeout_seconds` (408 otherwise), and only then
does it take one of `max_concurrent_requests` slots, so slow senders cannot lock anyone out; status
and metadata requests take no slot. The request runs under a deadline (`--rest_api_timeout_in_ms`,
or less with the `X-Request-Timeout-Ms` header; 504 when it passes) and stops between chunks of its
batch once the deadline passes or the client closes the connection."""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import threading
import time
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

import grpc
from aiohttp import web

from .errors import ServingError, code_from_http
from .metrics import Metrics
from .models import ModelManager
from .rest_headers import header_deadline_middleware
from .rest_json import format_predict_outputs, metadata_json, parse_predict_body, status_json
from .servable import Call, Servable
from .versions import MAX_VERSION

__all__ = ["make_app", "RestOptions", "DEADLINE_HEADER"]

#: Request header asking for a shorter deadline than the server's `--rest_api_timeout_in_ms`.
DEADLINE_HEADER = "X-Request-Timeout-Ms"

_INVALID = grpc.StatusCode.INVALID_ARGUMENT
_PATH = re.compile(
    r"^(?P<name>[^/:]+)(?:/versions/(?P<version>\d+)|/labels/(?P<label>[^/:]+))?"
    r"(?P<suffix>:predict|:classify|:regress|/metadata)?$"
)


def _error(error: ServingError) -> web.Response:
    return web.json_response({"error": error.message}, status=error.http_status)


def _deadline_seconds(request: web.Request, default_ms: int) -> Optional[float]:
    """Seconds this request may take: the `X-Request-Timeout-Ms` header, at most the server default."""
    header = request.headers.get(DEADLINE_HEADER)
    limit = default_ms if default_ms > 0 else None
    if header is not None:
        try:
            asked = int(header)
        except ValueError:
            raise ServingError(_INVALID, f"{DEADLINE_HEADER} must be a whole number of milliseconds") from None
        if asked <= 0:
            raise ServingError(_INVALID, f"{DEADLINE_HEADER} must be positive")
        limit = asked if limit is None else min(asked, limit)
    return None if limit is None else limit / 1000.0


def _release_after(slots: threading.BoundedSemaphore):
    """A done-callback freeing a slot (and consuming the result of work nobody waits for any more)."""

    def done(future: "asyncio.Future") -> None:
        slots.release()
        if not future.cancelled():
            future.exception()

    return done


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        reason = "it is nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise ServingError(_INVALID, f"the request body is not valid JSON: {reason}") from None


@dataclass
class RestOptions:
    """Limits of the REST API.

    Attributes:
        max_concurrent_requests: Predict requests running at once; more get 429. A slot is
            taken only once the whole body has arrived; status and metadata need none.
        max_body_bytes: Largest request body (413 beyond) and response (RESOURCE_EXHAUSTED).
        auth_token: If set, every request needs `Authorization: Bearer <token>` (else 401).
        body_timeout_seconds: Time a client has to send its whole body (408 after).
        header_timeout_seconds: Time a client has to send a request's headers (408 and the
            connection closed after; applied by `RestLoop`).
        timeout_ms: Default deadline of a predict request (504 after; 0 = none); a request may
            ask for less with the `X-Request-Timeout-Ms` header.
        metrics_path: Path of the Prometheus metrics (None = not served).
    """

    max_concurrent_requests: int = 64
    max_body_bytes: int = 16 * 1024 * 1024
    auth_token: Optional[str] = None
    body_timeout_seconds: float = 30.0
    header_timeout_seconds: float = 30.0
    timeout_ms: int = 30_000
    metrics_path: Optional[str] = None


def make_app(
    models: Dict[str, ModelManager],
    executor: Executor,
    options: RestOptions,
    batcher: Any = None,
    metrics: Optional[Metrics] = None,
) -> web.Application:
    """The aiohttp application of TF Serving's REST API.

    Args:
        models: Served models by name (looked up per request: a config reload may change it).
        executor: Threads that decode JSON and run the model (the event loop never blocks).
        options: Limits, token, timeouts and the metrics path.
        batcher: A `BatchScheduler` for server-side batching, or None.
        metrics: Where requests are counted, or None.

    Returns:
        The application (routes under `/v1/models/`, and the metrics path when enabled).
    """
    slots = threading.BoundedSemaphore(options.max_concurrent_requests)
    expected = f"Bearer {options.auth_token}".encode() if options.auth_token else None
    max_bytes = options.max_body_bytes

    @web.middleware
    async def guard(request: web.Request, handler):
        if expected is not None and not hmac.compare_digest(
            request.headers.get("Authorization", "").encode("utf-8", "replace"), expected
        ):
            return _error(ServingError(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong bearer token"))
        try:
            return await handler(request)
        except ServingError as error:
            return _error(error)
        except web.HTTPRequestEntityTooLarge:
            return web.json_response({"error": f"request body larger than the limit of {max_bytes} bytes"}, status=413)
        except web.HTTPException as error:  # unknown path, wrong method: still TF Serving's JSON shape
            return web.json_response({"error": f"{error.reason}: {request.method} {request.path}"}, status=error.status)

    def resolve(request: web.Request) -> Tuple[ModelManager, Optional[int], str]:
        match = _PATH.match(request.match_info["tail"])
        if match is None:
            raise ServingError(grpc.StatusCode.NOT_FOUND, f"unknown path {request.path}")
        name, version, label, suffix = match.group("name", "version", "label", "suffix")
        manager = models.get(name)
        if manager is None:
            raise ServingError(grpc.StatusCode.NOT_FOUND, f"Servable not found for request: model '{name}'")
        if label is not None:
            return manager, manager.resolve_label(label), suffix or ""
        if version is not None and not 0 < int(version) <= MAX_VERSION:
            raise ServingError(_INVALID, f"version {version} is not a positive int64")
        return manager, (int(version) if version else None), suffix or ""

    async def get(request: web.Request) -> web.Response:
        manager, version, suffix = resolve(request)
        if suffix == "":
            return web.json_response(status_json(manager, version))
        if suffix == "/metadata":
            return web.json_response(metadata_json(manager, manager.servable(version)))
        raise ServingError(grpc.StatusCode.NOT_FOUND, f"use POST for {suffix}")

    def run_predict(manager: ModelManager, servable: Servable, raw: bytes, call: Call) -> bytes:
        body = _parse_json(raw)
        signature_name = body.get("signature_name", "") if isinstance(body, dict) else ""
        if not isinstance(signature_name, str):
            raise ServingError(_INVALID, '"signature_name" must be a string')
        name, signature = servable.signature(signature_name)
        try:
            arrays, row_format = parse_predict_body(body, signature)
        except RecursionError:
            raise ServingError(_INVALID, "the request body is nested too deeply") from None
        started = time.perf_counter()
        outputs = servable.predict(name, arrays, None, call, batcher)
        if metrics is not None:
            metrics.observe_runtime(manager.name, time.perf_counter() - started)
        payload = json.dumps(format_predict_outputs(outputs, row_format)).encode()
        if len(payload) > max_bytes:
            raise ServingError(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"the response has {len(payload)} bytes, more than --max_message_bytes={max_bytes}; "
                "ask for fewer images per request",
                http_status=500,
            )
        return payload

    async def post(request: web.Request) -> web.Response:
        start = time.perf_counter()
        code, model = grpc.StatusCode.OK, re.split("[/:]", request.match_info["tail"], maxsplit=1)[0]
        try:
            manager, version, suffix = resolve(request)
            model = manager.name
            if suffix != ":predict":
                raise ServingError(grpc.StatusCode.UNIMPLEMENTED, f"only :predict is served, not {suffix or 'POST'}")
            seconds = _deadline_seconds(request, options.timeout_ms)
            try:
                raw = await asyncio.wait_for(request.read(), options.body_timeout_seconds)
            except asyncio.TimeoutError:
                raise ServingError(
                    grpc.StatusCode.DEADLINE_EXCEEDED,
                    f"the request body did not arrive within {options.body_timeout_seconds} s",
                    http_status=408,
                ) from None
            servable = manager.servable(version)
            if not slots.acquire(blocking=False):
                raise ServingError(grpc.StatusCode.RESOURCE_EXHAUSTED, "too many concurrent requests")
            transport = request.transport
            deadline = None if seconds is None else time.monotonic() + seconds
            call = Call(deadline, lambda: transport is None or transport.is_closing())
            try:
                work = asyncio.get_running_loop().run_in_executor(executor, run_predict, manager, servable, raw, call)
            except BaseException:
                slots.release()
                raise
            work.add_done_callback(_release_after(slots))  # the slot is held while the work runs
            try:
                payload = await asyncio.wait_for(asyncio.shield(work), seconds)
            except asyncio.TimeoutError:
                raise ServingError(grpc.StatusCode.DEADLINE_EXCEEDED, f"Deadline of {seconds * 1000:.0f} ms exceeded") from None
            return web.Response(body=payload, content_type="application/json")
        except ServingError as error:
            code = error.code
            raise
        except web.HTTPException as error:
            code = code_from_http(error.status)
            raise
        finally:
            if metrics is not None:
                metrics.observe(model, "predict", "REST", code, time.perf_counter() - start)

    async def prometheus(request: web.Request) -> web.Response:
        return web.Response(body=metrics.text(), content_type="text/plain", charset="utf-8")

    app = web.Application(middlewares=[header_deadline_middleware, guard], client_max_size=max_bytes)
    if options.metrics_path is not None and metrics is not None:
        app.router.add_get(options.metrics_path, prometheus)
    app.router.add_get("/v1/models/{tail:.+}", get)
    app.router.add_post("/v1/models/{tail:.+}", post)
    return app
