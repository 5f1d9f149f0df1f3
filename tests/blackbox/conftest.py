"""Black-box fixtures: the stored lime / shap references, the small CNN they were built on, and a
small classifier exported and served on loopback."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
CAT, ESPRESSO = 285, 967


def zoo():
    """tests/model_zoo.py as a module."""
    import sys

    here = str(Path(__file__).parents[1])
    if here not in sys.path:
        sys.path.insert(0, here)
    import model_zoo

    return model_zoo


def linear_softmax(images, segments, w, b):
    """The reference script's predictor: softmax(segment gray means / 255 @ W + b)."""
    images = np.asarray(images, np.float64)
    gray = images.mean(axis=-1).reshape(len(images), -1)
    flat = segments.ravel()
    count = flat.max() + 1
    means = np.stack([np.bincount(flat, g, minlength=count) for g in gray]) / np.bincount(flat, minlength=count) / 255.0
    logits = means @ w + b
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture(scope="session")
def linear_case():
    """The stored linear-softmax case (image, segments, W, b, fill, target, lime, shap)."""
    return dict(np.load(FIXTURES / "linear_softmax.npz"))


@pytest.fixture(scope="session")
def linear_predictor(linear_case):
    """The linear-softmax case's predictor (a plain callable)."""
    segments, w, b = linear_case["segments"], linear_case["W"], linear_case["b"]
    return lambda images: linear_softmax(images, segments, w, b)


@pytest.fixture(scope="session")
def keras_case():
    """The stored small-CNN case and the model with its stored weights."""
    case = dict(np.load(FIXTURES / "keras_table.npz"))
    model = zoo().sequential_cnn()
    model.set_weights([case[f"weight_{i}"] for i in range(len(model.get_weights()))])
    case["model"] = model
    return case


@pytest.fixture(scope="session")
def small_classifier():
    """A seeded small Sequential CNN (32 x 32 pixels -> 10 softmax classes)."""
    keras.utils.set_random_seed(11)
    return zoo().sequential_cnn()


@pytest.fixture(scope="session")
def small_served(small_classifier, tmp_path_factory):
    """`small_classifier` exported with `export_classifier` and served on loopback."""
    from kerasviz.serving.classifier_export import export_classifier

    base = tmp_path_factory.mktemp("small_classifier")
    export_classifier(small_classifier, base)
    server = start_server("small", base)
    yield server
    server.stop(grace=0)


def start_server(name: str, base: Path):
    """A started embedded server on free loopback ports, without version polling."""
    from kerasviz.serving import ModelConfigOptions, ServingServer

    server = ServingServer(name, base, model_config=ModelConfigOptions(file_system_poll_wait_seconds=0))
    server.start()
    return server


@pytest.fixture(scope="session")
def start_blackbox_server():
    """`start(name, base)` -> a started embedded server (the test stops it)."""
    return start_server
