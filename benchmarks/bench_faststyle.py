"""Transform-net inference speed: kerasviz's compiled `stylize` path vs an eager Keras call of the
same network (the way a plain `net(images)` loop runs), at 256² and 512², batch 1 and 8; and, when
torch is importable by `KERASVIZ_TORCH_PYTHON` (default: this Python), the same architecture in
PyTorch as a reference, timed in a child process (`torch_reference.py`; skipped otherwise).

Every row also reports the candidate's images per second.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import tensorflow as tf

from benchmarks.common import best_time, format_table, ratio_row
from kerasviz.faststyle.inference import compiled_stylize
from kerasviz.faststyle.network import build_transform_net

WIDTH = 32


def _torch_seconds(cases: List[Tuple[int, int, int]]) -> Optional[List[float]]:
    """PyTorch's best seconds per case, timed in a child process (None when torch is not there)."""
    python = os.environ.get("KERASVIZ_TORCH_PYTHON", sys.executable)
    settings = dict(width=WIDTH, cases=cases,
                    threads=tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count())
    script = Path(__file__).with_name("torch_reference.py")
    done = subprocess.run([python, str(script), "transform_net", json.dumps(settings)], capture_output=True, text=True)
    if done.returncode:
        print(f"PyTorch reference skipped ({python}): {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(quick: bool = False) -> List[Dict[str, Any]]:
    """Time the transform network.

    Args:
        quick: 256² only (batch 1 and 8) and fewer repeats (5 at batch 1, 1 at batch 8).

    Returns:
        Rows from `ratio_row`, each with an extra `images_per_s` (candidate).
    """
    net = build_transform_net(1, WIDTH)
    compiled = compiled_stylize(net, 1)
    weights = tf.ones((1, 1))
    # (size, batch, timed runs): more runs for the short cases, whose best time is the noisiest
    cases = [(256, 1, 10), (256, 8, 3)] + ([] if quick else [(512, 1, 5), (512, 8, 3)])
    if quick:
        cases = [(size, batch, 5 if batch == 1 else 1) for size, batch, _ in cases]
    torch_seconds = _torch_seconds(cases)  # first, while TensorFlow is idle
    rows = []
    rng = np.random.default_rng(0)
    for case, (size, batch, repeats) in enumerate(cases):
        images = tf.constant(rng.uniform(0, 255, (batch, size, size, 3)).astype(np.float32))
        batch_weights = tf.tile(weights, (batch, 1))
        candidate = best_time(lambda: compiled(images, batch_weights).numpy(), repeats=repeats, warmup=3)  # noqa: B023 - timed now
        eager = best_time(lambda: net(images, training=False).numpy(), repeats=repeats)  # noqa: B023 - timed now
        name = f"transform net w{WIDTH} {size}² batch {batch}"
        row = ratio_row(name, "eager keras call", "compiled stylize", eager, candidate)
        row["images_per_s"] = batch / candidate
        rows.append(row)
        if torch_seconds is not None:
            row = ratio_row(name, "pytorch (same architecture)", "compiled stylize", torch_seconds[case], candidate)
            row["images_per_s"] = batch / candidate
            rows.append(row)
    return rows


if __name__ == "__main__":
    results = run()
    print(format_table(results))
    for r in results:
        if r["baseline"] == "eager keras call":  # one line per case (the torch row repeats it)
            print(f"{r['benchmark']}: {r['images_per_s']:.2f} images/s (kerasviz)")
