"""`kerasviz explore` responsiveness, side by side in one run (ratio = baseline seconds / explorer seconds).

The explorer runs in this process on a real loopback socket (aiohttp `AppRunner` on its own
thread, as `kerasviz explore` serves it); requests go through `urllib` like a browser's would:
JSON in, PNG out. EfficientNet-Lite0 with its real weights, 224 x 224.

Rows:
1. Grad-CAM round trip (`POST /api/explain`, image by id, PNG back) vs the same technique with
   the compiled-function cache cleared before each call (what a server that builds its function
   per request pays: one trace each time).
2. Activation grid round trip (`POST /api/activations`, 64 tiles) vs the same with the cache cleared.
3. Grad-CAM round trip vs the bare in-process call (`technique_map`, cached): the HTTP + PNG
   overhead (ratio < 1; overhead = 1 / ratio - 1).
4. Upload + predict round trip (a 224 x 224 PNG in the body, top-5 JSON back) vs the in-process
   `Backbone.predict`.

The issue's targets are absolute: Grad-CAM round trip <= 300 ms and a grid <= 500 ms on 2 cores;
the medians are printed next to them.

Run: `python -m benchmarks.bench_explorer [--repeats N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import threading
import time
import urllib.request
from typing import Any, Callable, Dict, List

import numpy as np

from benchmarks.common import format_table, ratio_row


def _median_time(fn: Callable[[], Any], repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class _Server:
    """The explorer app on 127.0.0.1 (a free port), served from a background event loop."""

    def __init__(self, app: Any) -> None:
        from aiohttp import web

        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

        async def start() -> int:
            self.runner = web.AppRunner(app, access_log=None)
            await self.runner.setup()
            site = web.TCPSite(self.runner, "127.0.0.1", 0)
            await site.start()
            return site._server.sockets[0].getsockname()[1]

        port = asyncio.run_coroutine_threadsafe(start(), self.loop).result(60)
        self.url = f"http://127.0.0.1:{port}"
        self.server_seconds: List[float] = []

    def post(self, path: str, body: bytes, kind: str) -> bytes:
        request = urllib.request.Request(self.url + path, data=body, headers={"Content-Type": kind}, method="POST")
        with urllib.request.urlopen(request, timeout=120) as response:
            self.server_seconds.append(float(response.headers.get("X-Kerasviz-Seconds") or "nan"))
            return response.read()

    def post_json(self, path: str, payload: Dict[str, Any]) -> bytes:
        return self.post(path, json.dumps(payload).encode(), "application/json")

    def wait_ready(self) -> None:
        while True:
            try:
                with urllib.request.urlopen(self.url + "/api/health", timeout=10) as response:
                    if response.status == 200:
                        return
            except urllib.error.HTTPError as error:
                if error.code != 503:
                    raise
            time.sleep(0.2)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)


def measure(repeats: int = 10) -> tuple[List[Dict[str, Any]], str]:
    """Time every row.

    Args:
        repeats: Timed requests per row (the median is reported).

    Returns:
        `(rows, summary)`: `ratio_row` dicts and one line with the absolute medians.
    """
    from PIL import Image

    import kerasviz as kv
    from kerasviz.attribution.technique_maps import technique_map
    from kerasviz.compiled import clear_cache
    from kerasviz.explorer import create_app

    backbone = kv.load_backbone("efficientnet_lite0")
    image = kv.load_image("skimage:chelsea", backbone.input_size)
    layer = backbone.gradcam_layer
    server = _Server(create_app(lambda: backbone))
    server.wait_ready()
    buffer = io.BytesIO()
    Image.fromarray(image.astype(np.uint8)).save(buffer, format="PNG")
    upload = buffer.getvalue()
    image_id = json.loads(server.post("/api/images", upload, "image/png"))["image_id"]

    def explain_round_trip() -> None:
        server.post_json("/api/explain", {"image_id": image_id, "technique": "gradcam", "target": 285})

    def grid_round_trip() -> None:
        server.post_json("/api/activations", {"image_id": image_id, "layer": layer, "max_tiles": 64})

    def explain_uncached() -> None:
        clear_cache(backbone.model)
        technique_map("gradcam", backbone, image[None], 285)

    def grid_uncached() -> None:
        clear_cache(backbone.model)
        kv.activation_maps(backbone, image, layer, max_tiles=64, tile_size=64)

    explain_s = _median_time(explain_round_trip, repeats)
    explain_server = statistics.median(server.server_seconds[-repeats:])
    grid_s = _median_time(grid_round_trip, repeats)
    grid_server = statistics.median(server.server_seconds[-repeats:])
    explain_cold = _median_time(explain_uncached, max(2, repeats // 4), warmup=0)
    grid_cold = _median_time(grid_uncached, max(2, repeats // 4), warmup=0)
    explain_direct = _median_time(lambda: technique_map("gradcam", backbone, image[None], 285), repeats)
    predict_s = _median_time(lambda: server.post("/api/predict", upload, "image/png"), repeats)
    predict_direct = _median_time(lambda: backbone.predict(image[None]), repeats)
    server.close()

    rows = [
        ratio_row("Grad-CAM, Lite0 224", "retrace per request", "explorer round trip", explain_cold, explain_s),
        ratio_row("activation grid, 64 tiles", "retrace per request", "explorer round trip", grid_cold, grid_s),
        ratio_row("Grad-CAM, Lite0 224", "in-process call (cached)", "explorer round trip", explain_direct, explain_s),
        ratio_row("upload + top-5", "in-process predict", "explorer round trip", predict_direct, predict_s),
    ]
    summary = (f"Grad-CAM round trip median {1000 * explain_s:.0f} ms (target <= 300 ms); "
          f"activation grid median {1000 * grid_s:.0f} ms (target <= 500 ms); "
          f"upload + predict {1000 * predict_s:.0f} ms. Inside the server (X-Kerasviz-Seconds): "
          f"Grad-CAM {1000 * explain_server:.0f} ms, grid {1000 * grid_server:.0f} ms.")
    return rows, summary


def run(quick: bool = False) -> List[Dict[str, Any]]:
    """Rows for `benchmarks/run.py` (which collects `bench_*.py` modules)."""
    rows, summary = measure(3 if quick else 10)
    print(summary)
    return rows


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="timed requests per row (median)")
    args = parser.parse_args(argv)
    rows, summary = measure(args.repeats)
    print(format_table(rows))
    print("\n" + summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
