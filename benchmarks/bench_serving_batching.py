"""Server-side batching: requests/s at concurrency 16 through the embedded server's gRPC API with
and without `--enable_batching`, same-shaped requests (one uint8 image each, sent by `StyleClient`
to `serving_default`), width-16 style network.

ratio = seconds per request without batching / with batching (above 1: batching is faster). Both
servers run in this process one after the other on the same exported model; batching uses
`max_batch_size 16`, `batch_timeout_micros 1000`, `num_batch_threads 2`, no padding.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from benchmarks.common import format_table, ratio_row
from kerasviz.faststyle import build_transform_net, export_style_model
from kerasviz.serving import ModelConfigOptions, OperationsOptions, ServingServer, StyleClient

CONCURRENCY = 16
# No allowed_batch_sizes: padding a batch up to an allowed size only pays on accelerators; on CPU
# the padded rows are computed for nothing.
PARAMETERS = (
    "max_batch_size { value: 16 }\nbatch_timeout_micros { value: 1000 }\nmax_enqueued_batches { value: 64 }\n"
    "num_batch_threads { value: 2 }\n"
)


def _requests_per_s(folder: Path, size: int, requests: int, operations: Optional[OperationsOptions] = None) -> Dict[str, float]:
    image = np.random.default_rng(0).integers(0, 256, (size, size, 3)).astype(np.uint8)
    no_polling = ModelConfigOptions(file_system_poll_wait_seconds=0)
    with ServingServer("style", folder, rest_api_port=None, model_config=no_polling, operations=operations) as server:
        with StyleClient(f"127.0.0.1:{server.grpc_port}", "style", signature="serving_default") as client:
            with ThreadPoolExecutor(CONCURRENCY) as pool:
                list(pool.map(lambda _: client.stylize(image, timeout=300), range(CONCURRENCY)))  # warm-up
                start = time.perf_counter()
                list(pool.map(lambda _: client.stylize(image, timeout=300), range(requests)))
                wall = time.perf_counter() - start
        sizes = list(server.batcher.batch_sizes) if server.batcher is not None else [1]
    return {"per_request_s": wall / requests, "requests_per_s": requests / wall, "mean_batch": float(np.mean(sizes))}


def run(quick: bool = False) -> List[Dict[str, Any]]:
    """Requests/s at concurrency 16 with and without server-side batching.

    Args:
        quick: 64 requests per measurement (else 256), 64² and 256² images.

    Returns:
        Rows from `ratio_row` with `requests_per_s`, `batched_requests_per_s` and `mean_batch`.
    """
    folder = Path(tempfile.mkdtemp(prefix="kerasviz-bench-batching-"))
    params = folder / "batching.txt"
    try:
        export_style_model(build_transform_net(1, width=16), folder / "model", version=1)
        params.write_text(PARAMETERS)
        rows = []
        for size in (64, 256):
            requests = 64 if quick else 256
            plain = _requests_per_s(folder / "model", size, requests)
            batched = _requests_per_s(
                folder / "model", size, requests, OperationsOptions(enable_batching=True, batching_parameters_file=str(params))
            )
            row = ratio_row(
                f"serve {size}² at concurrency {CONCURRENCY}", "no batching", "--enable_batching",
                plain["per_request_s"], batched["per_request_s"],
            )
            row.update(requests_per_s=plain["requests_per_s"], batched_requests_per_s=batched["requests_per_s"],
                       mean_batch=batched["mean_batch"])
            rows.append(row)
        return rows
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    import sys

    results = run(quick="--quick" in sys.argv)
    print(format_table(results))
    for r in results:
        print(f"{r['benchmark']}: {r['requests_per_s']:.1f} req/s without, {r['batched_requests_per_s']:.1f} req/s "
              f"with batching (mean batch {r['mean_batch']:.1f}): ratio {r['ratio']:.2f}")
