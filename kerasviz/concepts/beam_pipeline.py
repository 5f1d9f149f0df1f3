"""The collection (and batch attribution) as an Apache Beam pipeline, for any Beam runner.

Pipeline: `Create(missing shard numbers) -> Reshuffle -> ParDo(ShardFn)`. `Reshuffle` spreads
the shards over the workers; `ShardFn.setup` loads the model **once per worker** (from the
`.keras` bytes shipped with the pipeline, a `.keras` path readable by the worker - `gs://` too -
or a backbone name), and `process` runs the same `collect_shard` as the in-process path: read
the shard's images in batches, run the compiled forward, write the shard atomically. A retried
bundle rewrites the same file, so the output has no duplicates whatever the runner retries.

Runners: `DirectRunner` locally (`direct_num_workers=2, direct_running_mode="multi_processing"`
for real parallelism), `FlinkRunner`, `SparkRunner` or `DataflowRunner` in production, with
their options as keyword arguments (`flink_master=...`, `project=..., region=...,
temp_location=...`); `out` and the source must then be on storage the workers share.

One option among them is kerasviz's, not Beam's: `worker_threads=T` gives each worker's
TensorFlow `T` intra-op and `T` inter-op threads, set in `setup` before the worker's TensorFlow
runs anything. TensorFlow alone uses every core, so W workers on C cores contend unless
`worker_threads = C // W` (`threads_per_worker(workers)`). It applies to workers in their own
processes (multi-processing DirectRunner, Flink, Spark, Dataflow); a worker thread inside this
process (the in-memory DirectRunner) warns and keeps this process's threads.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any

from ..checks import check_int
from ..errors import KerasvizError, ParameterError

__all__ = [
    "WORKER_THREADS", "ShardFn", "limit_threads", "load_model_spec", "model_spec", "run_with_beam",
    "threads_per_worker",
]

#: The pipeline option kerasviz reads itself (and does not pass to Beam): TensorFlow threads per worker.
WORKER_THREADS = "worker_threads"


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """The thread budget that keeps `workers` TensorFlow workers from contending: `cores // workers`.

    Args:
        workers: Workers on the machine (>= 1).
        cores: Cores to share (`None`: the cores this process may run on).

    Returns:
        At least 1.

    Raises:
        ParameterError: `workers` or `cores` below 1.
    """
    workers = check_int(workers, "workers", low=1)
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, check_int(cores, "cores", low=1) // workers)


def limit_threads(threads: int | None) -> bool:
    """Give this process's TensorFlow `threads` intra-op and inter-op threads, if it has not run yet.

    Args:
        threads: Threads per pool (>= 1), or `None` to leave TensorFlow's defaults.

    Returns:
        Whether the budget holds: `True` when set now (or already equal), `False` when
        TensorFlow had already started with other pools (then a warning says so).

    Raises:
        ParameterError: `threads` below 1.
    """
    if threads is None:
        return True
    threads = check_int(threads, WORKER_THREADS, low=1)
    import tensorflow as tf

    threading = tf.config.threading
    if threading.get_intra_op_parallelism_threads() == threads == threading.get_inter_op_parallelism_threads():
        return True
    try:
        threading.set_intra_op_parallelism_threads(threads)
        threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow already runs in this process: its pools are fixed
        import warnings

        warnings.warn(
            f"`{WORKER_THREADS}={threads}` applies to Beam workers in their own processes "
            "(direct_running_mode='multi_processing', Flink, Spark, Dataflow); this worker runs "
            "inside a process whose TensorFlow already started, so it keeps that process's threads.",
            stacklevel=2,
        )
        return False
    return True


def require_beam() -> Any:
    """Import apache_beam or raise a clear error.

    Returns:
        The `apache_beam` module.

    Raises:
        KerasvizError: apache-beam is not installed.
    """
    try:
        import apache_beam as beam
    except ImportError:
        raise KerasvizError(
            "Running on a Beam runner needs Apache Beam: `pip install kerasviz[beam]` (or "
            "`pip install 'apache-beam==2.77.*'`), or pass `runner=None` to compute in this "
            "process. Received: no module named 'apache_beam'"
        ) from None
    return beam


def model_spec(model: Any) -> Any:
    """What travels to the workers: the `.keras` bytes of a model, or a name / path string.

    Args:
        model: A `Backbone`, a Keras model, a backbone name or a `.keras` path.

    Returns:
        `("keras", bytes, backbone_attributes)` or `("name", str)`.
    """
    if isinstance(model, str):
        return ("name", model)
    keras_model = getattr(model, "model", model)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        keras_model.save(path)
        with open(path, "rb") as file:
            data = file.read()
    return ("keras", data)


def load_model_spec(spec: Any) -> Any:
    """Load a model from `model_spec`'s description (on a worker, once).

    Args:
        spec: `model_spec(...)` output, or a string (backbone name or `.keras` path).

    Returns:
        A Keras model or a `Backbone`.

    Raises:
        ModelError / WeightsUnavailableError: An unknown name or unreadable file.
    """
    import keras

    if isinstance(spec, str):
        spec = ("name", spec)
    kind, value = spec[0], spec[1]
    if kind == "keras":
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "model.keras")
            with open(path, "wb") as file:
                file.write(value)
            return keras.saving.load_model(path, compile=False)
    if value.endswith(".keras"):
        import tensorflow as tf

        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "model.keras")
            tf.io.gfile.copy(value, path)
            return keras.saving.load_model(path, compile=False)
    from ..backbones import load_backbone

    return load_backbone(value)


class ShardFn:
    """A Beam DoFn factory: `ShardFn.make(plan, spec, work)` returns the DoFn instance."""

    @staticmethod
    def make(plan: Any, spec: Any, work: Callable[[Any, Any, int], Any], threads: int | None = None) -> Any:
        """Build the DoFn that computes shards.

        Args:
            plan: A picklable plan (`CollectionPlan` or an explain plan).
            spec: The model description (`model_spec`).
            work: `work(plan, model, shard) -> (rows, skipped)`, the per-shard function.
            threads: TensorFlow threads per worker (`limit_threads`), or `None`.

        Returns:
            A `beam.DoFn` instance whose `setup` limits the worker's TensorFlow threads, then
            loads the model once per worker.
        """
        beam = require_beam()

        class _ShardDoFn(beam.DoFn):
            def __init__(self) -> None:
                self.plan, self.spec, self.work, self.model = plan, spec, work, None
                self.threads = threads

            def setup(self) -> None:
                limit_threads(self.threads)  # before the model load runs TensorFlow here
                self.model = load_model_spec(self.spec)

            def process(self, shard: int):
                rows, _ = self.work(self.plan, self.model, int(shard))
                yield int(shard), int(rows)

        return _ShardDoFn()


def _pending(plan: Any) -> list[int]:
    from .image_stream import with_count
    from .shards import finished_shards

    with_count(plan.stream)
    done = set(finished_shards(plan.out))
    return [s for s in range(plan.shard_count) if s not in done]


def run_with_beam(
    plan: Any,
    model: Any,
    runner: str,
    options: dict[str, Any],
    work: Callable[[Any, Any, int], Any] | None = None,
) -> list[int]:
    """Compute the missing shards of a plan with a Beam pipeline and wait for it.

    Args:
        plan: The run (settings already checked against the folder).
        model: A model, `Backbone`, backbone name or `.keras` path.
        runner: Beam runner name.
        options: Beam pipeline options as keyword arguments, and kerasviz's `worker_threads`
            (TensorFlow threads per worker, see the module docstring).
        work: Per-shard function (default: `collect_shard`).

    Returns:
        The shard numbers the pipeline computed.

    Raises:
        ParameterError: A source a worker cannot read (a `tf.data.Dataset`), or bad options.
        KerasvizError: apache-beam is not installed.
    """
    beam = require_beam()
    from apache_beam.options.pipeline_options import PipelineOptions

    if not plan.stream.portable:
        raise ParameterError(
            "A tf.data.Dataset lives in this process and cannot be sent to Beam workers; pass a "
            "folder, a list of files or TFRecord files, or use `runner=None`. "
            f"Received: runner={runner!r} with a tf.data.Dataset source"
        )
    if work is None:
        from .plan import collect_shard

        work = collect_shard
    options = dict(options)
    threads = options.pop(WORKER_THREADS, None)
    if threads is not None:
        threads = check_int(threads, WORKER_THREADS, low=1)
    pending = _pending(plan)
    if not pending:
        return []
    try:
        pipeline_options = PipelineOptions(runner=runner, **options)
    except Exception as error:  # noqa: BLE001 - Beam raises several kinds for bad options
        raise ParameterError(f"Beam rejected the pipeline options ({error}). Received: {options}") from None
    fn = ShardFn.make(plan, model_spec(model), work, threads)
    with beam.Pipeline(options=pipeline_options) as pipeline:
        _ = (
            pipeline
            | "Shards" >> beam.Create(pending)
            | "Spread" >> beam.Reshuffle()
            | "Compute" >> beam.ParDo(fn)
        )
    return pending
