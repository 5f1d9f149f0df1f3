import shutil
import subprocess

import numpy as np
import pytest
import tensorflow as tf

from kerasviz.errors import ExportError, ImageError, ModelError, ParameterError
from kerasviz.faststyle import export as export_module
from kerasviz.faststyle.export import export_style_model
from kerasviz.faststyle.inference import stylize
from kerasviz.faststyle.saved_model import latest_version, load_style_model, stylize_saved_model
from kerasviz.serving.versioned_export import WARMUP_FILE

RNG = np.random.default_rng(1)


@pytest.fixture(scope="module")
def exported(net1, net3, tmp_path_factory):
    base = tmp_path_factory.mktemp("export")
    return {1: export_style_model(net1, base / "one"), 3: export_style_model(net3, base / "three")}


@pytest.fixture(scope="module")
def loaded(exported):
    """Each export loaded once: from its base path (newest version) and from its version folder."""
    return {1: load_style_model(exported[1].parent), 3: load_style_model(exported[3])}


def _pixels(n, h, w):
    return RNG.uniform(0, 255, (n, h, w, 3)).astype("float32")


def _fake_save(module, folder):  # numbering and renaming without the slow SavedModel writer
    folder.mkdir()
    (folder / "saved_model.pb").write_bytes(b"")


def test_version_folders(exported, net1, tmp_path, monkeypatch):
    assert exported[1].name == "1" and (exported[1] / "saved_model.pb").is_file()
    assert (exported[1] / WARMUP_FILE).is_file()
    assert latest_version(exported[1].parent) == 1
    monkeypatch.setattr(export_module, "_save", _fake_save)
    base = tmp_path / "m"
    assert export_style_model(net1, base, version=5).name == "5"
    assert export_style_model(net1, base).name == "6"
    assert sorted(p.name for p in base.iterdir()) == ["5", "6"]  # no temporary folder left
    with pytest.raises(ParameterError):
        export_style_model(net1, base, version=5)
    with pytest.raises(ParameterError):
        export_style_model(net1, base, version=0)


def test_failed_export_leaves_no_version_folder(net1, tmp_path, monkeypatch):
    def broken(module, folder):  # half a version written, then the disk fills up
        _fake_save(module, folder)
        (folder / "variables").mkdir()
        raise OSError("disk full (injected)")

    monkeypatch.setattr(export_module, "_save", broken)
    with pytest.raises(OSError):
        export_style_model(net1, tmp_path / "m")
    assert list((tmp_path / "m").iterdir()) == []
    assert latest_version(tmp_path / "m") is None


@pytest.mark.parametrize("n_styles", [1, 3])
def test_pixel_signature_agrees_with_keras(loaded, net1, net3, n_styles):
    net = {1: net1, 3: net3}[n_styles]
    loaded = loaded[n_styles]
    x = _pixels(2, 30, 21)
    inputs = {"images": tf.constant(x)}
    weights = np.array([[0.2, 0.3, 0.5], [0, 1, 0]], "float32")
    if n_styles == 3:
        inputs["style_weights"] = tf.constant(weights)
        expected = net3({"images": x, "style_weights": weights}).numpy()
    else:
        expected = net1(x).numpy()
    out = loaded.signatures["serving_default"](**inputs)["stylized"].numpy()
    assert out.dtype == np.float32 and out.shape == x.shape
    np.testing.assert_allclose(out, expected, atol=1e-3)
    via_helper = stylize_saved_model(loaded, x, weights if n_styles == 3 else None).astype(int)
    in_process = stylize(net, x, weights if n_styles == 3 else None)  # fused kernels: < 1e-3 apart, so
    assert np.abs(via_helper - in_process).max() <= 1  # a rare pixel rounds to the next level


@pytest.mark.parametrize("n_styles", [1, 3])
def test_bytes_signature_round_trips_png_of_any_sizes(loaded, net1, net3, n_styles):
    net = {1: net1, 3: net3}[n_styles]
    loaded = loaded[n_styles]
    a, b = _pixels(1, 24, 40)[0].astype(np.uint8), _pixels(1, 17, 13)[0].astype(np.uint8)
    request = {"images": tf.constant([tf.io.encode_png(a).numpy(), tf.io.encode_jpeg(b, quality=100).numpy()])}
    weights = np.array([[0, 0, 1], [0.5, 0.5, 0]], "float32")
    if n_styles == 3:
        request["style_weights"] = tf.constant(weights)
    out = loaded.signatures["stylize_bytes"](**request)["stylized"].numpy()
    assert out.shape == (2,) and out.dtype == object
    first = tf.io.decode_png(out[0]).numpy()
    assert first.dtype == np.uint8 and first.shape == (24, 40, 3)
    assert tf.io.decode_png(out[1]).shape == (17, 13, 3)
    expected = stylize(net, a, weights[0] if n_styles == 3 else None)
    assert np.abs(first.astype(int) - expected).max() <= 1


def test_warmup_records_run_on_the_signatures(exported, loaded):
    from tensorflow_serving.apis import prediction_log_pb2

    models = loaded
    for n_styles, folder in exported.items():
        loaded = models[n_styles]
        records = list(tf.data.TFRecordDataset(str(folder / WARMUP_FILE)).as_numpy_iterator())
        assert len(records) == 2
        for record in records:
            request = prediction_log_pb2.PredictionLog.FromString(record).predict_log.request
            inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
            assert ("style_weights" in inputs) == (n_styles > 1)
            out = loaded.signatures[request.model_spec.signature_name](**inputs)["stylized"]
            assert out.shape[0] == 1


def _signature_text(folder):
    if shutil.which("saved_model_cli"):
        return subprocess.run(
            ["saved_model_cli", "show", "--all", "--dir", str(folder)], capture_output=True, text=True, check=True
        ).stdout
    return None


def test_exports_use_the_plain_ops_and_leave_the_network_fast(exported, net1):
    """The SavedModel holds no per-image loop or training-mode fused batch norm (3x slower to load,
    CPU-only gains); the exported network keeps its fast in-process inference."""
    graph = tf.saved_model.load(str(exported[1])).signatures["serving_default"].graph.as_graph_def()
    op_types = {node.op for function in graph.library.function for node in function.node_def}
    assert "Conv2D" in op_types and not op_types & {"FusedBatchNormV3", "While", "StatelessWhile", "SpaceToDepth"}
    assert all(layer.fast_inference for layer in net1.layers if hasattr(layer, "fast_inference"))


def test_loaded_signatures_dtypes_and_shapes(loaded):
    models, loaded = loaded, loaded[3]
    pixels = loaded.signatures["serving_default"].structured_input_signature[1]
    encoded = loaded.signatures["stylize_bytes"].structured_input_signature[1]
    assert pixels["images"].dtype == tf.float32 and pixels["images"].shape.as_list() == [None, None, None, 3]
    assert encoded["images"].dtype == tf.string and encoded["images"].shape.as_list() == [None]
    for specs in (pixels, encoded):
        assert specs["style_weights"].dtype == tf.float32 and specs["style_weights"].shape.as_list() == [None, 3]
    out = loaded.signatures["stylize_bytes"].structured_outputs["stylized"]
    assert out.dtype == tf.string and out.shape.as_list() == [None]
    single = models[1].signatures["serving_default"].structured_input_signature[1]
    assert set(single) == {"images"}


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("saved_model_cli") is None, reason="saved_model_cli is not on PATH")
def test_saved_model_cli_lists_signatures(exported):  # ~25 s: the CLI imports TF and loads the model
    text = _signature_text(exported[3])
    default = text.split("signature_def['serving_default']")[1].split("signature_def[")[0]
    as_bytes = text.split("signature_def['stylize_bytes']")[1].split("Concrete Functions")[0]
    assert "inputs['images']" in default and "DT_FLOAT" in default and "shape: (-1, -1, -1, 3)" in default
    assert "inputs['style_weights']" in default and "shape: (-1, 3)" in default
    assert "outputs['stylized']" in default
    assert "DT_STRING" in as_bytes and "shape: (-1)" in as_bytes and "outputs['stylized']" in as_bytes


def test_bad_inputs(exported, loaded, tmp_path, net1):
    with pytest.raises(ModelError):
        load_style_model(tmp_path)
    with pytest.raises(ModelError):
        export_style_model(object(), tmp_path / "x")
    with pytest.raises(ParameterError):
        stylize_saved_model(loaded[3], _pixels(1, 8, 8), [1, 1, 0])
    with pytest.raises(ImageError):
        stylize_saved_model(loaded[1], _pixels(1, 2, 8))
    (tmp_path / "file").write_text("x")
    with pytest.raises(ParameterError):
        export_style_model(net1, tmp_path / "file")


def _png_bomb(width, height):
    """A tiny PNG whose header declares `width` x `height` pixels (only one row of data)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * (1 + 3 * 64))) + chunk(b"IEND", b"")


def test_bytes_signature_refuses_images_over_the_decode_limit_before_decoding(loaded, net1, tmp_path):
    """A 20000 x 20000 PNG bomb is refused by its header (the old signature allocated ~1.2 GB)."""
    bomb = _png_bomb(20000, 20000)
    assert len(bomb) < 1000
    with pytest.raises(tf.errors.InvalidArgumentError, match="decode limit"):
        loaded[1].signatures["stylize_bytes"](images=tf.constant([bomb]))
    gif = tf.io.encode_png(np.zeros((4, 4, 3), np.uint8)).numpy()  # a GIF header in front of anything
    with pytest.raises(tf.errors.InvalidArgumentError, match="GIF"):
        loaded[1].signatures["stylize_bytes"](images=tf.constant([b"GIF89a" + gif]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="PNG, JPEG or BMP"):
        loaded[1].signatures["stylize_bytes"](images=tf.constant([b"not an image"]))
    small = export_style_model(net1, tmp_path / "small", max_decode_pixels=20 * 20)
    model = load_style_model(small)
    ok = tf.io.encode_jpeg(_pixels(1, 20, 20)[0].astype(np.uint8)).numpy()
    too_big = tf.io.encode_jpeg(_pixels(1, 20, 21)[0].astype(np.uint8)).numpy()
    assert model.signatures["stylize_bytes"](images=tf.constant([ok]))["stylized"].shape == (1,)
    with pytest.raises(tf.errors.InvalidArgumentError, match="decode limit"):
        model.signatures["stylize_bytes"](images=tf.constant([too_big]))
    with pytest.raises(ParameterError, match="max_decode_pixels"):
        export_style_model(net1, tmp_path / "bad", max_decode_pixels=0)


def test_header_sizes_match_the_decoders():
    import io

    from PIL import Image

    from kerasviz.images.image_bytes import image_header_size

    image = _pixels(1, 17, 23)[0].astype(np.uint8)
    for fmt, options in (("PNG", {}), ("JPEG", {"progressive": True}), ("BMP", {})):
        buffer = io.BytesIO()
        pil = Image.fromarray(image)
        exif = pil.getexif()
        exif[0x010E] = "x" * 3000  # a large APP1 segment before the JPEG frame header
        pil.save(buffer, format=fmt, exif=exif, **options) if fmt == "JPEG" else pil.save(buffer, format=fmt)
        assert image_header_size(tf.constant(buffer.getvalue())).numpy().tolist()[1:] == [17, 23], fmt


def test_concurrent_automatic_versions_each_get_their_own_folder(net1, tmp_path, monkeypatch):
    """Three exports that all computed version 1 before writing: each lands (the old code lost two
    of three with a raw 'Directory not empty')."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    barrier = threading.Barrier(3, timeout=30)

    def slow_save(module, folder):
        _fake_save(module, folder)
        barrier.wait()  # every export has picked its number before any renames

    monkeypatch.setattr(export_module, "_save", slow_save)
    base = tmp_path / "m"
    with ThreadPoolExecutor(3) as pool:
        folders = list(pool.map(lambda _: export_style_model(net1, base), range(3)))
    assert sorted(int(f.name) for f in folders) == [1, 2, 3]
    assert sorted(p.name for p in base.iterdir()) == ["1", "2", "3"]


@pytest.mark.parametrize(
    "error", [tf.errors.ResourceExhaustedError(None, None, "out of disk"), OSError(28, "No space left on device")]
)
def test_disk_full_is_an_export_error(net1, tmp_path, monkeypatch, error):
    def full(module, folder):
        _fake_save(module, folder)
        raise error

    monkeypatch.setattr(export_module, "_save", full)
    with pytest.raises(ExportError, match="disk space"):
        export_style_model(net1, tmp_path / "m")
    assert list((tmp_path / "m").iterdir()) == []


def test_latest_version_ignores_names_beyond_int64(tmp_path):
    (tmp_path / "99999999999999999999").mkdir()
    (tmp_path / "0").mkdir()
    (tmp_path / "7").mkdir()
    assert latest_version(tmp_path) == 7


def test_no_automatic_version_after_the_largest_int64(net1, tmp_path, monkeypatch):
    """Before: version=None wrote 9223372036854775808, a folder TF Serving ignores."""
    monkeypatch.setattr(export_module, "_save", _fake_save)
    (tmp_path / "9223372036854775807").mkdir()
    with pytest.raises(ExportError, match="No version number is left"):
        export_style_model(net1, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["9223372036854775807"]
