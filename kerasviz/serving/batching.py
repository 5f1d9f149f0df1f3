"""Server-side batching as TF Serving does it (`--enable_batching`, `--batching_parameters_file`).

Requests for the same model version, signature and input shapes (all but the batch axis) join an
open batch until it holds `max_batch_size` items or the first one has waited
`batch_timeout_micros`; closed batches queue (at most `max_enqueued_batches`, beyond that
UNAVAILABLE as TF Serving answers) for `num_batch_threads` worker threads, which concatenate the
inputs, pad the batch up to the next of `allowed_batch_sizes` (repeating the first item), run the
signature once, and hand each request its rows. A request larger than `max_batch_size` is
refused (INVALID_ARGUMENT, as TF Serving without large-batch splitting). A request cancelled or
past its deadline while queued is left out of its batch. Each request's inputs are validated on
their own before they join a batch (dtype, shape, finiteness); when the model itself refuses a
batch's values (INVALID_ARGUMENT: a junk image among the encoded ones, an image over the decode
limit), the batch's requests are run again one by one, so only the bad request fails, with its
reason, and the others get their results.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Deque, Dict, List, Mapping, Optional, Tuple

import grpc
import numpy as np

from .errors import ServingError
from .servable import Call, Servable

__all__ = ["BatchingParameters", "BatchScheduler"]


@dataclass(frozen=True)
class BatchingParameters:
    """TF Serving's `BatchingParameters` (defaults as `tensorflow_model_server` uses them)."""

    max_batch_size: int = 1000
    batch_timeout_micros: int = 0
    max_enqueued_batches: int = 10
    num_batch_threads: int = 4
    allowed_batch_sizes: Tuple[int, ...] = ()


@dataclass
class _Task:
    inputs: Mapping[str, np.ndarray]
    size: int
    call: Call
    submitted: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)
    outputs: Optional[Dict[str, np.ndarray]] = None
    error: Optional[ServingError] = None


@dataclass
class _Batch:
    key: Tuple
    servable: Servable
    signature: str
    closes_at: float
    tasks: List[_Task] = field(default_factory=list)
    size: int = 0


class BatchScheduler:
    """Merges same-shaped requests into one signature call.

    Args:
        parameters: The batching parameters.
        on_queued: Called with the seconds each request waited for its batch (metrics).
    """

    def __init__(self, parameters: BatchingParameters, on_queued: Any = None) -> None:
        self.parameters = parameters
        self._on_queued = on_queued
        self._cond = threading.Condition()
        self._open: Dict[Tuple, _Batch] = {}
        self._ready: Deque[_Batch] = collections.deque()
        self._stopped = False
        self.batch_sizes: Deque[int] = collections.deque(maxlen=1000)  # recent batch sizes run
        self._threads = [
            threading.Thread(target=self._work, name=f"kerasviz-batch-{i}", daemon=True)
            for i in range(parameters.num_batch_threads)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Fail queued requests with UNAVAILABLE and stop the worker threads."""
        with self._cond:
            self._stopped = True
            pending = list(self._ready) + list(self._open.values())
            self._ready.clear()
            self._open.clear()
            self._cond.notify_all()
        for batch in pending:
            for task in batch.tasks:
                task.error = ServingError(grpc.StatusCode.UNAVAILABLE, "the server is shutting down")
                task.done.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def run(self, servable: Servable, signature: str, inputs: Mapping[str, np.ndarray], call: Call) -> Dict[str, np.ndarray]:
        """Run one request as part of a batch.

        Args:
            servable: The model version.
            signature: The signature name (batchable: every tensor has a leading batch axis).
            inputs: Validated inputs, all with the same batch size.
            call: The request's deadline and cancellation.

        Returns:
            Every output of the signature, this request's rows.

        Raises:
            ServingError: INVALID_ARGUMENT (larger than `max_batch_size`), UNAVAILABLE (queue
                full or shutting down), CANCELLED / DEADLINE_EXCEEDED, or the batch's error.
        """
        size = len(next(iter(inputs.values())))
        limit = self.parameters.max_batch_size
        if size > limit:
            raise ServingError(
                grpc.StatusCode.INVALID_ARGUMENT, f"Task size {size} is larger than maximum batch size {limit}"
            )
        key = (id(servable), signature) + tuple(sorted((k, v.dtype.str, v.shape[1:]) for k, v in inputs.items()))
        task = _Task(inputs, size, call)
        self._submit(key, servable, signature, task)
        while not task.done.wait(0.05):  # bounded waits: notice a client that went away
            try:
                call.check()
            except ServingError as error:
                task.error = error  # the worker skips it if its batch has not started
                raise
        if task.error is not None:
            raise task.error
        return task.outputs

    def _submit(self, key: Tuple, servable: Servable, signature: str, task: _Task) -> None:
        with self._cond:
            if self._stopped:
                raise ServingError(grpc.StatusCode.UNAVAILABLE, "the server is shutting down")
            batch = self._open.get(key)
            if batch is not None and batch.size + task.size > self.parameters.max_batch_size:
                self._close(key)
                batch = None
            if batch is None:
                if len(self._ready) + len(self._open) >= self.parameters.max_enqueued_batches:
                    raise ServingError(
                        grpc.StatusCode.UNAVAILABLE,
                        "The batch scheduling queue to which this task was submitted is full",
                    )
                closes = time.monotonic() + self.parameters.batch_timeout_micros / 1e6
                batch = self._open[key] = _Batch(key, servable, signature, closes)
            batch.tasks.append(task)
            batch.size += task.size
            if batch.size >= self.parameters.max_batch_size:
                self._close(key)
            self._cond.notify()

    def _close(self, key: Tuple) -> None:
        self._ready.append(self._open.pop(key))

    def _next_batch(self) -> Optional[_Batch]:
        with self._cond:
            while not self._stopped:
                if self._ready:
                    return self._ready.popleft()
                now = time.monotonic()
                due = [b for b in self._open.values() if b.closes_at <= now]
                if due:
                    batch = min(due, key=lambda b: b.closes_at)
                    self._close(batch.key)
                    continue
                waits = [b.closes_at - now for b in self._open.values()]
                self._cond.wait(min(waits) if waits else None)
        return None

    def _work(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            tasks = [t for t in batch.tasks if t.error is None and not t.done.is_set()]
            if not tasks:
                continue
            started = time.monotonic()
            if self._on_queued is not None:
                for task in tasks:
                    self._on_queued(started - task.submitted)
            try:
                outputs = self._run(batch, tasks)
            except ServingError as error:
                if error.code == grpc.StatusCode.INVALID_ARGUMENT and len(tasks) > 1:
                    self._run_each(batch, tasks)  # one request's data was refused: only it fails
                else:
                    self._fail(tasks, error)
                continue
            except Exception as error:  # never leave a request waiting forever
                self._fail(tasks, ServingError(grpc.StatusCode.INTERNAL, f"batch failed: {error}"))
                continue
            self._hand_out(tasks, outputs)

    @staticmethod
    def _fail(tasks: List[_Task], error: ServingError) -> None:
        for task in tasks:
            task.error = error
            task.done.set()

    @staticmethod
    def _hand_out(tasks: List[_Task], outputs: Dict[str, np.ndarray]) -> None:
        start = 0
        for task in tasks:
            task.outputs = {k: v[start : start + task.size] for k, v in outputs.items()}
            start += task.size
            task.done.set()

    def _run_each(self, batch: _Batch, tasks: List[_Task]) -> None:
        """Run a refused batch's requests one by one, so each gets its own result or error."""
        for task in tasks:
            try:
                self._hand_out([task], self._run(batch, [task]))
            except ServingError as error:
                self._fail([task], error)
            except Exception as error:
                self._fail([task], ServingError(grpc.StatusCode.INTERNAL, f"request failed: {error}"))

    def _run(self, batch: _Batch, tasks: List[_Task]) -> Dict[str, np.ndarray]:
        total = sum(t.size for t in tasks)
        padded = next((s for s in self.parameters.allowed_batch_sizes if s >= total), total)
        inputs = {}
        for key in tasks[0].inputs:
            parts = [t.inputs[key] for t in tasks]
            if padded > total:
                parts.append(np.repeat(parts[0][:1], padded - total, axis=0))
            inputs[key] = np.concatenate(parts) if len(parts) > 1 else parts[0]
        self.batch_sizes.append(total)
        return batch.servable.run(batch.signature, inputs)
