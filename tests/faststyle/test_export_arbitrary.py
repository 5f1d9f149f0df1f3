"""SavedModel export of the arbitrary (AdaIN) stylizer: signatures, agreement with the in-process
`stylize_arbitrary`, encoded images (grey, transparent, different sizes), and bad inputs refused
inside the graph with InvalidArgumentError (INVALID_ARGUMENT when served)."""

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

from kerasviz.errors import ImageError, ParameterError
from kerasviz.faststyle import export_arbitrary as export_arbitrary_module
from kerasviz.faststyle import export_style_model, load_style_model, stylize_saved_model
from kerasviz.faststyle.adain import build_arbitrary_stylizer, build_decoder
from kerasviz.faststyle.arbitrary import stylize_arbitrary
from kerasviz.faststyle.arbitrary_checks import check_arbitrary_inputs, is_arbitrary_stylizer
from kerasviz.faststyle.export_arbitrary import export_arbitrary_model, is_arbitrary_export
from kerasviz.images.arrays import composite_on_white
from kerasviz.serving.servable import first_line
from kerasviz.serving.tensors import read_signature_defs
from kerasviz.serving.versioned_export import WARMUP_FILE

RNG = np.random.default_rng(3)
CONTENT = RNG.integers(0, 256, (2, 40, 52, 3)).astype(np.uint8)  # 52: not a multiple of 8
STYLE = RNG.integers(0, 256, (2, 48, 64, 3)).astype(np.uint8)


def _smooth(image):
    """Smooth colour blobs, so that resizing and JPEG keep something like the pixels."""
    return tf.image.resize(tf.cast(image[None, ::8, ::8], tf.float32), image.shape[:2], method="bilinear")[0].numpy().astype(np.uint8)


def _tiny_stylizer():
    """A small Keras model with the stylizer's interface (content, style, alpha), to exercise the
    export's own graph (decoding, checks, style resizing) in the default suite without VGG."""
    tf.keras.utils.set_random_seed(1)
    content = tf.keras.Input((None, None, 3), name="content")
    style = tf.keras.Input((None, None, 3), name="style")
    alpha = tf.keras.Input((), name="alpha")
    style_mean = tf.keras.ops.mean(style, axis=(1, 2), keepdims=True)
    out = tf.keras.layers.Conv2D(3, 1)(content) + tf.keras.ops.reshape(alpha, (-1, 1, 1, 1)) * style_mean
    return tf.keras.Model({"content": content, "style": style, "alpha": alpha}, out)


@pytest.fixture(scope="module")
def tiny():
    return _tiny_stylizer()


@pytest.fixture(scope="module")
def tiny_loaded(tiny, tmp_path_factory):
    return load_style_model(export_style_model(tiny, tmp_path_factory.mktemp("tiny")))


@pytest.fixture(scope="module")
def stylizer():
    tf.keras.utils.set_random_seed(7)
    return build_arbitrary_stylizer(build_decoder(16))


@pytest.fixture(scope="module")
def exported(stylizer, tmp_path_factory):
    return export_style_model(stylizer, tmp_path_factory.mktemp("arbitrary"))


@pytest.fixture(scope="module")
def loaded(exported):
    return load_style_model(exported.parent)


def _call(loaded, signature, **inputs):
    return loaded.signatures[signature](**{k: tf.constant(v) for k, v in inputs.items()})["stylized"].numpy()


def _refused(loaded, signature, **inputs):
    with pytest.raises(tf.errors.InvalidArgumentError) as caught:
        _call(loaded, signature, **inputs)
    return first_line(caught.value.message)  # what the server sends back


def _png(image):
    return tf.io.encode_png(image).numpy()


def test_local_checks_follow_stylize_arbitrary():
    """The in-process checks (no model needed): alpha, sizes, style count, grey / RGBA styles."""
    content, styles, alphas, single = check_arbitrary_inputs(CONTENT, STYLE[0], [0.2, 1])
    assert not single and styles.shape == (2, 256, 341, 3) and alphas.tolist() == pytest.approx([0.2, 1.0])
    grey = check_arbitrary_inputs(CONTENT[0], STYLE[0, ..., 0], 0.5)[1]
    np.testing.assert_array_equal(grey[..., 0], grey[..., 2])
    opaque = np.concatenate([STYLE[0], np.full((48, 64, 1), 255, np.uint8)], axis=-1)
    np.testing.assert_array_equal(check_arbitrary_inputs(CONTENT, opaque, 1)[1], check_arbitrary_inputs(CONTENT, STYLE[0], 1)[1])
    for alpha in (1.5, -0.1, float("nan"), [0.5], "strong"):
        with pytest.raises(ParameterError, match="alpha.*Received: alpha="):
            check_arbitrary_inputs(CONTENT, STYLE[0], alpha)
    with pytest.raises(ImageError, match="transparent"):
        check_arbitrary_inputs(CONTENT, np.concatenate([STYLE[0], np.zeros((48, 64, 1), np.uint8)], -1), 1)
    with pytest.raises(ImageError, match="at least 32"):
        check_arbitrary_inputs(CONTENT, STYLE[0, :20], 1)
    with pytest.raises(ImageError, match="at least 16"):
        check_arbitrary_inputs(CONTENT[:, :8], STYLE[0], 1)
    with pytest.raises(ImageError, match="one per content image"):
        check_arbitrary_inputs(CONTENT, np.concatenate([STYLE, STYLE]), 1)
    assert not is_arbitrary_stylizer(object()) and not is_arbitrary_stylizer(tf.keras.Sequential([tf.keras.layers.Dense(1)]))


@pytest.mark.slow  # ~35 s: builds the VGG encoder, exports and loads a SavedModel
def test_signatures_and_warmup(exported, loaded):
    defs = read_signature_defs(exported)
    pixels, encoded = defs["serving_default"], defs["stylize_bytes"]
    shape = lambda info: [d.size for d in info.tensor_shape.dim]  # noqa: E731
    assert {k: (v.dtype, shape(v)) for k, v in pixels.inputs.items()} == {
        "content": (tf.float32.as_datatype_enum, [-1, -1, -1, 3]),
        "style": (tf.float32.as_datatype_enum, [-1, -1, -1, 3]),
        "alpha": (tf.float32.as_datatype_enum, [-1]),
    }
    assert {k: (v.dtype, shape(v)) for k, v in encoded.inputs.items()} == {
        "content": (tf.string.as_datatype_enum, [-1]),
        "style": (tf.string.as_datatype_enum, [-1]),
        "alpha": (tf.float32.as_datatype_enum, [-1]),
    }
    assert list(pixels.outputs) == ["stylized"] and encoded.outputs["stylized"].dtype == tf.string.as_datatype_enum
    assert is_arbitrary_export(loaded)
    records = list(tf.data.TFRecordDataset(str(exported / WARMUP_FILE)).as_numpy_iterator())
    assert len(records) == 2
    for record in records:
        request = prediction_log_pb2.PredictionLog.FromString(record).predict_log.request
        inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
        assert set(inputs) == {"content", "style", "alpha"}
        assert _call(loaded, request.model_spec.signature_name, **inputs).shape[0] == 1


@pytest.mark.slow
def test_pixel_signature_equals_stylize_arbitrary(stylizer, loaded, exported):
    """Served pixels = the in-process API (style resized to 256 inside both), row by row."""
    alpha = np.array([1.0, 0.4], np.float32)
    out = _call(loaded, "serving_default", content=CONTENT.astype(np.float32), style=STYLE.astype(np.float32), alpha=alpha)
    assert out.shape == CONTENT.shape and out.dtype == np.float32 and out.min() >= 0 and out.max() <= 255
    for i in range(2):
        expected = stylize_arbitrary(CONTENT[i], STYLE[i], alpha=float(alpha[i]), stylizer=stylizer)
        assert np.abs(out[i] - expected).max() < 0.05
    assert np.abs(out[0] - out[1]).max() > 1  # style and alpha matter
    helper = stylize_saved_model(exported, CONTENT, style=STYLE[1], alpha=[1.0, 0.4])
    assert helper.dtype == np.uint8 and helper.shape == CONTENT.shape
    expected = stylize_arbitrary(CONTENT, STYLE[1], alpha=0.4, stylizer=stylizer)
    assert np.abs(helper[1].astype(int) - np.rint(expected[1])).max() <= 1
    single = stylize_saved_model(loaded, CONTENT[0], style=STYLE[0, ..., 0])  # grey style, alpha 1
    assert single.shape == CONTENT.shape[1:]


@pytest.mark.slow
def test_bytes_signature_sizes_grey_and_transparent_styles(stylizer, loaded):
    content = _smooth(RNG.integers(0, 256, (33, 70, 3)).astype(np.uint8))
    style = _smooth(RNG.integers(0, 256, (64, 40, 3)).astype(np.uint8))
    rgba = np.concatenate([style, RNG.integers(0, 256, (64, 40, 1)).astype(np.uint8)], axis=-1)
    grey = style[..., :1]
    request = {
        "content": np.array([_png(CONTENT[0]), _png(content), _png(content)], dtype=object),
        "style": np.array([tf.io.encode_jpeg(style, quality=100).numpy(), _png(grey), _png(rgba)], dtype=object),
        "alpha": np.array([1.0, 0.7, 0.5], np.float32),
    }
    out = [tf.io.decode_png(item).numpy().astype(int) for item in _call(loaded, "stylize_bytes", **request)]
    assert [o.shape for o in out] == [(40, 52, 3), (33, 70, 3), (33, 70, 3)]
    jpeg = tf.io.decode_jpeg(request["style"][0]).numpy()
    on_white = composite_on_white(style.astype(np.float32), rgba[..., 3] / 255.0)
    references = [(CONTENT[0], jpeg, 1.0), (content, np.repeat(grey, 3, -1), 0.7), (content, on_white, 0.5)]
    for got, (c, s, a) in zip(out, references):
        expected = np.rint(stylize_arbitrary(c, s, alpha=a, stylizer=stylizer))
        assert np.abs(got - expected).max() <= 1  # PNG rounding


def test_bad_inputs_are_invalid_argument(tiny_loaded):
    loaded = tiny_loaded
    content, style = CONTENT.astype(np.float32), STYLE.astype(np.float32)
    alpha = np.ones(2, np.float32)
    assert "alpha must lie in [0, 1]" in _refused(loaded, "serving_default", content=content, style=style, alpha=np.float32([1.5, 0]))
    assert "alpha must lie in [0, 1]" in _refused(loaded, "serving_default", content=content, style=style, alpha=np.float32([np.nan, 0]))
    assert "same batch length" in _refused(loaded, "serving_default", content=content, style=style[:1], alpha=alpha)
    assert "same batch length" in _refused(loaded, "serving_default", content=content, style=style, alpha=alpha[:1])
    assert "style image must be at least 32 x 32" in _refused(loaded, "serving_default", content=content, style=style[:, :31], alpha=alpha)
    small = content[:, :12]
    assert "content image must be at least 16 x 16" in _refused(loaded, "serving_default", content=small, style=style, alpha=alpha)
    assert "[0, 255]" in _refused(loaded, "serving_default", content=content * 2, style=style, alpha=alpha)
    pngs = lambda images: np.array([_png(i) for i in images], dtype=object)  # noqa: E731
    assert "same batch length" in _refused(loaded, "stylize_bytes", content=pngs(CONTENT), style=pngs(STYLE[:1]), alpha=alpha)
    assert "alpha must lie" in _refused(loaded, "stylize_bytes", content=pngs(CONTENT), style=pngs(STYLE), alpha=np.float32([0, -1]))
    assert "at least 32 x 32" in _refused(loaded, "stylize_bytes", content=pngs(CONTENT), style=pngs(STYLE[:, :16, :16]), alpha=alpha)
    gif = np.array([b"GIF89a" + b"\0" * 40] * 2, dtype=object)
    assert "GIF" in _refused(loaded, "stylize_bytes", content=pngs(CONTENT), style=gif, alpha=alpha)
    junk = np.array([b"not an image"] * 2, dtype=object)
    assert "PNG, JPEG or BMP" in _refused(loaded, "stylize_bytes", content=junk, style=pngs(STYLE), alpha=alpha)


@pytest.mark.slow
def test_decode_limit_and_local_helper_errors(stylizer, loaded, tmp_path):
    small = export_arbitrary_model(stylizer, tmp_path / "small", max_decode_pixels=50 * 50)
    limited = load_style_model(small)
    alpha = np.ones(1, np.float32)
    assert "decode limit" in _refused(limited, "stylize_bytes", content=np.array([_png(CONTENT[0])], dtype=object),
                                      style=np.array([_png(STYLE[0])], dtype=object), alpha=alpha)  # 48 x 64 style > 2500
    with pytest.raises(ParameterError, match="style="):
        stylize_saved_model(loaded, CONTENT)
    with pytest.raises(ParameterError, match="not style_weights"):
        stylize_saved_model(loaded, CONTENT, [1.0], style=STYLE[0])
    with pytest.raises(ParameterError, match="alpha"):
        stylize_saved_model(loaded, CONTENT, style=STYLE[0], alpha=2)
    with pytest.raises(ParameterError, match="max_decode_pixels"):
        export_arbitrary_model(stylizer, tmp_path / "x", max_decode_pixels=0)
    with pytest.raises(ParameterError, match="arbitrary stylizer"):
        export_arbitrary_model(object(), tmp_path / "x")


def test_export_graph_on_a_small_model(tiny, tiny_loaded):
    """The signatures run the model on the checked, resized style: pixels and bytes agree with it."""
    alpha = np.float32([1.0, 0.25])
    out = _call(tiny_loaded, "serving_default", content=CONTENT.astype(np.float32), style=STYLE.astype(np.float32), alpha=alpha)
    styles = check_arbitrary_inputs(CONTENT, STYLE, alpha)[1]  # resized to a shorter side of 256
    assert styles.shape == (2, 256, 341, 3)
    expected = np.clip(tiny({"content": CONTENT.astype(np.float32), "style": styles, "alpha": alpha}).numpy(), 0, 255)
    assert np.abs(out - expected).max() < 1e-3
    encoded = _call(tiny_loaded, "stylize_bytes", content=np.array([_png(c) for c in CONTENT], dtype=object),
                    style=np.array([_png(s) for s in STYLE], dtype=object), alpha=alpha)
    decoded = np.stack([tf.io.decode_png(item).numpy() for item in encoded]).astype(int)
    assert np.abs(decoded - np.rint(expected)).max() <= 1


def test_failed_export_leaves_no_version_folder(tiny, monkeypatch, tmp_path):
    """The atomic versioned write: a save that dies half-way leaves nothing behind."""
    assert is_arbitrary_stylizer(tiny)

    def broken(module, folder):
        folder.mkdir()
        (folder / "saved_model.pb").write_bytes(b"")
        raise OSError("disk full (injected)")

    monkeypatch.setattr(export_arbitrary_module, "_save", broken)
    with pytest.raises(OSError):
        export_style_model(tiny, tmp_path / "m")
    assert list((tmp_path / "m").iterdir()) == []


@pytest.mark.slow
def test_transform_network_exports_refuse_a_style(tmp_path):
    """`style=` / `alpha=` belong to arbitrary stylizers: a transform network's export says so."""
    from kerasviz.faststyle import build_transform_net

    tf.keras.utils.set_random_seed(2)
    path = export_style_model(build_transform_net(width=8), tmp_path / "transform")
    loaded = load_style_model(path)
    assert not is_arbitrary_export(loaded)
    assert stylize_saved_model(loaded, CONTENT[0]).shape == CONTENT.shape[1:]
    with pytest.raises(ParameterError, match="own trained styles"):
        stylize_saved_model(loaded, CONTENT, style=STYLE[0])
    with pytest.raises(ParameterError, match="own trained styles"):
        stylize_saved_model(loaded, CONTENT, alpha=0.5)
