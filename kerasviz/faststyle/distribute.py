"""Which `tf.distribute` strategy trains a transform network, and who writes its checkpoints.

Multi-worker training is TensorFlow's own `MultiWorkerMirroredStrategy`, configured by the
standard `TF_CONFIG` environment variable (see `docs/multiworker.md`). As TensorFlow documents
for it, every worker takes part in saving a checkpoint, but only the chief writes to the real
checkpoint folder; the others write to a temporary folder of their own that is deleted after
each save. Every worker restores from the chief's folder (shared storage across hosts).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Optional, Tuple, Union

import tensorflow as tf

from ..checks import check_choice
from ..errors import ParameterError

__all__ = ["STRATEGIES", "make_strategy", "is_chief", "worker_checkpoint_folder", "remove_worker_folder"]

#: Strategy names `make_strategy` (and `kerasviz train-style --strategy`) understand.
STRATEGIES = ("default", "mirrored", "multi_worker")


def make_strategy(name: str = "default") -> tf.distribute.Strategy:
    """Create a distribution strategy by name; call it before any other TensorFlow work.

    Args:
        name: `"default"` (one device), `"mirrored"` (all local GPUs, or the CPU) or
            `"multi_worker"` (`MultiWorkerMirroredStrategy` over the cluster in `TF_CONFIG`).

    Returns:
        The strategy.

    Raises:
        ParameterError: An unknown name, or `"multi_worker"` with a missing / malformed
            `TF_CONFIG`, or after TensorFlow has already started (the collective ops of
            multi-worker training must be configured at program start).
    """
    name = check_choice(name, "strategy", STRATEGIES)
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    raw = os.environ.get("TF_CONFIG", "")
    try:
        config = json.loads(raw)
        workers = config["cluster"]["worker"]
        task = config["task"]
        assert task["type"] in ("worker", "chief") and int(task["index"]) >= 0 and workers
    except (ValueError, KeyError, TypeError, AssertionError):
        raise ParameterError(
            "Multi-worker training reads the cluster from TF_CONFIG, e.g. "
            '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}} '
            f"(see docs/multiworker.md). Received: TF_CONFIG={raw!r}"
        ) from None
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except (RuntimeError, ValueError) as error:
        raise ParameterError(
            f"Could not start multi-worker training ({error}); create the strategy before any "
            f"other TensorFlow work in the process. Received: TF_CONFIG={raw!r}"
        ) from None


def _task(strategy: tf.distribute.Strategy) -> Tuple[Optional[str], int, dict]:
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None:
        return None, 0, {}
    spec = resolver.cluster_spec().as_dict() if resolver.cluster_spec() else {}
    return resolver.task_type, int(resolver.task_id or 0), spec


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process is the chief (writes checkpoints, configuration and results).

    Args:
        strategy: Any `tf.distribute.Strategy`.

    Returns:
        `True` without a cluster, for task type `chief`, or for worker 0 when the cluster has no
        `chief` task (TensorFlow's convention).
    """
    task_type, task_id, spec = _task(strategy)
    return task_type in (None, "chief") or (task_type == "worker" and task_id == 0 and "chief" not in spec)


def worker_checkpoint_folder(checkpoint_dir: Union[str, os.PathLike], strategy: tf.distribute.Strategy) -> Path:
    """Where this process writes checkpoints: the folder itself (chief) or a temporary subfolder.

    Args:
        checkpoint_dir: The checkpoint folder all workers restore from.
        strategy: The training strategy.

    Returns:
        `checkpoint_dir` for the chief, else `checkpoint_dir/workertemp_<task id>`.
    """
    folder = Path(checkpoint_dir)
    if is_chief(strategy):
        return folder
    return folder / f"workertemp_{_task(strategy)[1]}"


def remove_worker_folder(folder: Path, checkpoint_dir: Union[str, os.PathLike]) -> None:
    """Delete a non-chief worker's temporary checkpoint folder (never the chief's).

    Args:
        folder: The folder from `worker_checkpoint_folder`.
        checkpoint_dir: The real checkpoint folder.
    """
    if Path(folder) != Path(checkpoint_dir):
        shutil.rmtree(folder, ignore_errors=True)
