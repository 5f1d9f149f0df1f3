"""Job cancellation without a model: the board stops work at its next step."""

from __future__ import annotations

import threading
import time

from kerasviz.explorer.jobs import JobBoard


def _wait(board: JobBoard, job_id: str) -> str:
    for _ in range(500):
        state = board.get(job_id).state
        if state in ("done", "error", "cancelled"):
            return state
        time.sleep(0.01)
    raise TimeoutError(job_id)


def test_a_running_job_stops_at_its_next_step_and_the_board_keeps_working():
    board = JobBoard()
    started, steps = threading.Event(), []

    def work(report):
        started.set()
        for step in range(1000):
            report(step / 1000, f"step {step}")
            steps.append(step)
            time.sleep(0.005)
        return b"finished"

    job = board.submit("slow", work)
    assert started.wait(5)
    board.cancel(job.id)
    assert _wait(board, job.id) == "cancelled" and len(steps) < 1000
    after = board.submit("quick", lambda report: b"png")
    assert _wait(board, after.id) == "done" and board.get(after.id).result == b"png"
    failing = board.submit("bad", lambda report: 1 / 0)
    assert _wait(board, failing.id) == "error" and "ZeroDivisionError" in board.get(failing.id).message
    board.shutdown()
