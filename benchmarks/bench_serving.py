"""Serving overhead: requests/s and p50 / p99 latency at concurrency 1, 4 and 16 for the gRPC and
REST clients against the embedded server, vs a direct in-process call of the same SavedModel,
one 256 x 256 uint8 image per request; and the embedded server's overhead at concurrency 1 over
a direct call of the *same signature with the same payload*, measured interleaved (direct, served,
direct, served, ...) so that load from other processes hits both alike.

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
from kerasviz.serving import ModelConfigOptions, RestStyleClient, ServingServer, StyleClient

NO_POLLING = ModelConfigOptions(file_system_poll_wait_seconds=0)

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


def overhead(folder: Path, grpc_port: int, rest_port: int, repeats: int) -> List[Dict[str, Any]]:
    """Concurrency-1 overhead of each client over the in-process call of the signature it uses.

    Args:
        folder: Base path whose version 1 the server serves.
        grpc_port: The server's gRPC port.
        rest_port: The server's REST port.
        repeats: Interleaved (direct, served) pairs per client; the median pair ratio is reported.

    Returns:
        Rows from `ratio_row` (ratio = direct / served seconds; 1 / ratio - 1 is the overhead).
    """
    loaded = tf.saved_model.load(str(folder / "1"))
    image = np.random.default_rng(1).integers(0, 256, (SIZE, SIZE, 3)).astype(np.uint8)
    png = tf.io.encode_png(image).numpy()
    pixels = image[None].astype(np.float32)
    direct = {
        "stylize_bytes": lambda: loaded.signatures["stylize_bytes"](images=tf.constant([png]))["stylized"].numpy(),
        "serving_default": lambda: loaded.signatures["serving_default"](images=tf.constant(pixels))["stylized"].numpy(),
    }
    cases = [
        ("gRPC StyleClient", "stylize_bytes", StyleClient(f"127.0.0.1:{grpc_port}", "style")),
        ("gRPC StyleClient", "serving_default", StyleClient(f"127.0.0.1:{grpc_port}", "style", signature="serving_default")),
        ("REST RestStyleClient", "stylize_bytes", RestStyleClient(f"http://127.0.0.1:{rest_port}", "style")),
    ]
    rows = []
    for name, signature, client in cases:
        served = lambda c=client: c.stylize(image, timeout=120)  # noqa: E731
        for call in (direct[signature], served, direct[signature], served):  # warm-up
            call()
        times = {"direct": [], "served": []}
        for _ in range(repeats):
            for side, call in (("direct", direct[signature]), ("served", served)):
                start = time.perf_counter()
                call()
                times[side].append(time.perf_counter() - start)
        # Each served call is compared with the direct call just before it (same machine load);
        # the median pair ratio is reported, scaled onto the median direct time.
        pair_ratio = float(np.median(np.array(times["served"]) / np.array(times["direct"])))
        direct_s = float(np.median(times["direct"]))
        rows.append(ratio_row(
            f"serving overhead 256² {signature}, concurrency 1", f"in-process {signature}", name,
            direct_s, direct_s * pair_ratio,
        ))
        if hasattr(client, "close"):
            client.close()
    return rows


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

        server = ServingServer("style", folder, model_config=NO_POLLING)
        grpc_port, rest_port = server.start()
        clients = {
            "gRPC StyleClient": StyleClient(f"127.0.0.1:{grpc_port}", "style"),
            "REST RestStyleClient": RestStyleClient(f"http://127.0.0.1:{rest_port}", "style"),
        }
        rows = overhead(folder, grpc_port, rest_port, repeats=15 if quick else 40)
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

    if "--overhead" in sys.argv:  # only the concurrency-1 overhead rows, width 16
        base = Path(tempfile.mkdtemp(prefix="kerasviz-bench-serving-"))
        export_style_model(build_transform_net(1, width=16), base, version=1)
        with ServingServer("style", base, model_config=NO_POLLING) as overhead_server:
            rows = overhead(base, overhead_server.grpc_port, overhead_server.rest_port, repeats=60)
        shutil.rmtree(base, ignore_errors=True)
        print(format_table(rows))
        for row in rows:
            print(f"{row['candidate']} {row['benchmark']}: overhead {100 * (row['candidate_s'] / row['baseline_s'] - 1):.1f} %")
        sys.exit(0)
    results = run(quick="--quick" in sys.argv)
    print(format_table(results))
    print()
    print("| benchmark | client | req/s | p50 ms | p99 ms | direct req/s | direct p50 ms |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['benchmark']} | {r['candidate']} | {r['requests_per_s']:.1f} | {r['p50_ms']:.0f} | "
              f"{r['p99_ms']:.0f} | {r['direct_requests_per_s']:.1f} | {r['direct_p50_ms']:.0f} |")
