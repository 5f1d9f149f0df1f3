"""Small Keras CNNs whose PyTorch twins `scripts/zennit_reference.py` builds, and their weights.

`python tests/relevance/twins.py` writes `fixtures/<name>_weights.npz` (every weight by layer
name, the images and targets) for each model; then
`/tmp/kv/venv-zennit/bin/python scripts/zennit_reference.py tests/relevance/fixtures` writes
`fixtures/<name>_zennit.npz` (Zennit 0.5.1's relevance per composite). The tests rebuild the
Keras models and load the weights from the fixture, so they never depend on a random generator.

- `bn_cnn`: Rescaling(1/255), three Conv->BatchNorm->ReLU blocks (max pooling after the first
  two), global average pooling, Dense(32, relu), Dense(10).
- `residual_cnn`: Rescaling(1/255), Conv->BN->ReLU, a residual block (Conv->BN->ReLU->Conv->BN,
  `Add` with the shortcut, ReLU), max pooling, Conv->ReLU, global average pooling, Dense(10).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict

import keras
import numpy as np

SIZE = 32
FIXTURES = Path(__file__).parent / "fixtures"
L = keras.layers


def _conv_bn(x, filters: int, name: str, relu: bool = True):
    x = L.Conv2D(filters, 3, padding="same", name=f"{name}_conv")(x)
    x = L.BatchNormalization(epsilon=1e-3, name=f"{name}_bn")(x)
    return L.ReLU(name=f"{name}_relu")(x) if relu else x


def bn_cnn() -> keras.Model:
    """Conv->BN->ReLU blocks, max pooling, global average pooling, two Dense layers."""
    inputs = keras.Input((SIZE, SIZE, 3))
    x = L.Rescaling(1 / 255.0, name="rescale")(inputs)
    x = _conv_bn(x, 8, "block1")
    x = L.MaxPooling2D(name="pool1")(x)
    x = _conv_bn(x, 16, "block2")
    x = L.MaxPooling2D(name="pool2")(x)
    x = _conv_bn(x, 16, "block3")
    x = L.GlobalAveragePooling2D(name="gap")(x)
    x = L.Dense(32, activation="relu", name="fc1")(x)
    outputs = L.Dense(10, name="fc2")(x)
    return keras.Model(inputs, outputs, name="bn_cnn")


def residual_cnn() -> keras.Model:
    """A stem, one residual block (Add), max pooling, a convolution, pooling, Dense."""
    inputs = keras.Input((SIZE, SIZE, 3))
    x = L.Rescaling(1 / 255.0, name="rescale")(inputs)
    x = _conv_bn(x, 8, "stem")
    y = _conv_bn(x, 8, "res_a")
    y = _conv_bn(y, 8, "res_b", relu=False)
    x = L.Add(name="res_add")([x, y])
    x = L.ReLU(name="res_relu")(x)
    x = L.MaxPooling2D(name="pool")(x)
    x = L.Conv2D(16, 3, padding="same", activation="relu", name="head_conv")(x)
    x = L.GlobalAveragePooling2D(name="gap")(x)
    outputs = L.Dense(10, name="fc")(x)
    return keras.Model(inputs, outputs, name="residual_cnn")


TWINS: Dict[str, Callable[[], keras.Model]] = {"bn_cnn": bn_cnn, "residual_cnn": residual_cnn}


def randomize(model: keras.Model, seed: int) -> None:
    """Give every layer random weights, biases and BatchNorm statistics (all non-trivial)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            channels = layer.gamma.shape[0]
            layer.set_weights([
                rng.uniform(0.5, 1.5, channels), rng.normal(0, 0.2, channels),
                rng.normal(0, 0.3, channels), rng.uniform(0.5, 2.0, channels),
            ])
        elif isinstance(layer, (L.Conv2D, L.Dense)):
            kernel, bias = layer.get_weights()
            fan_in = int(np.prod(kernel.shape[:-1]))
            layer.set_weights([
                rng.normal(0, np.sqrt(2.0 / fan_in), kernel.shape), rng.normal(0, 0.05, bias.shape),
            ])


def weights_of(model: keras.Model) -> Dict[str, np.ndarray]:
    """Every weight as `"<layer>/<index>"` -> array (Keras layout)."""
    return {
        f"{layer.name}/{i}": np.asarray(w, np.float32)
        for layer in model.layers
        for i, w in enumerate(layer.get_weights())
    }


def load_twin(name: str) -> keras.Model:
    """The Keras model `name` with the weights of its fixture."""
    model = TWINS[name]()
    data = np.load(FIXTURES / f"{name}_weights.npz")
    for layer in model.layers:
        count = len(layer.get_weights())
        if count:
            layer.set_weights([data[f"{layer.name}/{i}"] for i in range(count)])
    return model


def write_fixtures() -> None:
    """Write `<name>_weights.npz` (weights, 4 images in [0, 255], targets) for every twin."""
    FIXTURES.mkdir(exist_ok=True)
    for seed, (name, build) in enumerate(TWINS.items()):
        keras.utils.set_random_seed(seed)
        model = build()
        randomize(model, seed)
        rng = np.random.default_rng(100 + seed)
        # smooth random images (a blurred noise field) rather than white noise
        coarse = rng.uniform(0, 255, (4, 8, 8, 3))
        images = np.kron(coarse, np.ones((1, 4, 4, 1))).astype(np.float32)
        images = np.clip(images + rng.normal(0, 20, images.shape), 0, 255).astype(np.float32)
        targets = np.array([0, 3, 5, 7], np.int64)
        np.savez_compressed(
            FIXTURES / f"{name}_weights.npz", images=images, targets=targets, **weights_of(model)
        )


if __name__ == "__main__":
    write_fixtures()
