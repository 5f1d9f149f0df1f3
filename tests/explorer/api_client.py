"""A synchronous handle on aiohttp's test client for an explorer app, served on its own loop thread."""

from __future__ import annotations

import asyncio
import io
import threading
import time
from typing import Any, Tuple

import numpy as np
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image


class ApiClient:
    """Runs `TestClient(TestServer(app))` on a background loop; `call` returns `(status, headers, body)`."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.client = self._wait(self._start())

    def _wait(self, coroutine: Any, timeout: float = 600.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _start(self) -> TestClient:
        client = TestClient(TestServer(self.app, host="127.0.0.1"))
        await client.start_server()
        return client

    async def _call(self, method: str, path: str, **kwargs: Any) -> Tuple[int, Any, bytes]:
        response = await self.client.request(method, path, **kwargs)
        body = await response.read()
        return response.status, response.headers, body

    def call(self, method: str, path: str, **kwargs: Any) -> Tuple[int, Any, bytes]:
        """One request; kwargs as aiohttp's `request` (json=, data=, headers=)."""
        return self._wait(self._call(method, path, **kwargs))

    def json(self, method: str, path: str, **kwargs: Any) -> Tuple[int, Any]:
        """One request whose answer is JSON."""
        import json

        status, _, body = self.call(method, path, **kwargs)
        return status, json.loads(body)

    def wait_ready(self, timeout: float = 600.0) -> dict:
        """Poll `/api/health` until 200 (raises on a load error or timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, body = self.json("GET", "/api/health")
            if status == 200:
                return body
            assert status == 503, body
            time.sleep(0.2)
        raise TimeoutError("the explorer model did not load")

    def close(self) -> None:
        """Stop the server and the loop."""
        self._wait(self.client.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def png(image: np.ndarray) -> bytes:
    """Encode pixels as PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def decode(data: bytes) -> np.ndarray:
    """PNG bytes to a uint8 array."""
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def object_left_picture(image: np.ndarray, side: str = "left") -> np.ndarray:
    """A photo squeezed into one half of a grey canvas twice as wide (the object's position known).

    Args:
        image: `(H, W, 3)` pixels.
        side: `"left"` or `"right"`.

    Returns:
        uint8 `(H, 2W, 3)`.
    """
    height, width = image.shape[:2]
    canvas = np.full((height, 2 * width, 3), 128, np.uint8)
    start = 0 if side == "left" else width
    canvas[:, start:start + width] = np.clip(image, 0, 255).astype(np.uint8)
    return canvas
