"""One collection run, planned: validated settings, the image stream, the shards, one shard's work.

`plan_collection` validates every argument once (both engines share it); `collect_shard` does
one shard's whole work - read its images in batches, run the compiled forward, write its rows -
and is what the in-process loop and every Beam worker call, so both produce the same files.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..checks import check_int, check_names
from ..errors import ImageError, ModelError, ParameterError
from ..images import parse_size
from .activation_rows import (
    activation_schema,
    compiled_forward,
    parse_spatial,
    rows_for_batch,
)
from .image_stream import ImageStream, open_stream
from .shards import ShardWriter

__all__ = ["CollectionPlan", "collect_shard", "model_fingerprint", "plan_collection"]


@dataclass
class CollectionPlan:
    """Everything a collection run needs besides the model (picklable except a Dataset source).

    Attributes:
        out: Output folder.
        stream: The image source.
        layers: Layer names.
        mode: `"mean"`, `"all"` or `"sample"`; `sample` its K.
        seed: Seed of the position sampling.
        batch_size: Images per forward call.
        shard_size: Images per shard (a multiple of `batch_size`).
        settings: What is recorded in the output folder and compared on resume.
    """

    out: str
    stream: ImageStream
    layers: tuple[str, ...]
    mode: str
    sample: int
    seed: int
    batch_size: int
    shard_size: int
    settings: dict[str, Any]

    @property
    def shard_count(self) -> int | None:
        """Number of shards, or `None` when the source's length is unknown."""
        if self.stream.count is None:
            return None
        return max(1, -(-self.stream.count // self.shard_size))

    def shard_range(self, shard: int) -> tuple[int, int]:
        """The global image indices `[start, stop)` of shard `shard`."""
        return shard * self.shard_size, (shard + 1) * self.shard_size


def model_fingerprint(model: Any) -> str:
    """A short hash of a model's architecture name, weight shapes and weight values.

    Args:
        model: A `Backbone` or Keras model.

    Returns:
        16 hex digits; equal for the same weights.
    """
    keras_model = getattr(model, "model", model)
    digest = hashlib.sha256(str(getattr(keras_model, "name", "")).encode())
    for weight in keras_model.weights:
        value = np.asarray(weight.numpy())
        digest.update(str(value.shape).encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    return digest.hexdigest()[:16]


def plan_collection(
    model: Any,
    source: Any,
    layers: Any,
    *,
    out: Any,
    batch_size: Any = 64,
    spatial: Any = "mean",
    image_size: Any = None,
    shard_size: Any = None,
    seed: Any = 0,
    image_key: str = "image/encoded",
    what: str = "activations",
) -> CollectionPlan:
    """Validate a collection's arguments and describe the run.

    Args:
        model: A `Backbone` or Keras model taking pixels `(N, H, W, 3)` in `[0, 255]`.
        source: Images (see `open_stream`).
        layers: A layer name or a list of them.
        out: Output folder.
        batch_size: Images per forward call (positive).
        spatial: `"mean"`, `"all"` or `"sample:K"`.
        image_size: `(height, width)` or an int for files / records / datasets; defaults to the
            model's input size.
        shard_size: Images per shard; defaults to `16 * batch_size`; rounded up to a multiple
            of `batch_size`.
        seed: Seed of `"sample:K"` position draws.
        image_key: TFRecord feature holding the encoded image.
        what: Kind of output, recorded in the settings.

    Returns:
        The plan.

    Raises:
        ParameterError: Bad numbers, `spatial`, or no `image_size` for files.
        ImageError: An empty or missing source.
        ModelError: Not a model.
    """
    from ..backbones import as_backbone

    if out is None or not isinstance(out, (str, os.PathLike)):
        raise ParameterError(f"`out` must be a folder path. Received: out={out!r}")
    names = check_names(layers, "layers")
    if not names:
        raise ModelError("Name at least one layer to collect. Received: layers=[]")
    batch_size = check_int(batch_size, "batch_size", low=1)
    mode, sample = parse_spatial(spatial)
    seed = check_int(seed, "seed", low=0)
    backbone = as_backbone(model)
    size = parse_size(image_size, "image_size") if image_size is not None else backbone.input_size
    stream = open_stream(source, image_size=size, image_key=image_key)
    if stream.kind == "array" and size is not None and tuple(stream.items.shape[1:3]) != tuple(size):
        raise ImageError(
            f"The model takes images of size {tuple(size)}; resize the arrays (e.g. "
            "`kerasviz.images.resize_image`) or pass files. Received: images of shape "
            f"{tuple(stream.items.shape)}"
        )
    if shard_size is None:
        shard_size = 16 * batch_size
    shard_size = check_int(shard_size, "shard_size", low=1)
    shard_size = -(-shard_size // batch_size) * batch_size
    settings = {
        "what": what,
        "layers": list(names),
        "spatial": spatial,
        "seed": seed,
        "image_size": list(size) if size is not None else None,
        "shard_size": shard_size,
        "model": model_fingerprint(backbone.model),
        "source": stream.fingerprint,
    }
    return CollectionPlan(
        os.fspath(out), stream, names, mode, sample, seed, batch_size, shard_size, settings
    )


def collect_shard(plan: CollectionPlan, model: Any, shard: int, bar: Any = None) -> tuple[int, list[str]]:
    """Compute and write one shard (atomically; an existing shard is rewritten identically).

    Args:
        plan: The run.
        model: The model (already loaded: a worker loads it once).
        shard: Shard number.
        bar: Optional progress bar, advanced by the images read.

    Returns:
        `(rows written, skipped ids)`; `(0, [])` and no file when the shard holds no image
        (past the end of a source of unknown length).
    """
    start, stop = plan.shard_range(shard)
    writer: ShardWriter | None = None
    try:
        for batch in plan.stream.read(start, stop, plan.batch_size):
            if writer is None:
                writer = ShardWriter(plan.out, shard, activation_schema())
            writer.skip(batch.skipped)
            if len(batch.indices):
                forward = compiled_forward(
                    model, plan.layers, batch.pixels.shape[1:], mean=plan.mode == "mean"
                )
                rows = rows_for_batch(
                    forward(batch.pixels),
                    plan.layers,
                    batch.indices,
                    batch.ids,
                    mode=plan.mode,
                    sample=plan.sample,
                    seed=plan.seed,
                )
                writer.write(rows)
            if bar is not None:
                bar.update(len(batch.indices) + len(batch.skipped))
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    if writer is None:
        return 0, []
    writer.close()
    return writer.rows, writer.skipped

