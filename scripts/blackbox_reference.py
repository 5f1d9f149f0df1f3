"""Reference LIME / Kernel SHAP values for kerasviz's black-box tests, from `lime` 0.2 and `shap`.

lime and shap are not kerasviz dependencies, so the reference runs in its own venv:

    python -m venv /tmp/kv/venv-blackbox
    /tmp/kv/venv-blackbox/bin/pip install lime==0.2.0.1 shap scikit-image
    python scripts/blackbox_reference.py tables            # kerasviz env: the Keras model's table
    /tmp/kv/venv-blackbox/bin/python scripts/blackbox_reference.py reference

Two deterministic predictors, both reproducible in either environment without TensorFlow:

- `linear_softmax.npz`: a 48 x 48 image cut in 36 square segments; the predictor is a fixed
  linear-softmax over the segments' mean gray levels (weights `W`, `b` stored); hidden segments
  are filled with 0.
- `keras_table.npz`: a 32 x 32 image cut in 10 segments, explained for the small Sequential CNN
  of `tests/model_zoo.py` (its weights stored). Its probabilities on all 2**10 coalitions
  (hidden segments at their mean colour, lime's `hide_color=None`) are computed in the kerasviz
  environment (`tables`) and the reference predictor looks them up.

For each, lime's `LimeImageExplainer().explain_instance(..., hide_color, num_samples, segmentation_fn
returning the stored segments)` coefficients of the target class (every segment: lime's default
`num_features=100000`) and shap's `KernelExplainer(f, zeros((1, M))).shap_values(ones((1, M)),
nsamples, l1_reg=False)` are stored.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "blackbox" / "fixtures"
LIME_SAMPLES = 6000
SHAP_SAMPLES = 2048


def block_segments(height: int, width: int, rows: int, cols: int) -> np.ndarray:
    """`rows x cols` rectangular segments labelled row by row."""
    r = np.minimum(np.arange(height) * rows // height, rows - 1)
    c = np.minimum(np.arange(width) * cols // width, cols - 1)
    return (r[:, None] * cols + c[None, :]).astype(np.int32)


def segment_gray_means(images: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """`(N, M)` mean gray level / 255 of each segment."""
    gray = images.mean(axis=-1).reshape(len(images), -1)
    flat = segments.ravel()
    count = flat.max() + 1
    sums = np.stack([np.bincount(flat, g, minlength=count) for g in gray])
    return sums / np.bincount(flat, minlength=count) / 255.0


def linear_softmax(images: np.ndarray, segments: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The fixed predictor: softmax(segment gray means @ W + b)."""
    logits = segment_gray_means(np.asarray(images, np.float64), segments) @ w + b
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def coalitions_of(images: np.ndarray, image: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """Which segments of each image still show `image` (bit i = segment i kept)."""
    same = np.all(np.isclose(images, image[None], atol=1e-3), axis=-1).reshape(len(images), -1)
    flat = segments.ravel()
    kept = np.stack([np.bincount(flat, s.astype(float), minlength=flat.max() + 1) for s in same])
    return (kept == np.bincount(flat)).astype(np.int64)


def make_linear_softmax() -> dict:
    rng = np.random.default_rng(7)
    image = rng.uniform(20, 235, (48, 48, 3)).astype(np.float32)
    image += np.linspace(0, 20, 48, dtype=np.float32)[None, :, None]
    image = np.clip(image, 0, 255)
    segments = block_segments(48, 48, 6, 6)
    w = rng.normal(0, 2.0, (36, 4))
    b = rng.normal(0, 0.5, 4)
    return {"image": image, "segments": segments, "W": w, "b": b, "fill": np.float32(0.0), "target": np.int64(2)}


def tables() -> None:
    """kerasviz env: the Keras model's weights and its probabilities on every coalition."""
    import keras

    sys.path.insert(0, str(FIXTURES.parents[1]))
    from model_zoo import sequential_cnn

    from kerasviz.blackbox.baselines import segment_means

    keras.utils.set_random_seed(3)
    model = sequential_cnn()
    rng = np.random.default_rng(3)
    image = rng.uniform(0, 255, (32, 32, 3)).astype(np.float32)
    segments = block_segments(32, 32, 2, 5)
    fill = segment_means(image, segments)
    m = int(segments.max()) + 1
    codes = np.arange(2**m)
    rows = (codes[:, None] >> np.arange(m)[None]) & 1
    keep = rows[:, segments][..., None].astype(bool)
    images = np.where(keep, image[None], fill[None]).astype(np.float32)
    table = model.predict(images, batch_size=256, verbose=0).astype(np.float64)
    target = int(table[-1].argmax())
    weights = {f"weight_{i}": w for i, w in enumerate(model.get_weights())}
    np.savez_compressed(FIXTURES / "keras_table.npz", image=image, segments=segments, fill=fill, table=table,
                        target=np.int64(target), **weights)
    print("keras table", table.shape, "target", target)


def explain(image, segments, fill_value, predictor, target, hide_color):
    """lime's and shap's values of every segment for `target`."""
    import shap
    from lime import lime_image

    m = int(segments.max()) + 1
    explainer = lime_image.LimeImageExplainer(random_state=0)
    explanation = explainer.explain_instance(
        image.astype(np.float64), predictor, labels=(target,), top_labels=None, hide_color=hide_color,
        num_samples=LIME_SAMPLES, batch_size=256, segmentation_fn=lambda _: segments, random_seed=0,
    )
    lime_values = np.zeros(m)
    for feature, value in explanation.local_exp[target]:
        lime_values[feature] = value

    def masked(z):
        keep = z.astype(bool)[:, segments][..., None]
        return np.where(keep, image[None], fill_value[None])

    def f(z):
        return predictor(masked(z))[:, target]

    np.random.seed(0)
    kernel = shap.KernelExplainer(f, np.zeros((1, m)))
    shap_values = np.asarray(kernel.shap_values(np.ones((1, m)), nsamples=SHAP_SAMPLES, l1_reg=False, silent=True)).reshape(-1)
    return lime_values, shap_values


def reference() -> None:
    """lime / shap venv: the reference values of both fixtures."""
    case = make_linear_softmax()
    image, segments = case["image"], case["segments"]
    fill = np.full_like(image, case["fill"])

    def predictor(images):
        return linear_softmax(images, segments, case["W"], case["b"])

    lime_values, shap_values = explain(image, segments, fill, predictor, int(case["target"]), hide_color=0)
    np.savez_compressed(FIXTURES / "linear_softmax.npz", **case, lime=lime_values, shap=shap_values,
                        lime_samples=LIME_SAMPLES, shap_samples=SHAP_SAMPLES)
    print("linear softmax lime", np.round(lime_values[:6], 4), "shap", np.round(shap_values[:6], 4))

    stored = dict(np.load(FIXTURES / "keras_table.npz"))
    image, segments, table = stored["image"], stored["segments"], stored["table"]
    powers = 2 ** np.arange(int(segments.max()) + 1)

    def lookup(images):
        return table[coalitions_of(np.asarray(images), image, segments) @ powers]

    lime_values, shap_values = explain(image, segments, stored["fill"], lookup, int(stored["target"]), hide_color=None)
    stored.update(lime=lime_values, shap=shap_values, lime_samples=LIME_SAMPLES, shap_samples=SHAP_SAMPLES)
    np.savez_compressed(FIXTURES / "keras_table.npz", **stored)
    print("keras table lime", np.round(lime_values, 4), "shap", np.round(shap_values, 4))


if __name__ == "__main__":
    FIXTURES.mkdir(parents=True, exist_ok=True)
    {"tables": tables, "reference": reference}[sys.argv[1] if len(sys.argv) > 1 else "reference"]()
