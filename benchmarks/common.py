"""Timing helpers shared by the benchmarks: best-of-N wall time after a warm-up, and table rows."""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, List


def best_time(fn: Callable[[], Any], repeats: int = 3, warmup: int = 1) -> float:
    """Best wall-clock seconds of `fn()` over `repeats` runs, after `warmup` untimed runs.

    Args:
        fn: The work to time (must block until done, e.g. call `.numpy()` on results).
        repeats: Timed runs (the minimum is reported: least disturbed by other load).
        warmup: Untimed runs first (tracing, caches).

    Returns:
        Seconds.
    """
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def ratio_row(benchmark: str, baseline: str, candidate: str, baseline_s: float, candidate_s: float) -> Dict[str, Any]:
    """One result row: `ratio` = baseline time / candidate time (> 1 means the candidate is faster).

    Args:
        benchmark: What is measured.
        baseline: Name of the reference implementation.
        candidate: Name of kerasviz's implementation.
        baseline_s: Baseline seconds.
        candidate_s: Candidate seconds.

    Returns:
        A dict row for `format_table`.
    """
    return dict(
        benchmark=benchmark,
        baseline=baseline,
        candidate=candidate,
        baseline_s=baseline_s,
        candidate_s=candidate_s,
        ratio=baseline_s / candidate_s if candidate_s > 0 else float("inf"),
    )


def format_table(rows: List[Dict[str, Any]]) -> str:
    """A Markdown table of benchmark rows.

    Args:
        rows: Rows from `ratio_row` (extra keys are ignored).

    Returns:
        The table text.
    """
    lines = [
        "| benchmark | baseline | kerasviz | baseline s | kerasviz s | speed-up |",
        "|---|---|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['benchmark']} | {r['baseline']} | {r['candidate']} | {r['baseline_s']:.4f} | "
            f"{r['candidate_s']:.4f} | {r['ratio']:.2f}× |"
        )
    return "\n".join(lines)
