"""LiteRT export of the arbitrary (AdaIN) stylizer: the interpreter reproduces the Keras model (and
`stylize_arbitrary`) at any content and style size; bad inputs are refused before the interpreter."""

import numpy as np
import pytest
import tensorflow as tf

from kerasviz.errors import ImageError, ParameterError
from kerasviz.faststyle import export_style_tflite, load_tflite, stylize_tflite
from kerasviz.faststyle.adain import build_arbitrary_stylizer, build_decoder
from kerasviz.faststyle.arbitrary import stylize_arbitrary

pytest.importorskip("ai_edge_litert")

RNG = np.random.default_rng(11)
CONTENT = RNG.integers(0, 256, (2, 40, 52, 3)).astype(np.uint8)
STYLE = RNG.integers(0, 256, (48, 64, 3)).astype(np.uint8)


@pytest.fixture(scope="module")
def stylizer():
    tf.keras.utils.set_random_seed(7)
    return build_arbitrary_stylizer(build_decoder(16))


@pytest.fixture(scope="module")
def exported(stylizer, tmp_path_factory):
    folder = tmp_path_factory.mktemp("litert_arbitrary")
    return {
        "dynamic": export_style_tflite(stylizer, folder / "adain.tflite"),
        "fixed": export_style_tflite(stylizer, folder / "adain_40x52.tflite", image_size=(40, 52), quantization="float16"),
    }


@pytest.mark.slow  # ~60 s: two LiteRT conversions of the VGG encoder + decoder
def test_float_model_matches_keras_at_any_size(stylizer, exported):
    interpreter = load_tflite(exported["dynamic"])
    details = interpreter.get_signature_runner().get_input_details()
    assert sorted(details) == ["alpha", "content", "style"]
    assert list(details["content"]["shape_signature"]) == [-1, -1, -1, 3]
    # the raw signature against the Keras model, unclipped values compared as floats
    content, style = CONTENT.astype(np.float32), np.stack([STYLE, STYLE[::-1]]).astype(np.float32)
    alpha = np.float32([1.0, 0.3])
    raw = interpreter.get_signature_runner()(content=content, style=style, alpha=alpha)["stylized"]
    keras_out = np.clip(stylizer({"content": content, "style": style, "alpha": alpha}).numpy(), 0, 255)
    assert np.abs(raw - keras_out).max() < 0.05
    # the helper (style prepared as stylize_arbitrary does) at two content sizes, one interpreter
    for image, alpha in ((CONTENT[0], 1.0), (CONTENT[1, :33, :47], 0.5)):
        lite = stylize_tflite(interpreter, image, style=STYLE, alpha=alpha)
        expected = np.rint(stylize_arbitrary(image, STYLE, alpha=alpha, stylizer=stylizer))
        assert lite.shape == image.shape and lite.dtype == np.uint8
        assert np.abs(lite.astype(int) - expected).max() <= 1
    batch = stylize_tflite(interpreter, CONTENT, style=STYLE[..., 0], alpha=[1.0, 0.0])  # grey style
    assert batch.shape == CONTENT.shape and np.abs(batch[0].astype(int) - batch[1]).max() > 0


@pytest.mark.slow
def test_fixed_size_float16_and_bad_inputs(stylizer, exported, tmp_path):
    path = exported["fixed"]
    details = load_tflite(path).get_signature_runner().get_input_details()
    assert list(details["content"]["shape_signature"]) == [-1, 40, 52, 3]
    assert path.stat().st_size < 0.6 * exported["dynamic"].stat().st_size
    half = stylize_tflite(path, CONTENT[0], style=STYLE, alpha=0.8).astype(int)
    assert np.abs(half - np.rint(stylize_arbitrary(CONTENT[0], STYLE, alpha=0.8, stylizer=stylizer))).max() <= 3
    with pytest.raises(ImageError, match=r"exactly \(40, 52\).*Received"):
        stylize_tflite(path, CONTENT[0, :32], style=STYLE)
    interpreter = load_tflite(exported["dynamic"])
    with pytest.raises(ParameterError, match="alpha"):
        stylize_tflite(interpreter, CONTENT, style=STYLE, alpha=1.2)
    with pytest.raises(ParameterError, match="style="):
        stylize_tflite(interpreter, CONTENT)
    with pytest.raises(ImageError, match="at least 32"):
        stylize_tflite(interpreter, CONTENT, style=STYLE[:20])
    with pytest.raises(ImageError, match="transparent"):
        stylize_tflite(interpreter, CONTENT, style=np.concatenate([STYLE, np.zeros_like(STYLE[..., :1])], -1))
    with pytest.raises(ImageError, match="one per content image"):
        stylize_tflite(interpreter, CONTENT, style=np.stack([STYLE] * 3))
    with pytest.raises(ParameterError, match="image_size"):
        export_style_tflite(stylizer, tmp_path / "x.tflite", image_size=8)
    with pytest.raises(ParameterError, match="quantization"):
        export_style_tflite(stylizer, tmp_path / "x.tflite", quantization="int4")


@pytest.mark.slow
def test_transform_network_files_refuse_a_style(tmp_path):
    from kerasviz.faststyle import build_transform_net

    tf.keras.utils.set_random_seed(2)
    path = export_style_tflite(build_transform_net(width=8), tmp_path / "transform.tflite")
    assert stylize_tflite(path, CONTENT[0]).shape == CONTENT.shape[1:]
    with pytest.raises(ParameterError, match="own trained styles"):
        stylize_tflite(path, CONTENT, style=STYLE)
