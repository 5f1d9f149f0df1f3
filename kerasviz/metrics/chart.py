"""`score_chart`: methods x metrics, each mean with its bootstrap interval, as one PNG."""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from ..errors import ExportError, ParameterError

__all__ = ["score_chart"]


def score_chart(
    summary: Any, path: str | os.PathLike, *, columns: int = 4, dpi: int = 120
) -> str:
    """Draw a summary table as small multiples: one panel per metric, one bar per method.

    Each bar is the mean score with its bootstrap interval; the best method (rank 1) is drawn
    dark; the panel title says whether higher or lower is better.

    Args:
        summary: The table `kerasviz.summarize_scores` returns.
        path: PNG file to write.
        columns: Panels per row, `>= 1`.
        dpi: Resolution.

    Returns:
        The path written.

    Raises:
        ParameterError: Not a summary table.
        ExportError: The file cannot be written.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    needed = {"metric", "method", "mean", "low", "high", "rank", "higher_is_better"}
    if not hasattr(summary, "columns") or not needed <= set(summary.columns) or summary.empty:
        raise ParameterError(
            "`summary` must be the non-empty table kerasviz.summarize_scores returns. Received: "
            f"{type(summary).__name__}"
        )
    metrics = list(dict.fromkeys(summary["metric"]))
    methods = list(dict.fromkeys(summary["method"]))
    columns = max(1, min(int(columns), len(metrics)))
    rows = math.ceil(len(metrics) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 0.35 * len(methods) * rows
                                                       + 1.3 * rows), squeeze=False)
    palette = plt.get_cmap("tab10")
    for index, metric in enumerate(metrics):
        axis = axes[index // columns][index % columns]
        part = summary[summary["metric"] == metric].set_index("method").reindex(methods)
        means = part["mean"].to_numpy(np.float64)
        low = np.nan_to_num(means - part["low"].to_numpy(np.float64), nan=0.0)
        high = np.nan_to_num(part["high"].to_numpy(np.float64) - means, nan=0.0)
        best = (part["rank"] == 1).to_numpy()
        colours = [palette(i % 10) for i in range(len(methods))]
        positions = np.arange(len(methods))
        axis.barh(positions, np.nan_to_num(means), xerr=[low, high], color=colours, alpha=0.85,
                  linewidth=0, capsize=3)
        axis.barh(positions[best], np.nan_to_num(means)[best], fill=False, edgecolor="black",
                  linewidth=2.0)
        axis.set_yticks(np.arange(len(methods)))
        axis.set_yticklabels(methods if index % columns == 0 else [""] * len(methods), fontsize=8)
        axis.invert_yaxis()
        arrow = "higher is better" if bool(part["higher_is_better"].dropna().iloc[0]) else (
            "lower is better")
        axis.set_title(f"{metric}\n({arrow})", fontsize=9)
        axis.tick_params(axis="x", labelsize=7)
        axis.axvline(0, color="grey", linewidth=0.5)
    for index in range(len(metrics), rows * columns):
        axes[index // columns][index % columns].axis("off")
    figure.suptitle("Attribution methods x metrics (mean, 95% bootstrap interval; outlined = best)",
                    fontsize=10)
    figure.tight_layout()
    try:
        figure.savefig(path, dpi=dpi)
    except OSError as error:
        raise ExportError(f"Could not write the chart to {str(path)!r}. Received: {error}") from error
    finally:
        plt.close(figure)
    return str(path)
