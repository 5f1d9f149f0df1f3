"""Layer outputs -> Arrow rows: one row per (image, layer, position), the vector as a list column.

The forward pass is one compiled multi-output model (`kerasviz.features.FeatureModel`, cached per
model) wrapped in a `tf.function` traced once per image shape; `spatial="mean"` averages over
positions *inside* the compiled call, so only `(N, C)` leaves the device.

Positions: a feature map `(N, h, w, C)` has `h * w` positions (`position = y * w + x`), tokens
`(N, T, C)` have `T` (`y = x = -1`), a vector `(N, C)` has one (`position = -1`). `spatial`:
`"mean"` (one row per image and layer, `position = -1`), `"all"` (every position) or
`"sample:K"` (K positions drawn without replacement by a generator seeded with
`(seed, image index, layer number)`, so every worker draws the same ones).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..compiled import cached
from ..errors import ParameterError

__all__ = [
    "SCHEMA_FIELDS",
    "TOP_CLASS",
    "activation_schema",
    "compiled_forward",
    "parse_spatial",
    "rows_for_batch",
]

#: Key of the predicted class in the forward's result (absent for a headless model).
TOP_CLASS = "__top_class"

#: Column names of every shard, in order.
SCHEMA_FIELDS = ("image_index", "image_id", "layer", "position", "y", "x", "top_class", "activation")


def activation_schema():
    """The Arrow schema of every shard.

    Returns:
        A `pyarrow.Schema`.
    """
    import pyarrow as pa

    return pa.schema(
        [
            ("image_index", pa.int64()),
            ("image_id", pa.string()),
            ("layer", pa.string()),
            ("position", pa.int32()),
            ("y", pa.int32()),
            ("x", pa.int32()),
            ("top_class", pa.int32()),
            ("activation", pa.list_(pa.float32())),
        ]
    )


def parse_spatial(spatial: Any) -> tuple[str, int]:
    """Validate `spatial`.

    Args:
        spatial: `"mean"`, `"all"` or `"sample:K"` with K a positive int.

    Returns:
        `(mode, K)`: K is 0 unless the mode is `"sample"`.

    Raises:
        ParameterError: Anything else.
    """
    if spatial in ("mean", "all"):
        return spatial, 0
    if isinstance(spatial, str) and spatial.startswith("sample:"):
        count = spatial.split(":", 1)[1]
        if count.isdigit() and int(count) > 0:
            return "sample", int(count)
    raise ParameterError(
        "`spatial` must be 'mean', 'all' or 'sample:K' with K a positive int (e.g. 'sample:8'). "
        f"Received: spatial={spatial!r}"
    )


def _build_forward(features: Any, layers: tuple[str, ...], shape, mean: bool, logits: bool):
    import tensorflow as tf

    model = features.model

    @tf.function(input_signature=[tf.TensorSpec((None, *shape), tf.float32, name="images")])
    def forward(images):
        outputs = model(images, training=False)
        result = {}
        for name in layers:
            tensor = outputs[name]
            if mean and tensor.shape.rank > 2:
                tensor = tf.reduce_mean(tensor, axis=list(range(1, tensor.shape.rank - 1)))
            result[name] = tensor
        if logits:
            result[TOP_CLASS] = tf.argmax(outputs["logits"], axis=-1, output_type=tf.int32)
        return result

    return forward


def compiled_forward(
    model: Any, layers: Sequence[str], image_shape: tuple[int, int, int], *, mean: bool
) -> Callable[[np.ndarray], dict[str, np.ndarray]]:
    """The cached compiled forward: pixels -> each layer's output (and the predicted class).

    Args:
        model: A `Backbone` or Keras model taking pixels.
        layers: Layer names (validated by `FeatureModel`).
        image_shape: `(H, W, 3)` of the batches that will be fed.
        mean: Average each layer over its positions inside the compiled call.

    Returns:
        A function `(b, H, W, 3)` float32 -> dict of NumPy arrays (`TOP_CLASS`: int32 `(b,)`,
        only for a model with a classifier).

    Raises:
        LayerNotFoundError / ModelError: From `FeatureModel`.
    """
    from ..backbones import as_backbone
    from ..features import FeatureModel

    backbone = as_backbone(model)
    logits = backbone.has_classifier
    features = FeatureModel(backbone.model, list(layers), logits=logits)
    key = ("concepts_forward", tuple(layers), tuple(image_shape), bool(mean), logits)
    function = cached(
        backbone.model,
        key,
        lambda: _build_forward(features, tuple(layers), tuple(image_shape), mean, logits),
    )

    def run(pixels: np.ndarray) -> dict[str, np.ndarray]:
        return {name: value.numpy() for name, value in function(pixels).items()}

    run.function = function  # type: ignore[attr-defined]
    return run


def _positions(
    grid: tuple[int, ...], mode: str, sample: int, seed: int, index: int, layer_number: int
) -> np.ndarray:
    total = int(np.prod(grid))
    if mode == "all" or sample >= total:
        return np.arange(total)
    rng = np.random.default_rng([seed, int(index), layer_number])
    return np.sort(rng.choice(total, size=sample, replace=False))


def rows_for_batch(
    outputs: dict[str, np.ndarray],
    layers: Sequence[str],
    indices: np.ndarray,
    ids: Sequence[str],
    *,
    mode: str,
    sample: int,
    seed: int,
) -> Any | None:
    """Arrow rows of one batch: for each layer, for each image, its positions in order.

    Args:
        outputs: The forward's result for the batch (per layer `(b, ...)`, `TOP_CLASS` `(b,)`).
        layers: Layer names, in the order their rows are written.
        indices: int64 `(b,)` global image indices.
        ids: `b` image ids.
        mode: `"mean"`, `"all"` or `"sample"` (from `parse_spatial`).
        sample: K of `"sample:K"`.
        seed: Seed of the position sampling.

    Returns:
        A `pyarrow.RecordBatch` with `activation_schema()`, or `None` for an empty batch.
    """
    import pyarrow as pa

    count = len(indices)
    if count == 0:
        return None
    top = outputs.get(TOP_CLASS, np.full(count, -1, np.int32)).astype(np.int32)
    columns: dict[str, list[np.ndarray]] = {name: [] for name in SCHEMA_FIELDS if name != "image_id"}
    id_column: list[str] = []
    values: list[np.ndarray] = []
    for layer_number, layer in enumerate(layers):
        output = np.asarray(outputs[layer], np.float32)
        grid = output.shape[1:-1]
        if output.ndim == 2:  # a vector (or a mean): one row, position -1
            take: list[np.ndarray] = [np.zeros(1, np.int64)] * count
            flat = output.reshape(count, 1, -1)
        else:
            flat = output.reshape(count, -1, output.shape[-1])
            take = [_positions(grid, mode, sample, seed, i, layer_number) for i in indices]
        for row, chosen in enumerate(take):
            n = len(chosen)
            values.append(flat[row, chosen].reshape(-1))
            columns["image_index"].append(np.full(n, indices[row], np.int64))
            id_column.extend([ids[row]] * n)
            columns["layer"].append(np.full(n, layer_number, np.int32))
            columns["top_class"].append(np.full(n, top[row], np.int32))
            if output.ndim == 2:
                columns["position"].append(np.full(n, -1, np.int32))
                columns["y"].append(np.full(n, -1, np.int32))
                columns["x"].append(np.full(n, -1, np.int32))
            else:
                width = grid[1] if len(grid) == 2 else 0
                columns["position"].append(chosen.astype(np.int32))
                columns["y"].append((chosen // width if width else np.full(n, -1)).astype(np.int32))
                columns["x"].append((chosen % width if width else np.full(n, -1)).astype(np.int32))
    widths = np.concatenate(
        [np.full(len(c), outputs[layers[c[0]]].shape[-1]) for c in columns["layer"] if len(c)]
    )
    offsets = np.concatenate([[0], np.cumsum(widths)]).astype(np.int32)
    flat_values = np.concatenate(values).astype(np.float32, copy=False)
    activation = pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat_values))
    layer_ids = np.concatenate(columns["layer"])
    layer_names = np.asarray(list(layers), dtype=object)[layer_ids]
    return pa.RecordBatch.from_arrays(
        [
            pa.array(np.concatenate(columns["image_index"])),
            pa.array(id_column, pa.string()),
            pa.array(layer_names, pa.string()),
            pa.array(np.concatenate(columns["position"])),
            pa.array(np.concatenate(columns["y"])),
            pa.array(np.concatenate(columns["x"])),
            pa.array(np.concatenate(columns["top_class"])),
            activation,
        ],
        schema=activation_schema(),
    )
