"""Layer activations of a whole image set, streamed to sharded Parquet, and read back.

`collect_activations(model, source, layers, out=...)` reads the images batch by batch (memory
holds one batch of images and one batch of rows, whatever the dataset's size), runs the compiled
multi-output forward (`kerasviz.features.FeatureModel`, cached per model), and writes one row per
(image, layer, position) into `out/part-NNNNN.parquet`. A rerun with the same settings skips the
finished shards; other settings raise `ParameterError` and change nothing. With `runner=` the
same shards are computed by an Apache Beam pipeline (`kerasviz.concepts.beam_pipeline`).

`load_activations(out, layer=...)` reads them back memory-mapped, only the asked columns;
`activation_matrix(table)` gives the vectors as one `(rows, C)` float32 array.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import KerasvizError, ParameterError
from ..images.folders import no_readable_image_error
from ..progress import progress_bar
from .plan import CollectionPlan, collect_shard, plan_collection
from .shards import (
    SETTINGS_FILE,
    check_settings,
    finished_shards,
    remove_stale_temporaries,
    shard_path,
    shard_skipped,
)

__all__ = ["CollectionResult", "activation_matrix", "collect_activations", "load_activations"]


@dataclass
class CollectionResult:
    """What a collection run left in its output folder.

    Attributes:
        out: The folder.
        shards: Paths of all shards (finished earlier or now), in order.
        written: Shard numbers computed by this call (the others were already there).
        rows: Rows in all shards.
        skipped: Ids of images that could not be read (all shards).
    """

    out: str
    shards: list[str]
    written: list[int]
    rows: int
    skipped: list[str]


def require_pyarrow() -> None:
    """Raise a clear error when pyarrow (the Parquet writer) is missing.

    Raises:
        KerasvizError: pyarrow is not installed.
    """
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise KerasvizError(
            "Writing Parquet needs pyarrow: `pip install pyarrow` (or `pip install "
            "kerasviz[beam]`). Received: no module named 'pyarrow'"
        ) from None


def summarize(plan: CollectionPlan, written: Sequence[int]) -> CollectionResult:
    """Describe the finished shards of a plan's output folder.

    Args:
        plan: The run.
        written: Shards computed by this call.

    Returns:
        The result.

    Raises:
        ImageError: No image of the source could be read.
    """
    import pyarrow.parquet as pq

    numbers = finished_shards(plan.out)
    paths = [str(shard_path(plan.out, n)) for n in numbers]
    skipped: list[str] = []
    rows = 0
    for path in paths:
        skipped.extend(shard_skipped(path))
        rows += pq.ParquetFile(path).metadata.num_rows
    if rows == 0 and skipped:
        raise no_readable_image_error(skipped)
    return CollectionResult(plan.out, paths, sorted(written), rows, skipped)


def run_in_process(plan: CollectionPlan, model: Any, progress: bool | None) -> list[int]:
    """Compute the missing shards of a plan in this process, in order.

    Args:
        plan: The run (settings already checked against the folder).
        model: The model.
        progress: Progress bar switch.

    Returns:
        The shard numbers written.
    """
    done = set(finished_shards(plan.out))
    written = []
    count = plan.shard_count
    with progress_bar(
        total=plan.stream.count, desc="collect activations", progress=progress, unit="img"
    ) as bar:
        shard = 0
        while count is None or shard < count:
            if shard in done:
                start, stop = plan.shard_range(shard)
                bar.update(min(stop, plan.stream.count or stop) - start)
                shard += 1
                continue
            _rows, _skipped = collect_shard(plan, model, shard, bar)
            if not os.path.exists(shard_path(plan.out, shard)):
                break  # past the end of a source of unknown length
            written.append(shard)
            shard += 1
    return written


def collect_activations(
    model: Any,
    source: Any,
    layers: Any,
    *,
    out: Any,
    batch_size: int = 64,
    spatial: str = "mean",
    runner: str | None = None,
    image_size: Any = None,
    shard_size: int | None = None,
    seed: int = 0,
    image_key: str = "image/encoded",
    progress: bool | None = None,
    **pipeline_options: Any,
) -> CollectionResult:
    """Stream a set of images through a model and write layer activations as sharded Parquet.

    Each shard `out/part-NNNNN.parquet` holds the rows of `shard_size` consecutive images:
    columns `image_index` (int64, order in the source), `image_id` (file path relative to the
    folder, or the index), `layer`, `position` / `y` / `x` (int32, -1 for a mean or a vector),
    `top_class` (int32 predicted class, -1 for a headless model) and `activation`
    (list<float32>, the C channels). `out/collection.json` records the settings.

    Args:
        model: A `Backbone` or Keras model taking pixels `(N, H, W, 3)` in `[0, 255]`. With a
            Beam runner it is saved once (`.keras`) and loaded once per worker; a `str` is read
            as a backbone name (`"efficientnet_lite0"`) or a `.keras` path, loaded by workers.
        source: A folder (the package's folder rule: recursive, sorted, hidden files ignored,
            unreadable files skipped and listed), a list of image files, TFRecord file(s)
            (`*.tfrecord` / `*.tfrec`, encoded images under `image_key`), images
            `(N, H, W, 3)` in `[0, 255]`, or a `tf.data.Dataset` of images (in-process only).
        layers: Layer name or names (nested models' layers and operation nodes too).
        out: Output folder; created if missing.
        batch_size: Images per forward call (memory holds one batch).
        spatial: `"mean"` (one row per image and layer), `"all"` (every position) or
            `"sample:K"` (K positions per image and layer, drawn reproducibly from `seed`).
        runner: `None` to compute in this process, or a Beam runner name (`"DirectRunner"`,
            `"FlinkRunner"`, `"SparkRunner"`, `"DataflowRunner"`); needs `kerasviz[beam]`.
        image_size: `(height, width)` files / records are resized to; defaults to the model's
            input size.
        shard_size: Images per shard (default `16 * batch_size`, rounded up to a multiple of it).
        seed: Seed of the `"sample:K"` draws.
        image_key: TFRecord feature with the encoded image.
        progress: Progress bar; `None` uses the global setting.
        **pipeline_options: Beam pipeline options, e.g. `direct_num_workers=2`,
            `direct_running_mode="multi_processing"`, `project=...` (only with `runner`), and
            `worker_threads=T`: TensorFlow threads per worker (`cores // workers` keeps
            workers from contending; see `beam_pipeline`).

    Returns:
        A `CollectionResult` (folder, shard paths, shards written now, rows, skipped ids).

    Raises:
        ParameterError: Bad arguments, pipeline options without a runner, or `out` holding a
            run with other settings (nothing is overwritten).
        ImageError: A missing or empty source, or no readable image.
        LayerNotFoundError / ModelError: Unknown layers or an unusable model.
        KerasvizError: pyarrow (or, with a runner, apache-beam) is not installed.
    """
    require_pyarrow()
    if pipeline_options and runner is None:
        raise ParameterError(
            "Pipeline options only apply to a Beam run; pass `runner='DirectRunner'` (or another "
            f"Beam runner). Received: {sorted(pipeline_options)}"
        )
    loader = model if isinstance(model, str) else None
    if loader is not None:
        from .beam_pipeline import load_model_spec

        model = load_model_spec(loader)
    plan = plan_collection(
        model,
        source,
        layers,
        out=out,
        batch_size=batch_size,
        spatial=spatial,
        image_size=image_size,
        shard_size=shard_size,
        seed=seed,
        image_key=image_key,
    )
    # Validate the layers (and build the compiled forward) before touching the folder.
    from ..features import FeatureModel

    FeatureModel(model, list(plan.layers), logits=False)
    check_settings(plan.out, plan.settings)
    remove_stale_temporaries(plan.out)
    if runner is None:
        written = run_in_process(plan, model, progress)
    else:
        from .beam_pipeline import run_with_beam

        written = run_with_beam(plan, loader or model, runner, pipeline_options)
    return summarize(plan, written)


def load_activations(
    out: Any,
    layer: str | None = None,
    *,
    columns: Sequence[str] | None = None,
    memory_map: bool = True,
) -> Any:
    """Read collected activations back as one Arrow table (memory-mapped, only asked columns).

    Args:
        out: A folder written by `collect_activations`.
        layer: Keep only this layer's rows (`None`: all layers).
        columns: Columns to read (default all; see `collect_activations`).
        memory_map: Map the files instead of reading them (large sets stay on disk).

    Returns:
        A `pyarrow.Table` in shard order.

    Raises:
        ParameterError: Not a collection folder, an unknown layer or column, or shards whose
            columns or layers disagree with each other or with the recorded settings.
    """
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from .activation_rows import SCHEMA_FIELDS, activation_schema

    require_pyarrow()
    folder = pathlib.Path(os.fspath(out))
    record = folder / SETTINGS_FILE
    numbers = finished_shards(folder)
    if not record.exists() or not numbers:
        raise ParameterError(
            "Expected a folder written by `collect_activations` (Parquet shards and "
            f"{SETTINGS_FILE}). Received: out={os.fspath(out)!r}"
        )
    settings = json.loads(record.read_text())
    known = settings.get("layers", [])
    if layer is not None and layer not in known:
        raise ParameterError(f"Layer {layer!r} was not collected; collected: {known}. Received: layer={layer!r}")
    wanted = list(SCHEMA_FIELDS) if columns is None else list(columns)
    unknown = [c for c in wanted if c not in SCHEMA_FIELDS]
    if unknown:
        raise ParameterError(f"Unknown columns {unknown}; columns are {list(SCHEMA_FIELDS)}. Received: columns={list(wanted)}")
    read = wanted if layer is None or "layer" in wanted else wanted + ["layer"]
    tables = []
    for number in numbers:
        path = shard_path(folder, number)
        schema = pq.read_schema(str(path)).remove_metadata()
        if not schema.equals(activation_schema()):
            raise ParameterError(
                f"Shard {path.name} has other columns than the rest ({schema.names}); it was not "
                f"written by this collection. Received: out={os.fspath(out)!r}"
            )
        table = pq.read_table(str(path), columns=read, memory_map=memory_map)
        if "layer" in read:
            present = set(table.column("layer").unique().to_pylist())
            if not present <= set(known):
                raise ParameterError(
                    f"Shard {path.name} holds layers {sorted(present - set(known))} that this "
                    f"collection did not ask for ({known}): shards from different runs are "
                    f"mixed. Received: out={os.fspath(out)!r}"
                )
        if layer is not None:
            import pyarrow.compute as pc

            table = table.filter(pc.equal(table.column("layer"), layer))
        tables.append(table.select(wanted))
    return pa.concat_tables(tables)


def activation_matrix(table: Any) -> np.ndarray:
    """The `activation` column as one float32 array `(rows, C)` (all rows the same layer).

    Args:
        table: A table from `load_activations` (with the `activation` column).

    Returns:
        float32 `(rows, C)`.

    Raises:
        ParameterError: No `activation` column, or vectors of different lengths (mixed layers:
            pass `layer=` to `load_activations`).
    """
    if "activation" not in table.column_names:
        raise ParameterError(
            "The table has no 'activation' column; load it with that column. "
            f"Received: columns={table.column_names}"
        )
    column = table.column("activation").combine_chunks()
    if len(column) == 0:
        return np.zeros((0, 0), np.float32)
    lengths = np.diff(np.asarray(column.offsets))
    if lengths.min() != lengths.max():
        raise ParameterError(
            "The rows hold vectors of different lengths (several layers); pass `layer=` to "
            f"`load_activations`. Received: lengths {sorted(set(lengths.tolist()))[:5]}"
        )
    values = column.flatten().to_numpy(zero_copy_only=False)
    return values.reshape(len(column), int(lengths[0])).astype(np.float32, copy=False)
