"""Fixtures of the concept tests: small zoo models and a few hundred digit images."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


@pytest.fixture(scope="session")
def cnn():
    """The zoo's Sequential CNN (untrained, seeded), 32 x 32 pixels -> 10 classes."""
    import keras
    import model_zoo

    keras.utils.set_random_seed(0)
    return model_zoo.sequential_cnn()


@pytest.fixture(scope="session")
def digit_images(zoo_digits) -> np.ndarray:
    """200 digit images, float32 `(200, 32, 32, 3)` in `[0, 255]`."""
    return zoo_digits[0][:200].astype(np.float32)


@pytest.fixture(scope="session")
def trained_cnn(zoo_digits):
    """The zoo's Sequential CNN trained 3 epochs on the first 600 digits (the atlas tests' model)."""
    import keras
    import model_zoo

    keras.utils.set_random_seed(0)
    model = model_zoo.sequential_cnn()
    model_zoo.train(model, zoo_digits[0][:600], zoo_digits[1][:600], epochs=3)
    return model
