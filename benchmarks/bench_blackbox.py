"""Black-box explanations, side by side in one run (ratio = reference seconds / kerasviz seconds):

1. RISE on EfficientNet-Lite0 at 224 x 224 (default 4000 masks, batch 64) vs the authors' reference
   RISE (Petsiuk et al., `explanations.ipynb`): every mask made up front with
   `skimage.transform.resize` as float64 arrays, the masked images made at once, `model.predict`
   in batches of 64, and the saliency of every class by one matrix product (as their code does).
   Xplique is not used: it needs TensorFlow < 2.16 (Keras 2), this environment has Keras 3.
   A second row times the same reference restricted to the target class (the saliency product
   for one class only), to show where the time goes.
2. Kernel SHAP with 2048 samples vs `shap.KernelExplainer(..., l1_reg=False)` on the same
   predictor: a NumPy linear-softmax over 100 superpixels of a 224 x 224 image (the function of
   `scripts/blackbox_reference.py`), shap timed inside its own venv (`/tmp/kv/venv-blackbox`, lime
   and shap are not kerasviz dependencies; the subprocess times only `shap_values`).
3. RISE through the embedded server (gRPC `PredictClient`, batch 64, message limit raised to fit
   64 images) vs in process on the same exported Lite0: ratio = in-process / served (the
   overhead is `1 / ratio - 1`).

Run: `python -m benchmarks.bench_blackbox [--masks N] [--samples N]` (smaller numbers on a busy CPU).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

import numpy as np

from benchmarks.common import format_table, ratio_row

ROOT = Path(__file__).resolve().parents[1]
VENV_PYTHON = Path("/tmp/kv/venv-blackbox/bin/python")
CAT = 285


def reference_rise(model: Any, image: np.ndarray, n: int, s: int = 7, p1: float = 0.5, batch: int = 64,
                   all_classes: bool = True, target: int = CAT) -> np.ndarray:
    """The authors' RISE (Keras notebook), NumPy masks made up front."""
    from skimage.transform import resize

    size = image.shape[:2]
    cell_size = np.ceil(np.array(size) / s)
    up_size = (s + 1) * cell_size
    grid = (np.random.rand(n, s, s) < p1).astype("float32")
    masks = np.empty((n, *size))
    for i in range(n):
        x, y = np.random.randint(0, cell_size[0]), np.random.randint(0, cell_size[1])
        masks[i] = resize(grid[i], up_size, order=1, mode="reflect", anti_aliasing=False)[x : x + size[0], y : y + size[1]]
    masks = masks.reshape(-1, *size, 1)
    masked = image * masks
    preds = np.concatenate([model.predict(masked[i : i + batch], verbose=0) for i in range(0, n, batch)])
    if not all_classes:
        preds = preds[:, target : target + 1]
    return (preds.T.dot(masks.reshape(n, -1)).reshape(-1, *size) / n / p1)


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def rise_rows(lite0: Any, image: np.ndarray, masks: int) -> List[Dict[str, Any]]:
    import keras

    from kerasviz.blackbox import rise

    softmax_model = keras.Sequential([lite0.model, keras.layers.Softmax()])
    rise(lite0, image, CAT, masks=64)  # warm-up: trace the compiled forward once
    softmax_model.predict(image[None], verbose=0)
    ours = _timed(lambda: rise(lite0, image, CAT, masks=masks, batch_size=64))
    reference = _timed(lambda: reference_rise(softmax_model, image, masks))
    one_class = _timed(lambda: reference_rise(softmax_model, image, masks, all_classes=False))
    return [
        ratio_row(f"RISE {masks} masks, Lite0 224^2", "reference RISE (all classes)", "kv.rise", reference, ours),
        ratio_row(f"RISE {masks} masks, Lite0 224^2", "reference RISE (target class)", "kv.rise", one_class, ours),
    ]


def _linear_case() -> Dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 255, (224, 224, 3)).astype(np.float32)
    r = np.arange(224) * 10 // 224
    segments = (r[:, None] * 10 + r[None, :]).astype(np.int32)
    return {"image": image, "segments": segments, "W": rng.normal(0, 2, (100, 5)), "b": rng.normal(0, 0.5, 5)}


SHAP_CHILD = r"""
import json, sys, time
import numpy as np
sys.path.insert(0, sys.argv[2])
from blackbox_reference import linear_softmax
import shap
case = dict(np.load(sys.argv[1]))
image, segments, samples = case["image"], case["segments"], int(case["samples"])
m = int(segments.max()) + 1
def f(z):
    out = []
    for start in range(0, len(z), 64):
        keep = z[start:start + 64].astype(bool)[:, segments][..., None]
        out.append(linear_softmax(np.where(keep, image[None], 0.0), segments, case["W"], case["b"])[:, 2])
    return np.concatenate(out)
np.random.seed(0)
explainer = shap.KernelExplainer(f, np.zeros((1, m)))
start = time.perf_counter()
values = explainer.shap_values(np.ones((1, m)), nsamples=samples, l1_reg=False, silent=True)
print(json.dumps({"seconds": time.perf_counter() - start, "values": np.asarray(values).reshape(-1).tolist()}))
"""


def shap_rows(samples: int) -> List[Dict[str, Any]]:
    sys.path.insert(0, str(ROOT / "scripts"))
    from blackbox_reference import linear_softmax

    from kerasviz.blackbox import kernel_shap

    case = _linear_case()

    def predictor(images):
        return linear_softmax(images, case["segments"], case["W"], case["b"])

    start = time.perf_counter()
    _, ours = kernel_shap(predictor, case["image"], 2, segments=case["segments"], samples=samples, baseline=0.0,
                          return_segments=True, batch_size=64, progress=False)
    seconds = time.perf_counter() - start
    if not VENV_PYTHON.exists():
        print(f"shap venv missing ({VENV_PYTHON}): Kernel SHAP row skipped")
        return []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "case.npz"
        np.savez(path, samples=samples, **case)
        reply = subprocess.run([str(VENV_PYTHON), "-c", SHAP_CHILD, str(path), str(ROOT / "scripts")],
                               capture_output=True, text=True, check=True)
    result = json.loads(reply.stdout.strip().splitlines()[-1])
    agreement = float(np.corrcoef(ours, result["values"])[0, 1])
    print(f"Kernel SHAP agreement with shap on this case: correlation {agreement:.4f}")
    return [ratio_row(f"Kernel SHAP {samples} samples, 100 segments, 224^2", "shap.KernelExplainer", "kv.kernel_shap",
                      result["seconds"], seconds)]


def server_rows(lite0: Any, image: np.ndarray, masks: int) -> List[Dict[str, Any]]:
    import kerasviz.serving as serving
    from kerasviz.blackbox import PredictClient, rise
    from kerasviz.serving.classifier_export import export_classifier

    limit = 64 * 1024 * 1024
    with tempfile.TemporaryDirectory() as folder:
        export_classifier(lite0, folder)
        server = serving.ServingServer("lite0", folder, rest_api_port=None,
                                       model_config=serving.ModelConfigOptions(file_system_poll_wait_seconds=0),
                                       limits=serving.LimitOptions(max_message_bytes=limit))
        server.start()
        try:
            client = PredictClient(f"127.0.0.1:{server.grpc_port}", "lite0", max_message_bytes=limit, timeout=120)
            rise(client, image, CAT, masks=64, batch_size=64)  # warm-up
            local_s, served_s = [], []
            for _ in range(2):  # interleaved, so other load hits both alike
                local_s.append(_timed(lambda: rise(lite0, image, CAT, masks=masks, batch_size=64)))
                served_s.append(_timed(lambda: rise(client, image, CAT, masks=masks, batch_size=64)))
            difference = np.abs(rise(client, image, CAT, masks=64) - rise(lite0, image, CAT, masks=64)).max()
            print(f"served vs in-process RISE (64 masks): max |difference| {difference:.2e}")
        finally:
            server.stop(grace=0)
    return [ratio_row(f"RISE {masks} masks through gRPC, batch 64", "in process", "served", min(local_s), min(served_s))]


def run(quick: bool = False, masks: int = 4000, samples: int = 2048) -> List[Dict[str, Any]]:
    """All rows (quick: 256 masks, 512 samples)."""
    import kerasviz as kv
    from kerasviz.progress import set_progress

    set_progress(False)
    if quick:
        masks, samples = 256, 512
    lite0 = kv.load_backbone("efficientnet_lite0")
    image = kv.sample_image("chelsea", size=224)
    rows = rise_rows(lite0, image, masks)
    rows += shap_rows(samples)
    rows += server_rows(lite0, image, masks)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--masks", type=int, default=4000)
    parser.add_argument("--samples", type=int, default=2048)
    args = parser.parse_args()
    print(format_table(run(masks=args.masks, samples=args.samples)))
