"""`summarize_scores`: mean, 95 % bootstrap interval and rank of every method on every metric."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..checks import check_fraction, check_int
from ..errors import ParameterError
from .catalogue import HIGHER_IS_BETTER

__all__ = ["summarize_scores"]

_COLUMNS = ("method", "metric", "image", "score")


def summarize_scores(
    scores: Any, *, confidence: float = 0.95, n_boot: int = 1000, seed: int = 0
) -> Any:
    """Summary table of a tidy score table: one row per (metric, method).

    The interval is a percentile bootstrap of the mean over images (`n_boot` resamples, the
    same resampled images for every method of a metric); NaN scores are left out. Ranks are per
    metric, 1 = best, in the metric's direction (`HIGHER_IS_BETTER`; unknown metrics: higher).

    Args:
        scores: `pandas.DataFrame` with columns `method`, `metric`, `image`, `score` (as
            `kerasviz.evaluate` returns).
        confidence: Interval coverage in `(0, 1)`.
        n_boot: Bootstrap resamples, `>= 10`.
        seed: Seed of the resampling.

    Returns:
        `pandas.DataFrame` with columns `metric`, `method`, `mean`, `low`, `high`, `n`, `rank`,
        `higher_is_better`, sorted by metric then rank.

    Raises:
        ParameterError: Not a score table, or bad `confidence` / `n_boot`.
    """
    import pandas as pd

    if not isinstance(scores, pd.DataFrame) or not set(_COLUMNS) <= set(scores.columns):
        raise ParameterError(
            "`scores` must be the DataFrame kerasviz.evaluate returns (columns method, metric, "
            f"image, score). Received: {type(scores).__name__}"
            + (f" with columns {list(scores.columns)}" if hasattr(scores, "columns") else "")
        )
    confidence = check_fraction(confidence, "confidence", low=0.5, high=0.999)
    n_boot = check_int(n_boot, "n_boot", low=10)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    tail = (1.0 - confidence) / 2 * 100
    rows = []
    for metric, part in scores.groupby("metric", sort=False):
        higher = HIGHER_IS_BETTER.get(str(metric), True)
        images = np.sort(part["image"].unique())
        picks = rng.integers(0, len(images), (n_boot, len(images)))
        for method, group in part.groupby("method", sort=False):
            values = group.set_index("image")["score"].reindex(images).to_numpy(np.float64)
            valid = np.isfinite(values)
            mean = float(values[valid].mean()) if valid.any() else np.nan
            low = high = np.nan
            if valid.sum() >= 2:
                sample = np.where(valid[picks], values[picks], 0.0)
                counts = valid[picks].sum(axis=1)
                boots = sample.sum(axis=1)[counts > 0] / counts[counts > 0]
                low, high = (float(v) for v in np.percentile(boots, [tail, 100 - tail]))
            rows.append({"metric": metric, "method": method, "mean": mean, "low": low,
                         "high": high, "n": int(valid.sum()), "higher_is_better": higher})
    table = pd.DataFrame(rows, columns=["metric", "method", "mean", "low", "high", "n",
                                        "higher_is_better"])
    signed = np.where(table["higher_is_better"], -table["mean"], table["mean"])
    table["rank"] = pd.Series(signed).groupby(table["metric"]).rank(method="min").astype("Int64")
    order = table.groupby("metric", sort=False).ngroup()
    table = table.assign(order=order).sort_values(["order", "rank"], kind="stable")
    columns = ["metric", "method", "mean", "low", "high", "n", "rank", "higher_is_better"]
    return table[columns].reset_index(drop=True)
