"""Transform-net inference speed: kerasviz's compiled `stylize` path vs an eager Keras call of the
same network (the way a plain `net(images)` loop runs), at 256² and 512², batch 1 and 8; and, when
torch is importable, the same architecture in PyTorch as a reference (skipped otherwise).

Every row also reports the candidate's images per second.
"""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np
import tensorflow as tf

from benchmarks.common import best_time, format_table, ratio_row
from kerasviz.faststyle.network import compiled_stylize, build_transform_net

WIDTH = 32


def _torch_net(width: int):
    """Johnson's network in PyTorch, the same layers as `build_transform_net(1, width)`."""
    import torch
    from torch import nn

    def block(cin, cout, kernel, stride=1, relu=True):
        layers = [nn.Conv2d(cin, cout, kernel, stride, padding=kernel // 2), nn.InstanceNorm2d(cout, affine=True)]
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
        nn.Conv2d(w, 3, 9, padding=4), nn.Tanh(),
    ).eval(), torch


def run(quick: bool = False) -> List[Dict[str, Any]]:
    """Time the transform network.

    Args:
        quick: 256² only (batch 1 and 8) and fewer repeats.

    Returns:
        Rows from `ratio_row`, each with an extra `images_per_s` (candidate).
    """
    net = build_transform_net(1, WIDTH)
    compiled = compiled_stylize(net, 1)
    weights = tf.ones((1, 1))
    try:
        torch_net, torch = _torch_net(WIDTH)
        torch.set_num_threads(tf.config.threading.get_intra_op_parallelism_threads() or torch.get_num_threads())
    except ImportError:
        torch_net = torch = None
    cases = [(256, 1), (256, 8)] + ([] if quick else [(512, 1), (512, 8)])
    repeats = 1 if quick else 3
    rows = []
    rng = np.random.default_rng(0)
    for size, batch in cases:
        images = tf.constant(rng.uniform(0, 255, (batch, size, size, 3)).astype(np.float32))
        batch_weights = tf.tile(weights, (batch, 1))
        candidate = best_time(lambda: compiled(images, batch_weights).numpy(), repeats=repeats)
        eager = best_time(lambda: net(images, training=False).numpy(), repeats=repeats)
        name = f"transform net w{WIDTH} {size}² batch {batch}"
        row = ratio_row(name, "eager keras call", "compiled stylize", eager, candidate)
        row["images_per_s"] = batch / candidate
        rows.append(row)
        if torch_net is not None:
            x = torch.from_numpy(images.numpy().transpose(0, 3, 1, 2).copy()) / 127.5 - 1

            def torch_call():
                with torch.no_grad():
                    return torch_net(x).numpy()

            reference = best_time(torch_call, repeats=repeats)
            row = ratio_row(name, "pytorch (same architecture)", "compiled stylize", reference, candidate)
            row["images_per_s"] = batch / candidate
            rows.append(row)
    return rows


if __name__ == "__main__":
    results = run()
    print(format_table(results))
    for r in results:
        if r["baseline"] == "eager keras call":  # one line per case (the torch row repeats it)
            print(f"{r['benchmark']}: {r['images_per_s']:.2f} images/s (kerasviz)")
