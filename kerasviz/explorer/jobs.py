"""Long work (feature visualization, the patch index) on a worker thread, with progress the
page polls and a cancel button that stops it at the next step."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional

from ..errors import KerasvizError, ParameterError

__all__ = ["Job", "JobBoard", "JobCancelled", "Report"]

_log = logging.getLogger(__name__)

#: `report(fraction, message)`: work calls it between steps; it raises `JobCancelled` once cancelled.
Report = Callable[[float, str], None]


class JobCancelled(Exception):
    """Raised inside a job's work when the job was cancelled."""


@dataclass
class Job:
    """One piece of long work and where it stands."""

    id: str
    kind: str
    state: str = "queued"  # queued, running, done, error, cancelled
    progress: float = 0.0
    message: str = "queued"
    result: Optional[bytes] = None
    started: float = field(default_factory=time.time)
    cancel_requested: threading.Event = field(default_factory=threading.Event)

    def as_json(self) -> Dict[str, Any]:
        """The job's state for `GET /api/jobs/{id}`."""
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "progress": round(float(self.progress), 4),
            "message": self.message,
            "seconds": round(time.time() - self.started, 2),
        }


class JobBoard:
    """Runs jobs one at a time on its own thread and keeps the last `capacity` of them."""

    def __init__(self, capacity: int = 32) -> None:
        """Start the (idle) worker thread.

        Args:
            capacity: Finished jobs kept for polling.
        """
        self._jobs: Dict[str, Job] = {}
        self._capacity = capacity
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kerasviz-explorer-job")

    def submit(self, kind: str, work: Callable[[Report], bytes]) -> Job:
        """Queue work.

        Args:
            kind: A label, e.g. `"feature"`.
            work: `work(report) -> PNG bytes`; it calls `report(fraction, message)` between steps.

        Returns:
            The new `Job` (poll it with `get`).
        """
        job = Job(uuid.uuid4().hex[:12], kind)
        with self._lock:
            self._jobs[job.id] = job
            finished = [j for j in self._jobs.values() if j.state in ("done", "error", "cancelled")]
            for old in finished[: max(0, len(self._jobs) - self._capacity)]:
                self._jobs.pop(old.id, None)
        self._pool.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work: Callable[[Report], bytes]) -> None:
        def report(fraction: float, message: str) -> None:
            if job.cancel_requested.is_set():
                raise JobCancelled()
            job.progress = min(max(float(fraction), 0.0), 1.0)
            job.message = message

        try:
            report(0.0, "starting")
            job.state = "running"
            job.result = work(report)
            job.state, job.progress, job.message = "done", 1.0, "done"
        except JobCancelled:
            job.state, job.message = "cancelled", "cancelled"
        except KerasvizError as error:
            job.state, job.message = "error", str(error)
        except Exception as error:  # a job never takes the process down
            _log.exception("explorer job %s failed", job.id)
            job.state, job.message = "error", f"{type(error).__name__}: {error}"

    def get(self, job_id: str) -> Job:
        """A job by id.

        Raises:
            ParameterError: Unknown id.
        """
        job = self._jobs.get(str(job_id))
        if job is None:
            raise ParameterError(f"Unknown job {str(job_id)[:40]!r}. Received: job_id={str(job_id)[:40]!r}")
        return job

    def cancel(self, job_id: str) -> Job:
        """Ask a job to stop at its next step (a finished job stays as it is)."""
        job = self.get(job_id)
        job.cancel_requested.set()
        if job.state == "queued":
            job.state, job.message = "cancelled", "cancelled"
        return job

    def shutdown(self) -> None:
        """Cancel every job and stop the worker thread."""
        for job in list(self._jobs.values()):
            job.cancel_requested.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
