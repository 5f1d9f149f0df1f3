"""PyTorch reference timings, run in a process of its own (never import torch next to TensorFlow).

`python benchmarks/torch_reference.py transform_net '{"width": 32, "cases": [[256, 1]], ...}'`
prints a JSON list of best wall-clock seconds, one per case. `bench_faststyle` starts it with the
interpreter in `KERASVIZ_TORCH_PYTHON` (default: this Python) and skips the rows if torch is missing.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, Dict, List


def transform_net(width: int):
    """Johnson's network in PyTorch, the same layers as kerasviz's `build_transform_net(1, width)`.

    Args:
        width: Channels of the first convolution (then 2x and 4x).

    Returns:
        A `torch.nn.Module` in eval mode mapping `(N, 3, H, W)` in [-1, 1] to `(N, 3, H, W)`.
    """
    from torch import nn

    def block(cin, cout, kernel, stride=1, relu=True):
        layers = [nn.ReflectionPad2d(kernel // 2), nn.Conv2d(cin, cout, kernel, stride),
                  nn.InstanceNorm2d(cout, affine=True)]
        return layers + ([nn.ReLU()] if relu else [])

    class Residual(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self.body = nn.Sequential(*block(channels, channels, 3), *block(channels, channels, 3, relu=False))

        def forward(self, x):
            return x + self.body(x)

    w = width
    return nn.Sequential(
        *block(3, w, 9), *block(w, 2 * w, 3, 2), *block(2 * w, 4 * w, 3, 2),
        *[Residual(4 * w) for _ in range(5)],
        nn.Upsample(scale_factor=2, mode="nearest"), *block(4 * w, 2 * w, 3),
        nn.Upsample(scale_factor=2, mode="nearest"), *block(2 * w, w, 3),
        nn.ReflectionPad2d(4), nn.Conv2d(w, 3, 9), nn.Tanh(),
    ).eval()


def time_transform_net(width: int, cases: List[List[int]], threads: int) -> List[float]:
    """Best seconds of a no-grad forward pass per `(size, batch, repeats)` case, after three warm-up runs.

    Args:
        width: Network width.
        cases: `[size, batch, repeats]` per case (repeats: timed runs, the minimum is kept).
        threads: torch intra-op threads (match TensorFlow's).

    Returns:
        Seconds, one per case.
    """
    import torch

    torch.set_num_threads(threads)
    net = transform_net(width)
    generator = torch.Generator().manual_seed(0)
    seconds = []
    for size, batch, repeats in cases:
        x = torch.rand((batch, 3, size, size), generator=generator) * 2 - 1
        best = float("inf")
        with torch.no_grad():
            for run in range(repeats + 3):
                start = time.perf_counter()
                net(x).numpy()
                if run >= 3:  # three runs warm up
                    best = min(best, time.perf_counter() - start)
        seconds.append(best)
    return seconds


if __name__ == "__main__":
    settings: Dict[str, Any] = json.loads(sys.argv[2])
    if sys.argv[1] != "transform_net":
        raise SystemExit(f"unknown reference {sys.argv[1]!r}")
    print(json.dumps(time_transform_net(**settings)))
