"""Session-wide fixtures: the real Lite0 backbone and bundled photos (built once per test run)."""

from __future__ import annotations

import os

os.environ.setdefault("KERASVIZ_PROGRESS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def lite0():
    """EfficientNet-Lite0 with its real ImageNet weights (converted once, then cached)."""
    import kerasviz

    return kerasviz.load_backbone("efficientnet_lite0")


@pytest.fixture(scope="session")
def chelsea() -> np.ndarray:
    """skimage's `chelsea()` (an Egyptian cat, class 285) at 224 x 224, float32 pixels."""
    from kerasviz.images import sample_image

    return sample_image("chelsea", size=224)


@pytest.fixture(scope="session")
def coffee() -> np.ndarray:
    """skimage's `coffee()` (espresso, class 967) at 224 x 224, float32 pixels."""
    from kerasviz.images import sample_image

    return sample_image("coffee", size=224)


# --- The model zoo (tests/model_zoo.py): one model of every kind kerasviz promises to handle ---


def _zoo():
    import sys
    from pathlib import Path

    here = str(Path(__file__).parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import model_zoo

    return model_zoo


@pytest.fixture(scope="session")
def zoo_digits():
    """`(images uint8 (N, 32, 32, 3), labels (N,), ink masks (N, 32, 32))`; digits with a border."""
    return _zoo().digits_dataset()


def _seeded(build):
    import keras

    keras.utils.set_random_seed(0)
    return build()


@pytest.fixture(scope="session")
def zoo_sequential():
    """Sequential CNN ending in softmax (untrained), 32 x 32 pixels -> 10 classes."""
    return _seeded(_zoo().sequential_cnn)


@pytest.fixture(scope="session")
def zoo_nested():
    """Sequential holding a Functional base (untrained)."""
    return _seeded(_zoo().nested_model)


@pytest.fixture(scope="session")
def zoo_headless():
    """Feature extractor, any size -> (N, H/4, W/4, 16) (untrained)."""
    return _seeded(_zoo().headless_backbone)


@pytest.fixture(scope="session")
def zoo_ops():
    """Functional model built with keras.ops operation nodes (untrained)."""
    return _seeded(_zoo().ops_model)


@pytest.fixture(scope="session")
def zoo_multi_output():
    """Dict outputs {"features", "classes"} (untrained)."""
    return _seeded(_zoo().multi_output_model)


@pytest.fixture(scope="session")
def zoo_subclassed():
    """A built subclassed model (call method, no graph), 32 x 32 pixels -> 10 logits."""
    return _seeded(_zoo().subclassed_model)


@pytest.fixture(scope="session")
def zoo_vit(zoo_digits):
    """The small ViT trained on the first 1400 digits (about 60-80 % held-out accuracy; ~10-30 s).

    Held-out images for measurements: `zoo_digits[0][1400:]`.
    """
    zoo = _zoo()
    vit = _seeded(zoo.small_vit)
    images, labels, _ = zoo_digits
    zoo.train(vit, images[:1400], labels[:1400], epochs=10)
    return vit
