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
