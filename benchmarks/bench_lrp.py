"""LRP benchmark: one LRP pass on VGG16 (weights=None) at 224² against a saliency pass (one
gradient) in the same run, after a warm-up call each, and against Zennit on the same
architecture in its own process (`scripts/zennit_reference.py --time`, run by the interpreter in
`KERASVIZ_TORCH_PYTHON`, e.g. `/tmp/kv/venv-zennit/bin/python`; skipped when it has no torch).

`python -m benchmarks.lrp [--quick]` prints the table; `run(quick)` returns the rows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

os.environ.setdefault("KERASVIZ_PROGRESS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from benchmarks.common import best_time, format_table, ratio_row  # noqa: E402

SIZE = 224


def _zennit_seconds(repeats: int, threads: int) -> Optional[float]:
    """Zennit's best seconds of one EpsilonPlusFlat pass on VGG16, or None without torch."""
    python = os.environ.get("KERASVIZ_TORCH_PYTHON", sys.executable)
    script = Path(__file__).parents[1] / "scripts" / "zennit_reference.py"
    done = subprocess.run(
        [python, str(script), "--time", str(SIZE), str(repeats), str(threads)],
        capture_output=True, text=True,
    )
    if done.returncode:
        print(f"Zennit row skipped ({python}): {done.stderr.strip().splitlines()[-1:]}",
              file=sys.stderr)
        return None
    return float(done.stdout.strip().splitlines()[-1])


def run(quick: bool = False) -> List[Dict[str, Any]]:
    """Time LRP (two composites), saliency and Zennit on VGG16 at 224², one image.

    Args:
        quick: One timed repeat instead of three.

    Returns:
        Rows from `ratio_row`: `ratio` = saliency seconds / LRP seconds (0.5 means LRP costs
        twice a gradient), and Zennit seconds / kerasviz seconds.
    """
    import keras
    import tensorflow as tf

    from kerasviz import load_backbone, saliency
    from kerasviz.relevance import lrp

    repeats = 1 if quick else 3
    threads = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()
    zennit = _zennit_seconds(repeats, threads)  # first, while TensorFlow is idle
    keras.utils.set_random_seed(0)
    backbone = load_backbone(keras.applications.VGG16(weights=None))
    image = np.random.default_rng(0).uniform(0, 255, (SIZE, SIZE, 3)).astype(np.float32)
    gradient_s = best_time(lambda: saliency(backbone, image, 1), repeats=repeats)
    rows = []
    for composite in ("epsilon_plus_flat", "epsilon_gamma_box"):
        seconds = best_time(lambda c=composite: lrp(backbone, image, 1, composite=c), repeats=repeats)
        rows.append(ratio_row(f"VGG16 {SIZE}² one image: lrp {composite} vs saliency",
                              "kv.saliency", f"kv.lrp {composite}", gradient_s, seconds))
        if composite == "epsilon_plus_flat" and zennit is not None:
            rows.append(ratio_row(f"VGG16 {SIZE}² one image: lrp {composite} vs Zennit 0.5.1",
                                  "zennit (torch CPU)", f"kv.lrp {composite}", zennit, seconds))
    return rows


if __name__ == "__main__":
    print(format_table(run(quick="--quick" in sys.argv)))
