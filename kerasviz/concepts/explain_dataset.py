"""Batch attribution over a whole image set: maps to sharded Parquet (and PNGs), on either engine.

`explain_dataset(model, source, "saliency", out=...)` streams the images like
`collect_activations`, runs a registered attribution technique (or any function
`method(model, images, target=...) -> (N, H, W)`) batch by batch, and writes one row per image:
`image_index`, `image_id`, `target`, `height`, `width`, `map` (list<float32>, row-major). With
`png=True` each map is also saved as `out/png/<image_index>.png` (a jet heatmap). The same
shards, resuming and Beam runners as the collection (`runner="DirectRunner"`, ...).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..checks import check_bool, check_int
from ..errors import ParameterError
from ..images import parse_size
from .image_stream import ImageStream, open_stream
from .plan import model_fingerprint
from .shards import ShardWriter, check_settings, finished_shards, remove_stale_temporaries

__all__ = ["ExplainPlan", "explain_dataset", "explain_shard", "map_schema"]


def map_schema():
    """The Arrow schema of attribution shards.

    Returns:
        A `pyarrow.Schema`.
    """
    import pyarrow as pa

    return pa.schema(
        [
            ("image_index", pa.int64()),
            ("image_id", pa.string()),
            ("target", pa.int32()),
            ("height", pa.int32()),
            ("width", pa.int32()),
            ("map", pa.list_(pa.float32())),
        ]
    )


@dataclass
class ExplainPlan:
    """One batch-attribution run (picklable for Beam except a Dataset source).

    Attributes:
        out: Output folder.
        stream: The images.
        method: A registered technique name or a function.
        target: Class index, or `None` for each image's predicted class.
        options: Keyword options of the method.
        batch_size: Images per call.
        shard_size: Images per shard.
        png: Also save PNG heatmaps.
        settings: Recorded and compared on resume.
    """

    out: str
    stream: ImageStream
    method: Any
    target: Any
    options: dict
    batch_size: int
    shard_size: int
    png: bool
    settings: dict

    @property
    def shard_count(self) -> int | None:
        """Number of shards, or `None` when the source's length is unknown."""
        if self.stream.count is None:
            return None
        return max(1, -(-self.stream.count // self.shard_size))

    def shard_range(self, shard: int) -> tuple[int, int]:
        """The global image indices `[start, stop)` of shard `shard`."""
        return shard * self.shard_size, (shard + 1) * self.shard_size


def _method_function(method: Any):
    if callable(method):
        return method
    from ..registry import get_technique

    technique = get_technique(method)
    if technique.output not in ("heatmap", "relevance", "probability_drop"):
        raise ParameterError(
            f"explain_dataset writes one map per image; {technique.name!r} returns "
            f"{technique.output}. Use a heatmap technique (e.g. 'saliency', 'gradcam'). "
            f"Received: method={method!r}"
        )
    return technique.load()


def explain_shard(plan: ExplainPlan, model: Any, shard: int) -> tuple[int, list[str]]:
    """Compute and write one shard of maps (atomically).

    Args:
        plan: The run.
        model: The model (loaded once per worker).
        shard: Shard number.

    Returns:
        `(rows, skipped ids)`; `(0, [])` past the end of a source of unknown length.
    """
    import pyarrow as pa

    from ..images import colorize_map, save_image

    function = _method_function(plan.method)
    start, stop = plan.shard_range(shard)
    writer = None
    try:
        for batch in plan.stream.read(start, stop, plan.batch_size):
            if writer is None:
                writer = ShardWriter(plan.out, shard, map_schema())
            writer.skip(batch.skipped)
            if not len(batch.indices):
                continue
            if plan.target is None:
                from ..backbones import as_backbone

                targets = as_backbone(model).logits(batch.pixels).argmax(-1).astype(np.int32)
            else:
                targets = np.full(len(batch.indices), plan.target, np.int32)
            maps = np.asarray(function(model, batch.pixels, targets, **plan.options), np.float32)
            count, height, width = maps.shape
            values = pa.array(maps.reshape(-1))
            offsets = pa.array(np.arange(count + 1, dtype=np.int32) * height * width)
            writer.write(
                pa.RecordBatch.from_arrays(
                    [
                        pa.array(batch.indices),
                        pa.array(batch.ids, pa.string()),
                        pa.array(targets),
                        pa.array(np.full(count, height, np.int32)),
                        pa.array(np.full(count, width, np.int32)),
                        pa.ListArray.from_arrays(offsets, values),
                    ],
                    schema=map_schema(),
                )
            )
            if plan.png:
                for index, heat in zip(batch.indices, maps):
                    scaled = heat / max(float(np.abs(heat).max()), 1e-12)
                    save_image(
                        os.path.join(plan.out, "png", f"{int(index):08d}.png"),
                        colorize_map(np.clip(scaled, 0, 1)),
                    )
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    if writer is None:
        return 0, []
    writer.close()
    return writer.rows, writer.skipped


def explain_dataset(
    model: Any,
    source: Any,
    method: Any,
    out: Any,
    *,
    target: int | None = None,
    batch_size: int = 32,
    runner: str | None = None,
    image_size: Any = None,
    shard_size: int | None = None,
    png: bool = False,
    method_options: dict | None = None,
    progress: bool | None = None,
    **pipeline_options: Any,
) -> Any:
    """Attribution maps of a whole image set, written as sharded Parquet (and optional PNGs).

    Args:
        model: A `Backbone` or classifier Keras model taking pixels (a `str`: backbone name or
            `.keras` path, as in `collect_activations`).
        source: Images (folder, files, TFRecords, arrays; a `tf.data.Dataset` in-process only).
        method: A registered heatmap technique (`"saliency"`, `"gradcam"`,
            `"integrated_gradients"`, ...) or `method(model, images, target, **options)`
            returning float32 `(N, H, W)`.
        out: Output folder.
        target: Class index for every image, or `None` for each image's predicted class.
        batch_size: Images per call.
        runner: `None` (in this process) or a Beam runner name.
        image_size: Size files are resized to (default: the model's input size).
        shard_size: Images per shard (default `16 * batch_size`, a multiple of it).
        png: Also write `out/png/<image_index>.png` heatmaps.
        method_options: Keyword options for the method (e.g. `{"steps": 32}`).
        progress: Progress bar (in-process).
        **pipeline_options: Beam pipeline options (with `runner`), and `worker_threads=T`
            (TensorFlow threads per worker, as `collect_activations`).

    Returns:
        A `CollectionResult` (folder, shards, shards written now, rows, skipped ids).

    Raises:
        ParameterError: Unknown method, bad numbers, other settings in `out` (nothing is
            overwritten), or pipeline options without a runner.
        ImageError: An empty or unreadable source.
    """
    from ..backbones import as_backbone
    from ..progress import progress_bar
    from .collect import CollectionResult, require_pyarrow
    from .shards import shard_path, shard_skipped

    require_pyarrow()
    if pipeline_options and runner is None:
        raise ParameterError(
            f"Pipeline options need a Beam `runner`. Received: {sorted(pipeline_options)}"
        )
    loader = model if isinstance(model, str) else None
    if loader is not None:
        from .beam_pipeline import load_model_spec

        model = load_model_spec(loader)
    _method_function(method)
    batch_size = check_int(batch_size, "batch_size", low=1)
    png = check_bool(png, "png")
    backbone = as_backbone(model)
    backbone.require_classifier("explain_dataset")
    if target is not None:
        target = check_int(target, "target", low=0, high=backbone.num_classes - 1)
    size = parse_size(image_size, "image_size") if image_size is not None else backbone.input_size
    stream = open_stream(source, image_size=size)
    shard_size = check_int(16 * batch_size if shard_size is None else shard_size, "shard_size", low=1)
    shard_size = -(-shard_size // batch_size) * batch_size
    options = dict(method_options or {})
    settings = {
        "what": "attribution maps",
        "method": method if isinstance(method, str) else getattr(method, "__qualname__", repr(method)),
        "options": {k: repr(v) for k, v in sorted(options.items())},
        "target": target,
        "image_size": list(size) if size is not None else None,
        "shard_size": shard_size,
        "model": model_fingerprint(backbone.model),
        "source": stream.fingerprint,
    }
    plan = ExplainPlan(os.fspath(out), stream, method, target, options, batch_size, shard_size, png, settings)
    check_settings(plan.out, settings, what="set of attribution maps")
    remove_stale_temporaries(plan.out)
    if runner is not None:
        from .beam_pipeline import run_with_beam

        written = run_with_beam(plan, loader or model, runner, pipeline_options, work=explain_shard)
    else:
        done, written, shard = set(finished_shards(plan.out)), [], 0
        with progress_bar(total=plan.shard_count, desc="explain", progress=progress, unit="shard") as bar:
            while plan.shard_count is None or shard < plan.shard_count:
                if shard not in done:
                    rows, _ = explain_shard(plan, model, shard)
                    if not os.path.exists(shard_path(plan.out, shard)):
                        break
                    written.append(shard)
                bar.update(1)
                shard += 1
    paths = [str(shard_path(plan.out, n)) for n in finished_shards(plan.out)]
    import pyarrow.parquet as pq

    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in paths)
    skipped = [s for p in paths for s in shard_skipped(p)]
    return CollectionResult(plan.out, paths, written, rows, skipped)
