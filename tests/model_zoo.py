"""Small Keras models of every kind kerasviz promises to handle, for tests (built in seconds).

Every model takes pixels `(N, 32, 32, 3)` in `[0, 255]` (the headless one any size) and, where
it has a classifier, outputs 10 classes (digits). `tests/conftest.py` builds them once per
session as fixtures (`zoo_*`); `small_vit` is also trained on scikit-learn's digits there.

- `sequential_cnn`: a Sequential CNN ending in a softmax Dense.
- `nested_model`: a Sequential holding a Functional convolutional base (transfer learning).
- `headless_backbone`: a feature extractor whose output is a feature map `(N, h, w, C)`.
- `ops_model`: a Functional model built with `keras.ops` (`x + y`, `ops.relu`, a
  squeeze-excitation-like gate from `ops.mean`, `x * gate`): operation nodes, not layers.
- `multi_output_model`: outputs `[feature map, class probabilities]`, named.
- `SubclassedNet` / `subclassed_model`: `class Net(keras.Model)` with `call` (no layer graph).
- `small_vit`: a vision transformer: patch-embedding Conv2D (4 x 4 patches -> an 8 x 8 grid), a
  learned class token, position embeddings, two pre-norm `keras.layers.MultiHeadAttention`
  blocks; token layers are `(N, 65, D)` (1 class token + 64 patches).
- `digits_dataset`: scikit-learn digits drawn at 24 x 24 on a 32 x 32 dark canvas (random place,
  so there is an empty border), with the ink masks for pointing measures.
"""

from __future__ import annotations

from typing import Tuple

import keras
import numpy as np

SIZE = 32
CLASSES = 10
VIT_PATCH = 4
VIT_GRID = SIZE // VIT_PATCH  # 8 x 8 patches
VIT_DIM = 32


def sequential_cnn() -> keras.Model:
    """A Sequential CNN, pixels -> softmax over 10 classes."""
    return keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3)),
            keras.layers.Rescaling(1 / 255.0, name="rescale"),
            keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1"),
            keras.layers.MaxPooling2D(name="pool1"),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2"),
            keras.layers.MaxPooling2D(name="pool2"),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv3"),
            keras.layers.GlobalAveragePooling2D(name="gap"),
            keras.layers.Dense(CLASSES, activation="softmax", name="probabilities"),
        ],
        name="sequential_cnn",
    )


def _conv_base(name: str, shape=(SIZE, SIZE, 3)) -> keras.Model:
    inputs = keras.Input(shape)
    x = keras.layers.Rescaling(1 / 255.0, name=f"{name}_rescale")(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name=f"{name}_conv1")(x)
    x = keras.layers.MaxPooling2D(name=f"{name}_pool1")(x)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name=f"{name}_conv2")(x)
    x = keras.layers.MaxPooling2D(name=f"{name}_pool2")(x)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name=f"{name}_conv3")(x)
    return keras.Model(inputs, x, name=name)


def nested_model() -> keras.Model:
    """A Sequential holding a Functional base, then pooling and a softmax Dense."""
    return keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3)),
            _conv_base("base"),
            keras.layers.GlobalAveragePooling2D(name="gap"),
            keras.layers.Dense(CLASSES, activation="softmax", name="probabilities"),
        ],
        name="nested",
    )


def headless_backbone() -> keras.Model:
    """A feature extractor: pixels of any size -> `(N, H/4, W/4, 16)` feature map."""
    return _conv_base("headless", shape=(None, None, 3))


def ops_model() -> keras.Model:
    """A Functional model whose merges, nonlinearity and gate are `keras.ops` operation nodes."""
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Rescaling(1 / 255.0, name="rescale")(inputs)
    a = keras.layers.Conv2D(8, 3, padding="same", name="conv_a")(x)
    b = keras.layers.Conv2D(8, 3, padding="same", name="conv_b")(x)
    x = keras.ops.relu(a + b)  # Add and Relu operation nodes
    gate = keras.ops.sigmoid(keras.ops.mean(x, axis=(1, 2), keepdims=True))  # global side branch
    x = x * gate  # Multiply operation node
    x = keras.layers.MaxPooling2D(name="pool")(x)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv_c")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="ops_model")


def multi_output_model() -> keras.Model:
    """Outputs `{"features": (N, 8, 8, 16), "classes": (N, 10) probabilities}` (a dict)."""
    base = _conv_base("multi")
    inputs = keras.Input((SIZE, SIZE, 3))
    features = base(inputs)
    pooled = keras.layers.GlobalAveragePooling2D(name="gap")(features)
    classes = keras.layers.Dense(CLASSES, activation="softmax", name="classes")(pooled)
    return keras.Model(inputs, {"features": features, "classes": classes}, name="multi_output")


class SubclassedNet(keras.Model):
    """A subclassed CNN (`call`, no layer graph): pixels -> 10 logits."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.conv1 = keras.layers.Conv2D(8, 3, padding="same", activation="relu")
        self.pool = keras.layers.MaxPooling2D()
        self.conv2 = keras.layers.Conv2D(16, 3, padding="same", activation="relu")
        self.gap = keras.layers.GlobalAveragePooling2D()
        self.head = keras.layers.Dense(CLASSES)

    def call(self, inputs):
        x = self.conv1(inputs / 255.0)
        return self.head(self.gap(self.conv2(self.pool(x))))


def subclassed_model() -> keras.Model:
    """A built `SubclassedNet` (called once on zeros, so its input shape is known)."""
    model = SubclassedNet(name="subclassed")
    model(np.zeros((1, SIZE, SIZE, 3), np.float32))
    return model


class ClassToken(keras.layers.Layer):
    """Prepends one learned token: `(N, T, D)` -> `(N, T + 1, D)`."""

    def build(self, input_shape) -> None:
        self.token = self.add_weight(shape=(1, 1, input_shape[-1]), initializer="zeros", name="token")

    def call(self, tokens):
        batch = keras.ops.shape(tokens)[0]
        token = keras.ops.broadcast_to(self.token, (batch, 1, keras.ops.shape(tokens)[-1]))
        return keras.ops.concatenate([token, tokens], axis=1)


class PositionEmbedding(keras.layers.Layer):
    """Adds a learned embedding per token position."""

    def build(self, input_shape) -> None:
        self.embedding = self.add_weight(
            shape=(1, input_shape[1], input_shape[2]),
            initializer=keras.initializers.RandomNormal(stddev=0.02),
            name="embedding",
        )

    def call(self, tokens):
        return tokens + self.embedding


def small_vit(depth: int = 2, heads: int = 4) -> keras.Model:
    """A small ViT on 32 x 32 pixels: 8 x 8 patch grid + 1 class token, `depth` attention blocks.

    A 3 x 3 convolution stem before the patch embedding (a "hybrid" ViT) lets it learn digits in
    a few seconds on a CPU.

    Token layers (`(N, 65, 32)`): `class_token`, `position_embedding`, `block{i}_add1`,
    `block{i}_add2`, `final_norm`; attention layers `block{i}_attention` (MultiHeadAttention).
    """
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="rescale")(inputs)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="stem")(x)
    x = keras.layers.Conv2D(VIT_DIM, VIT_PATCH, strides=VIT_PATCH, name="patch_embedding")(x)
    x = keras.layers.Reshape((VIT_GRID * VIT_GRID, VIT_DIM), name="patch_tokens")(x)
    x = ClassToken(name="class_token")(x)
    x = PositionEmbedding(name="position_embedding")(x)
    for i in range(depth):
        y = keras.layers.LayerNormalization(epsilon=1e-6, name=f"block{i}_norm1")(x)
        y = keras.layers.MultiHeadAttention(heads, VIT_DIM // heads, name=f"block{i}_attention")(y, y)
        x = keras.layers.Add(name=f"block{i}_add1")([x, y])
        y = keras.layers.LayerNormalization(epsilon=1e-6, name=f"block{i}_norm2")(x)
        y = keras.layers.Dense(2 * VIT_DIM, activation="gelu", name=f"block{i}_mlp1")(y)
        y = keras.layers.Dense(VIT_DIM, name=f"block{i}_mlp2")(y)
        x = keras.layers.Add(name=f"block{i}_add2")([x, y])
    x = keras.layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)
    cls = x[:, 0]  # an operation node
    outputs = keras.layers.Dense(CLASSES, activation="softmax", name="head")(cls)
    return keras.Model(inputs, outputs, name="small_vit")


def digits_dataset(seed: int = 0) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn digits as uint8 RGB `(N, 32, 32, 3)`, labels `(N,)` and ink masks `(N, 32, 32)`.

    Each 8 x 8 digit is enlarged x3 to 24 x 24 and drawn at a random place on a dark canvas, so
    every image has an empty border; the mask marks the stroke pixels (ink > 25 %).
    """
    from sklearn.datasets import load_digits

    data = load_digits()
    rng = np.random.default_rng(seed)
    count = len(data.target)
    images = np.empty((count, SIZE, SIZE, 3), np.uint8)
    masks = np.zeros((count, SIZE, SIZE), bool)
    for i, digit in enumerate(data.images):
        ink = np.kron(digit / 16.0, np.ones((3, 3)))
        canvas = np.zeros((SIZE, SIZE))
        y, x = rng.integers(0, SIZE - 24 + 1, 2)
        canvas[y : y + 24, x : x + 24] = ink
        masks[i] = canvas > 0.25
        images[i] = np.rint(20 + 235 * canvas)[..., None].astype(np.uint8)
    return images, data.target.astype(np.int64), masks


def train(model: keras.Model, images: np.ndarray, labels: np.ndarray, epochs: int = 8) -> float:
    """Train a pixels -> probabilities model briefly with Adam; returns its training accuracy."""
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        images.astype(np.float32), labels, batch_size=32, epochs=epochs, verbose=0, shuffle=True
    )
    return float(history.history["accuracy"][-1])
