"""collect_activations / load_activations: rows equal the model's own outputs, every source,
resuming, bad input."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

from kerasviz.concepts import activation_matrix, collect_activations, load_activations
from kerasviz.errors import (
    ImageError,
    KerasvizError,
    LayerNotFoundError,
    ParameterError,
)
from kerasviz.features import FeatureModel
from kerasviz.images import save_image


def _layer_outputs(model, images, layer):
    return np.asarray(FeatureModel(model, [layer], logits=False)(images)[layer])


def test_mean_rows_equal_the_layer_means(cnn, digit_images, tmp_path):
    images = digit_images[:40]
    result = collect_activations(
        cnn, images, ["conv1", "conv3", "gap"], out=tmp_path, batch_size=16, shard_size=16
    )
    assert len(result.shards) == 3 and result.written == [0, 1, 2] and result.rows == 120
    assert sorted(os.listdir(tmp_path)) == [
        "collection.json", "part-00000.parquet", "part-00001.parquet", "part-00002.parquet"
    ]
    for layer in ("conv1", "conv3", "gap"):
        table = load_activations(tmp_path, layer)
        assert table.column("image_index").to_pylist() == list(range(40))
        assert set(table.column("position").to_pylist()) == {-1}
        expected = _layer_outputs(cnn, images, layer)
        if expected.ndim == 4:
            expected = expected.mean(axis=(1, 2))
        np.testing.assert_allclose(activation_matrix(table), expected, atol=1e-5)
    top = load_activations(tmp_path, "gap", columns=["top_class"]).column("top_class").to_numpy()
    np.testing.assert_array_equal(top, cnn.predict(images, verbose=0).argmax(-1))


def test_all_positions_and_samples_are_the_feature_map(cnn, digit_images, tmp_path):
    images = digit_images[:10]
    conv3 = _layer_outputs(cnn, images, "conv3")  # (10, 8, 8, 16)
    collect_activations(cnn, images, ["conv3"], out=tmp_path / "all", spatial="all", batch_size=4)
    table = load_activations(tmp_path / "all", "conv3")
    assert table.num_rows == 10 * 64
    index, y, x = (table.column(c).to_numpy() for c in ("image_index", "y", "x"))
    np.testing.assert_allclose(activation_matrix(table), conv3[index, y, x], atol=1e-5)
    np.testing.assert_array_equal(table.column("position").to_numpy(), y * 8 + x)

    for run in ("a", "b"):
        collect_activations(cnn, images, "conv3", out=tmp_path / run, spatial="sample:5", seed=3)
    first, again = (load_activations(tmp_path / r, "conv3") for r in ("a", "b"))
    assert first.num_rows == 50 and first.equals(again)  # the same draws, reproducibly
    index, y, x = (first.column(c).to_numpy() for c in ("image_index", "y", "x"))
    np.testing.assert_allclose(activation_matrix(first), conv3[index, y, x], atol=1e-5)
    assert len({tuple(p) for p in zip(index, y, x)}) == 50  # without replacement
    assert len(set(map(tuple, np.split(first.column("position").to_numpy(), 10)))) > 1


def test_folder_skips_unreadable_files_and_matches_arrays(cnn, digit_images, tmp_path):
    folder = tmp_path / "images"
    for i in range(6):
        save_image(folder / ("sub" if i % 2 else "") / f"{i}.png", digit_images[i].astype(np.uint8))
    (folder / "broken.png").write_bytes(b"not an image")
    (folder / ".hidden.png").write_bytes(b"ignored")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = collect_activations(cnn, folder, ["conv2"], out=tmp_path / "out", batch_size=4)
    assert result.skipped == ["broken.png"]
    assert any("broken.png" in str(w.message) for w in caught)
    table = load_activations(tmp_path / "out", "conv2")
    ids = table.column("image_id").to_pylist()
    assert ids == ["0.png", "2.png", "4.png", "sub/1.png", "sub/3.png", "sub/5.png"]
    order = [int(name.split("/")[-1][0]) for name in ids]
    expected = _layer_outputs(cnn, digit_images[order], "conv2").mean(axis=(1, 2))
    np.testing.assert_allclose(activation_matrix(table), expected, atol=1e-4)


def test_tfrecords_and_datasets_give_the_array_rows(cnn, digit_images, tmp_path):
    import tensorflow as tf

    images = digit_images[:12]
    files = []
    for part in range(2):
        path = str(tmp_path / f"part{part}.tfrecord")
        with tf.io.TFRecordWriter(path) as writer:
            for image in images[part * 6 : part * 6 + 6]:
                encoded = tf.io.encode_png(image.astype(np.uint8)).numpy()
                feature = {"image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(value=[encoded]))}
                writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
        files.append(path)
    reference = collect_activations(cnn, images, ["conv1"], out=tmp_path / "array", batch_size=5)
    records = collect_activations(cnn, files, ["conv1"], out=tmp_path / "rec", batch_size=5)
    dataset = tf.data.Dataset.from_tensor_slices((images.astype(np.uint8), np.zeros(12)))
    streamed = collect_activations(cnn, dataset, ["conv1"], out=tmp_path / "ds", batch_size=5, shard_size=5)
    assert reference.rows == records.rows == streamed.rows == 12 and len(streamed.shards) == 3
    expected = load_activations(tmp_path / "array")
    for out in ("rec", "ds"):
        table = load_activations(tmp_path / out)
        assert table.drop(["activation"]).equals(expected.drop(["activation"]))
        np.testing.assert_allclose(activation_matrix(table), activation_matrix(expected), atol=1e-5)


def test_resume_recomputes_only_missing_shards_and_refuses_other_settings(cnn, digit_images, tmp_path):
    images = digit_images[:48]
    first = collect_activations(cnn, images, ["conv2"], out=tmp_path, batch_size=8, shard_size=16)
    before = {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)}
    os.remove(first.shards[1])
    again = collect_activations(cnn, images, ["conv2"], out=tmp_path, batch_size=8, shard_size=16)
    assert again.written == [1] and again.rows == first.rows
    np.testing.assert_allclose(
        activation_matrix(load_activations(tmp_path)),
        _layer_outputs(cnn, images, "conv2").mean(axis=(1, 2)),
        atol=1e-5,
    )
    for changed in ({"spatial": "all"}, {"shard_size": 32}, {"layers": ["conv3"]}, {"images": images[:40]}):
        arguments = {"images": images, "layers": ["conv2"], "shard_size": 16} | changed
        with pytest.raises(ParameterError, match="other settings.*nothing was overwritten"):
            collect_activations(
                cnn, arguments.pop("images"), arguments.pop("layers"), out=tmp_path, batch_size=8, **arguments
            )
    after = {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)}
    assert after.keys() == before.keys() and after["collection.json"] == before["collection.json"]
    assert after["part-00000.parquet"] == before["part-00000.parquet"]


def test_other_models_vit_tokens_headless_nested_ops(zoo_headless, zoo_nested, zoo_ops, digit_images, tmp_path):
    import model_zoo

    zoo_vit = model_zoo.small_vit()  # untrained: only the token rows matter here
    images = digit_images[:6]
    collect_activations(zoo_vit, images, ["block0_add2"], out=tmp_path / "vit", spatial="all")
    table = load_activations(tmp_path / "vit")
    assert table.num_rows == 6 * 65 and set(table.column("y").to_pylist()) == {-1}
    tokens = _layer_outputs(zoo_vit, images, "block0_add2")
    np.testing.assert_allclose(activation_matrix(table), tokens.reshape(-1, tokens.shape[-1]), atol=1e-5)

    collect_activations(zoo_headless, images, ["headless_conv3"], out=tmp_path / "h", image_size=32)
    assert set(load_activations(tmp_path / "h").column("top_class").to_pylist()) == {-1}
    collect_activations(zoo_nested, images, ["base_conv2"], out=tmp_path / "n")
    np.testing.assert_allclose(
        activation_matrix(load_activations(tmp_path / "n")),
        _layer_outputs(zoo_nested, images, "base_conv2").mean(axis=(1, 2)),
        atol=1e-5,
    )
    collect_activations(zoo_ops, images, ["conv_c"], out=tmp_path / "o")
    assert load_activations(tmp_path / "o").num_rows == 6


def test_bad_input_is_a_clear_error(cnn, digit_images, tmp_path):
    images = digit_images[:4]
    with pytest.raises(ParameterError, match="sample:K"):
        collect_activations(cnn, images, ["conv1"], out=tmp_path / "a", spatial="sample:0")
    with pytest.raises(LayerNotFoundError):
        collect_activations(cnn, images, ["conv9"], out=tmp_path / "b")
    assert not (tmp_path / "b").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImageError, match="no images"):
        collect_activations(cnn, tmp_path / "empty", ["conv1"], out=tmp_path / "c")
    with pytest.raises(ParameterError, match="runner"):
        collect_activations(cnn, images, ["conv1"], out=tmp_path / "d", direct_num_workers=2)
    with pytest.raises(ImageError, match="size"):
        collect_activations(cnn, np.zeros((2, 40, 40, 3)), ["conv1"], out=tmp_path / "e")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "a.png").write_bytes(b"nope")
    with pytest.warns(UserWarning), pytest.raises(ImageError, match="None of the 1 file"):
        collect_activations(cnn, broken, ["conv1"], out=tmp_path / "f")


def test_load_refuses_foreign_or_mixed_shards(cnn, digit_images, tmp_path):
    import shutil

    collect_activations(cnn, digit_images[:8], ["conv1"], out=tmp_path / "a", shard_size=4, batch_size=4)
    collect_activations(cnn, digit_images[:8], ["conv2"], out=tmp_path / "b", shard_size=4, batch_size=4)
    with pytest.raises(ParameterError, match="was not collected"):
        load_activations(tmp_path / "a", "conv2")
    with pytest.raises(ParameterError, match="columns"):
        load_activations(tmp_path / "a", columns=["pixels"])
    with pytest.raises(ParameterError, match="Expected a folder"):
        load_activations(tmp_path / "nowhere")
    shutil.copy(tmp_path / "b" / "part-00001.parquet", tmp_path / "a" / "part-00001.parquet")
    with pytest.raises(ParameterError, match="different runs are mixed"):
        load_activations(tmp_path / "a")
    with pytest.raises(ParameterError, match="no collection.json"):
        shutil.copy(tmp_path / "b" / "part-00000.parquet", tmp_path / "c.parquet")
        (tmp_path / "c").mkdir()
        shutil.move(tmp_path / "c.parquet", tmp_path / "c" / "part-00000.parquet")
        collect_activations(cnn, digit_images[:8], ["conv1"], out=tmp_path / "c")
    collect_activations(cnn, digit_images[:2], ["conv1", "conv2"], out=tmp_path / "two")
    with pytest.raises(ParameterError, match="different lengths"):
        activation_matrix(load_activations(tmp_path / "two"))


def test_beam_missing_is_a_clear_error(cnn, digit_images, tmp_path):
    try:
        import apache_beam  # noqa: F401

        pytest.skip("apache-beam is installed here")
    except ImportError:
        pass
    with pytest.raises(KerasvizError, match=r"kerasviz\[beam\]"):
        collect_activations(cnn, digit_images[:4], ["conv1"], out=tmp_path, runner="DirectRunner")


def test_explain_dataset_writes_the_method_maps(cnn, digit_images, tmp_path):
    from kerasviz.attribution.saliency import saliency
    from kerasviz.concepts import explain_dataset

    images = digit_images[:10]
    result = explain_dataset(cnn, images, "saliency", tmp_path, batch_size=4, png=True)
    assert result.rows == 10 and len(result.shards) == 1
    import pyarrow.parquet as pq

    table = pq.read_table(result.shards[0])
    targets = cnn.predict(images, verbose=0).argmax(-1)
    np.testing.assert_array_equal(table.column("target").to_numpy(), targets)
    maps = np.stack(table.column("map").to_numpy(zero_copy_only=False)).reshape(10, 32, 32)
    np.testing.assert_allclose(maps, saliency(cnn, images, targets), atol=1e-5)
    assert len(os.listdir(tmp_path / "png")) == 10
    assert sorted(n for n in os.listdir(tmp_path) if n.endswith(".parquet")) == ["part-00000.parquet"]
    with pytest.raises(ParameterError, match="Unknown technique"):
        explain_dataset(cnn, images, "salency", tmp_path / "x")
    with pytest.raises(ParameterError, match="other settings"):
        explain_dataset(cnn, images, "saliency", tmp_path, batch_size=4, target=3)
