"""Inspect fixtures: a small CNN trained on scikit-learn's digits, shifted and tinted so that
pixel-space neighbours are misled (position, colour) while learned features are not."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

SIZE = 24  # canvas side; each 8 x 8 digit is drawn at 16 x 16 at a random place on it


@dataclass
class Digits:
    model: object  # keras.Model: pixels [0, 255] (N, 32, 32, 3) -> 10 logits
    train_images: np.ndarray
    train_labels: np.ndarray
    images: np.ndarray  # held-out uint8 (N, 32, 32, 3)
    labels: np.ndarray


def _render(digits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """8 x 8 digits (0..16) -> uint8 RGB 32 x 32: upscaled x2, random place and colours."""
    out = np.empty((len(digits), SIZE, SIZE, 3), np.uint8)
    for i, digit in enumerate(digits):
        ink = np.kron(digit.reshape(8, 8) / 16.0, np.ones((2, 2)))[..., None]
        background = rng.uniform(0, 60, 3)  # dark background, bright ink of random tints
        colour = rng.uniform(200, 255, 3)
        canvas = np.broadcast_to(background, (SIZE, SIZE, 3)).copy()
        y, x = rng.integers(0, SIZE - 16 + 1, 2)
        canvas[y : y + 16, x : x + 16] = ink * colour + (1 - ink) * background
        out[i] = np.rint(canvas)
    return out


@pytest.fixture(scope="session")
def digits() -> Digits:
    import keras
    from sklearn.datasets import load_digits

    data = load_digits()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(data.target))
    train, test = order[:1400], order[1400:]
    x_train, x_test = _render(data.data[train], rng), _render(data.data[test], rng)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3)),
            keras.layers.Rescaling(1 / 255.0),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1"),
            keras.layers.MaxPooling2D(name="pool1"),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2"),
            keras.layers.MaxPooling2D(name="pool2"),
            keras.layers.Conv2D(64, 3, padding="same", activation="relu", name="conv3"),
            keras.layers.GlobalMaxPooling2D(name="gmp"),
            keras.layers.Dense(64, activation="relu", name="fc"),
            keras.layers.Dense(10, name="logits"),
        ],
        name="digits_cnn",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(x_train.astype("float32"), data.target[train], epochs=6, batch_size=32, verbose=0)
    return Digits(model, x_train, data.target[train], x_test, data.target[test])


@pytest.fixture(scope="session")
def vgg16():
    """VGG16 with random weights (offline): for receptive fields and shapes only."""
    import kerasviz

    return kerasviz.load_backbone("vgg16", weights=None)


@pytest.fixture()
def image_folder(tmp_path, digits):
    """A folder of 12 digit PNGs in two subfolders, a text file and a corrupt JPEG."""
    from kerasviz.images import save_image

    for i in range(12):
        save_image(tmp_path / f"class{i % 2}" / f"digit{i:02d}.png", digits.images[i])
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "class0" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (tmp_path / ".hidden.png").write_bytes(b"ignored")
    return tmp_path
