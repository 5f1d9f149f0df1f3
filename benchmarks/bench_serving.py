"""Serving overhead: requests/s and p50 / p99 latency at concurrency 1, 4 and 16 for the gRPC and
REST clients against the embedded server, vs a direct in-process call of the same SavedModel,
one 256 x 256 uint8 image per request.

The served path is what a user runs: the clients send the image as PNG bytes to the
`stylize_bytes` signature and decode the PNG reply; the direct path calls `serving_default` on
the loaded SavedModel with the same pixels. ratio = direct seconds per request / served seconds
per request at the same concurrency (below 1: the serving overhead).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Dict, List

import numpy as np
import tensorflow as tf

from benchmarks.common import format_table, ratio_row
from kerasviz.faststyle import build_transform_net, export_style_model
from kerasviz.images import to_uint8
from kerasviz.serving import RestStyleClient, ServingServer, StyleClient

SIZE = 256  # one image per request
CONCURRENCY = (1, 4, 16)


def _measure(call: Callable[[], Any], concurrency: int, requests: int) -> Dict[str, float]:
    """Wall seconds per request, requests/s and latency percentiles of `requests` calls, after
    `min(concurrency, 2)` untimed warm-up calls."""
    latencies: List[float] = []

    def one(_: int) -> None:
        start = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - start)

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(min(concurrency, 2))))  # warm-up: connections, first calls
        latencies.clear()
        start = time.perf_counter()
        list(pool.map(one, range(requests)))
        wall = time.perf_counter() - start
    return dict(
        per_request_s=wall / requests,
        requests_per_s=requests / wall,
        p50_ms=1e3 * float(np.percentile(latencies, 50)),
        p99_ms=1e3 * float(np.percentile(latencies, 99)),
    )


def run(quick: bool = False) -> List[Dict[str, Any]]:
    """Benchmark gRPC and REST serving against the direct SavedModel call.

    Args:
        quick: a width-16 network and one request per concurrent client per level (else the
            width-32 network and 4 per client).

    Returns:
        Rows from `ratio_row` with extra `requests_per_s`, `p50_ms`, `p99_ms` (served) and
        `direct_requests_per_s`.
    """
    folder = Path(tempfile.mkdtemp(prefix="kerasviz-bench-serving-"))
    image = np.random.default_rng(0).integers(0, 256, (SIZE, SIZE, 3)).astype(np.uint8)
    try:
        export_style_model(build_transform_net(1, width=16 if quick else 32), folder, version=1)
        loaded = tf.saved_model.load(str(folder / "1"))
        direct_fn = loaded.signatures["serving_default"]

        def direct() -> np.ndarray:
            return to_uint8(direct_fn(images=tf.constant(image[None].astype(np.float32)))["stylized"].numpy())

        server = ServingServer("style", folder, file_system_poll_wait_seconds=0)
        grpc_port, rest_port = server.start()
        clients = {
            "gRPC StyleClient": StyleClient(f"127.0.0.1:{grpc_port}", "style"),
            "REST RestStyleClient": RestStyleClient(f"http://127.0.0.1:{rest_port}", "style"),
        }
        rows = []
        try:
            for concurrency in CONCURRENCY:
                requests = concurrency * (1 if quick else 4)
                baseline = _measure(direct, concurrency, requests)
                for name, client in clients.items():
                    served = _measure(lambda c=client: c.stylize(image, timeout=120), concurrency, requests)
                    row = ratio_row(
                        f"serve 256² uint8, concurrency {concurrency}",
                        "direct SavedModel call",
                        name,
                        baseline["per_request_s"],
                        served["per_request_s"],
                    )
                    row.update(
                        requests_per_s=served["requests_per_s"],
                        p50_ms=served["p50_ms"],
                        p99_ms=served["p99_ms"],
                        direct_requests_per_s=baseline["requests_per_s"],
                        direct_p50_ms=baseline["p50_ms"],
                    )
                    rows.append(row)
        finally:
            clients["gRPC StyleClient"].close()
            server.stop(grace=1)
        return rows
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    import sys

    results = run(quick="--quick" in sys.argv)
    print(format_table(results))
    print()
    print("| benchmark | client | req/s | p50 ms | p99 ms | direct req/s | direct p50 ms |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['benchmark']} | {r['candidate']} | {r['requests_per_s']:.1f} | {r['p50_ms']:.0f} | "
              f"{r['p99_ms']:.0f} | {r['direct_requests_per_s']:.1f} | {r['direct_p50_ms']:.0f} |")
