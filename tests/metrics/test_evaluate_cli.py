"""`kerasviz evaluate` end to end: the tables and the chart are written."""

from __future__ import annotations

import pandas as pd

from kerasviz.cli import main


def test_evaluate_writes_scores_summary_and_chart(tmp_path, capsys):
    out = tmp_path / "eval"
    argv = ["evaluate", "skimage:chelsea", "skimage:coffee", "--methods", "gradcam", "saliency",
            "--metrics", "sparseness", "complexity", "--out", str(out)]
    assert main(argv) == 0
    scores = pd.read_csv(out / "scores.csv")
    assert set(scores.method) == {"gradcam", "saliency"} and set(scores.metric) == {"sparseness", "complexity"}
    assert len(scores) == 2 * 2 * 2 and scores.score.notna().all()
    assert (out / "summary.csv").exists() and (out / "chart.png").stat().st_size > 1000
    assert "chart.png" in capsys.readouterr().out
    assert main([*argv[:-2], "--metrics", "sparsenes", "--out", str(out)]) == 2  # close matches listed
    assert "sparseness" in capsys.readouterr().err
