"""The dataset and concept commands end to end through `kerasviz.cli.main` (small zoo model)."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from kerasviz.cli import main
from kerasviz.cli.concepts import pipeline_options
from kerasviz.errors import ParameterError


@pytest.fixture(scope="module")
def saved_cnn(cnn, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "cnn.keras"
    cnn.save(path)
    return path


def _folder(root, images):
    root.mkdir()
    for i, image in enumerate(images):
        Image.fromarray(image.astype(np.uint8)).save(root / f"{i:02d}.png")
    return root


def test_collect_writes_resumable_shards(saved_cnn, digit_images, tmp_path, capsys):
    photos = _folder(tmp_path / "photos", digit_images[:6])
    out = tmp_path / "acts"
    argv = ["collect", str(photos), "--model", str(saved_cnn), "--layer", "conv2", "--out", str(out), "--batch-size", "4"]
    assert main(argv) == 0
    rows = sum(pq.read_table(shard).num_rows for shard in out.glob("*.parquet"))
    assert rows == 6 and "6 rows" in capsys.readouterr().out
    assert main(argv) == 0  # a rerun finds every shard done
    assert main([*argv[:-2], "--batch-size", "4", "--spatial", "all"]) == 2  # other settings: refused
    assert "kerasviz collect: error:" in capsys.readouterr().err


def test_tcav_prints_a_score_and_p_value(saved_cnn, digit_images, tmp_path, capsys):
    concept = _folder(tmp_path / "concept", digit_images[:8])
    random = _folder(tmp_path / "random", digit_images[8:16])
    argv = ["tcav", "--model", str(saved_cnn), "--layer", "conv2", "--concept", str(concept), "--random", str(random),
            "--class", "3", "--runs", "3"]
    assert main(argv) == 0
    assert "TCAV score" in capsys.readouterr().out


def test_pipeline_options_parse_numbers_and_refuse_bad_pairs():
    assert pipeline_options(["direct_num_workers=2", "x=0.5", "mode=multi_processing"]) == {
        "direct_num_workers": 2, "x": 0.5, "mode": "multi_processing"}
    with pytest.raises(ParameterError, match="KEY=VALUE"):
        pipeline_options(["nope"])
