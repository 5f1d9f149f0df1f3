"""Benchmark kerasviz.metrics against Quantus 0.6.0 (PyTorch Lite0, its own process), side by side.

    python benchmarks/bench_metrics.py [--images 16] [--evaluate [--ig-steps 16]] [--out DIR]

1. Pixel flipping and faithfulness correlation on N Lite0 images with Grad-CAM maps: kerasviz
   (Keras Lite0, every perturbed copy through one cached compiled forward pass, 64 a call) vs
   Quantus 0.6.0 on the same weights in PyTorch (`metrics_torch_reference.py`, started with the
   interpreter in `KERASVIZ_QUANTUS_PYTHON`, default /tmp/kv/venv-quantus/bin/python; both
   limited to the same thread count). Same settings on both sides (Quantus' defaults for
   faithfulness correlation; `--features-in-step` 3136 (48 steps) for pixel flipping: Quantus
   requires it to divide H * W). The two sides alternate, metric by metric (kerasviz, Quantus,
   kerasviz, Quantus), so a machine shared with other work loads both alike. Prints seconds,
   the ratio, and how the scores compare.
2. With `--evaluate`: a full `kerasviz.evaluate` of 6 methods x 12 metrics (`DEFAULT_METRICS`,
   quick settings) on the same images, timed metric by metric, with `scores.csv`, `summary.csv`
   and the chart written to `--out`. Integrated gradients explains every perturbed copy the
   robustness metrics make with its 64 path steps (65 gradient passes an image, most of the
   suite's time on two cores); `--ig-steps` sets fewer.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

PHOTOS = ("chelsea", "coffee", "astronaut", "rocket", "cat", "horse", "coins", "clock")
METHODS = ("gradcam", "gradcam_plus_plus", "layer_cam", "saliency", "gradient_x_input",
           "integrated_gradients")


def photos(count: int) -> np.ndarray:
    """`count` 224 x 224 photos: the bundled samples, then their mirror images."""
    from kerasviz.images import sample_image

    base = [sample_image(name, size=224) for name in PHOTOS]
    base += [image[:, ::-1] for image in base]
    return np.stack([base[i % len(base)] for i in range(count)]).astype(np.float32)


def run_quantus(inputs: str, settings: dict) -> dict:
    """Quantus 0.6.0 on the torch Lite0 in its own interpreter; its JSON result."""
    python = os.environ.get("KERASVIZ_QUANTUS_PYTHON", "/tmp/kv/venv-quantus/bin/python")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "metrics_torch_reference.py")
    done = subprocess.run([python, script, inputs, json.dumps(settings)], capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--features-in-step", type=int, default=3136,
                        help="pixel flipping step; Quantus needs it to divide H * W (50176)")
    parser.add_argument("--evaluate", action="store_true")
    parser.add_argument("--skip-quantus", action="store_true")
    parser.add_argument("--out", default="/tmp/kv/metrics")
    parser.add_argument("--ig-steps", type=int, default=None,
                        help="path intervals of integrated gradients in --evaluate (default: "
                             "the method's own)")
    args = parser.parse_args()
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    import kerasviz as kv
    from kerasviz import metrics as kvm

    model = kv.load_backbone("efficientnet_lite0")
    images = photos(args.images)
    targets = kvm.inputs.resolve_targets(model, images, None)
    maps = np.asarray(kv.gradcam(model, images, targets), np.float64)
    settings = {"features_in_step": args.features_in_step, "nr_runs": 100, "subset_size": 224,
                "threads": args.threads}
    # Warm-up, as a user's second call: the model converted to LiteRT once and its batch
    # shape prepared (256 copies, the engine's threshold), as Quantus' side gets a loaded model.
    kvm.pixel_flipping(maps[:1], model=model, images=images[:1], targets=targets[:1],
                       features_in_step=224 * 224 * 3 // 256)
    runs = {
        "pixel_flipping": lambda: kvm.pixel_flipping(
            maps, model=model, images=images, targets=targets,
            features_in_step=settings["features_in_step"]),
        "faithfulness_correlation": lambda: kvm.faithfulness_correlation(
            maps, model=model, images=images, targets=targets, nr_runs=settings["nr_runs"],
            subset_size=settings["subset_size"]),
    }
    with tempfile.TemporaryDirectory() as folder:
        inputs = os.path.join(folder, "inputs.npz")
        np.savez(inputs, images=images, maps=maps, targets=targets)
        for name, run in runs.items():
            start = time.perf_counter()
            ours = np.asarray(run())
            seconds = time.perf_counter() - start
            print(f"kerasviz {name}: {seconds:.1f} s ({len(images)} images)", flush=True)
            if args.skip_quantus:
                continue
            theirs = run_quantus(inputs, {**settings, "only": [name]})
            agree = np.mean(np.asarray(theirs["top1"]) == targets)
            reference, scores = theirs[name]["seconds"], np.asarray(theirs[name]["scores"])
            print(f"{name}: kerasviz {seconds:.1f} s, Quantus {reference:.1f} s, ratio "
                  f"{reference / seconds:.2f}x; scores mean {ours.mean():.4f} vs "
                  f"{scores.mean():.4f}, Pearson r across images "
                  f"{np.corrcoef(ours, scores)[0, 1]:.3f} (torch top-1 = Keras top-1 on "
                  f"{agree:.0%})", flush=True)
    if args.evaluate:
        timed_evaluate(model, images, targets, args.out, args.ig_steps)


def timed_evaluate(model, images: np.ndarray, targets: np.ndarray, out: str,
                   ig_steps: int | None) -> None:
    """`kerasviz.evaluate` of `METHODS` x `DEFAULT_METRICS`, one metric at a time inside one
    shared-work block (what a single call shares, shared here too), timed per metric; writes
    `scores.csv`, `summary.csv` and `chart.png` into `out`."""
    import functools

    import pandas as pd

    import kerasviz as kv
    from kerasviz import metrics as kvm

    methods = {name: name for name in METHODS}
    if ig_steps is not None:
        methods["integrated_gradients"] = functools.partial(kv.integrated_gradients,
                                                            steps=ig_steps)
    parts, seconds = [], {}
    start = time.perf_counter()
    with kvm.shared_work():
        for metric in kvm.DEFAULT_METRICS:
            begin = time.perf_counter()
            parts.append(kvm.evaluate(model, images, targets, methods, [metric], progress=False))
            seconds[metric] = time.perf_counter() - begin
            print(f"  {metric:32s} {seconds[metric]:6.1f} s", flush=True)
    total = time.perf_counter() - start
    scores = pd.concat(parts, ignore_index=True)
    summary = kvm.summarize_scores(scores)
    os.makedirs(out, exist_ok=True)
    scores.to_csv(os.path.join(out, "scores.csv"), index=False)
    summary.to_csv(os.path.join(out, "summary.csv"), index=False)
    kvm.score_chart(summary, os.path.join(out, "chart.png"))
    steps = "default" if ig_steps is None else ig_steps
    print(f"evaluate: {len(methods)} methods x {len(kvm.DEFAULT_METRICS)} metrics x "
          f"{len(images)} images in {total:.0f} s (integrated gradients steps: {steps}; "
          f"the first metric includes explaining the images once per method) -> {out}")

if __name__ == "__main__":
    sys.exit(main())
