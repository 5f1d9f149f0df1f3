"""LiteRT export of the transform network: file size and CPU latency of the LiteRT interpreter
(float32, float16 and dynamic-range int8 weights) against the compiled Keras call, at 256² batch 1,
for the bundled 3-style network (width 16) and a paper-width single-style network (width 32).

`ratio` = Keras seconds / LiteRT seconds (> 1: LiteRT is faster). Every row also has `bytes`
(the `.tflite` file) and `keras_bytes` (float32 weights of the Keras network).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Dict, List

import numpy as np

from benchmarks.common import best_time, format_table, ratio_row
from kerasviz.faststyle import build_transform_net, export_style_tflite, load_tflite, stylize, stylize_tflite
from kerasviz.faststyle.weights import load_demo_network


def run(quick: bool = False) -> List[Dict[str, Any]]:
    """Time Keras vs LiteRT.

    Args:
        quick: The bundled network only, fewer repeats.

    Returns:
        Rows from `ratio_row` with `bytes`, `keras_bytes` and `max_abs_diff` (uint8 pixels).
    """
    import skimage.data

    threads = int(os.environ.get("KERASVIZ_BENCH_THREADS", os.cpu_count() or 1))
    nets = [("bundled 3-style w16", load_demo_network()[0], [0, 0, 1])]
    if not quick:
        nets.append(("single-style w32", build_transform_net(1, 32), None))
    photo = skimage.data.astronaut()[:256, 128:384]
    repeats = 3 if quick else 5
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, net, mix in nets:
            keras_bytes = sum(int(np.prod(w.shape)) * 4 for w in net.weights)
            reference = stylize(net, photo, mix)
            keras_s = best_time(lambda: stylize(net, photo, mix), repeats=repeats)  # noqa: B023 - timed now
            for quantization in (None, "float16", "dynamic"):
                path = export_style_tflite(net, Path(folder) / f"{name}-{quantization}.tflite", quantization=quantization)
                interpreter = load_tflite(path, num_threads=threads)
                lite_s = best_time(lambda: stylize_tflite(interpreter, photo, mix), repeats=repeats)  # noqa: B023 - timed now
                row = ratio_row(f"{name} 256² batch 1 -> LiteRT {quantization or 'float32'}", "compiled keras stylize",
                                "LiteRT interpreter", keras_s, lite_s)
                row["bytes"] = path.stat().st_size
                row["keras_bytes"] = keras_bytes
                row["max_abs_diff"] = int(np.abs(stylize_tflite(interpreter, photo, mix).astype(int) - reference).max())
                rows.append(row)
    return rows


if __name__ == "__main__":
    results = run()
    print(format_table(results))
    for r in results:
        print(f"{r['benchmark']}: {r['bytes'] / 1e6:.2f} MB (Keras float32 weights {r['keras_bytes'] / 1e6:.2f} MB), "
              f"latency ratio keras/litert {r['ratio']:.2f}, max |diff| {r['max_abs_diff']}")
