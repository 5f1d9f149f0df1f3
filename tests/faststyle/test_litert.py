"""LiteRT export: the ai-edge-litert interpreter reproduces the Keras network on real photos."""

import numpy as np
import pytest
import skimage.data

from kerasviz.errors import ImageError, ModelError, ParameterError
from kerasviz.faststyle import export_style_tflite, extract_style, load_tflite, stylize, stylize_tflite
from kerasviz.faststyle.weights import load_demo_network

pytest.importorskip("ai_edge_litert")

# Measured on the bundled 3-style network (uint8 pixels, chelsea / astronaut / coffee crops):
# float32 max |diff| 1 (float outputs agree to < 0.01), float16 max 1-2, dynamic-range int8
# weights mean 3.3-3.8, max 65-68 (its linear output passes quantization errors on unsquashed;
# the previous tanh-output network: mean ~1.2, max ~22).
FLOAT_MAX = 1
FLOAT16_MAX = 3
DYNAMIC_MEAN, DYNAMIC_MAX = 5.0, 96


@pytest.fixture(scope="module")
def demo():
    return load_demo_network()[0]


@pytest.fixture(scope="module")
def photos():
    """Real photos at two sizes (one not a multiple of 4) from skimage.data."""
    return [skimage.data.chelsea()[:200, 50:250], skimage.data.astronaut()[30:181:1, 100:303], skimage.data.coffee()[100:196, 200:328]]


@pytest.fixture(scope="module")
def exported(demo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("litert")
    return {q: export_style_tflite(demo, folder / f"style_{q}.tflite", quantization=q) for q in (None, "float16", "dynamic")}


def test_float_model_matches_keras_at_any_size(demo, photos, exported):
    interpreter = load_tflite(exported[None])  # one interpreter, resized per call
    for photo, mix in zip(photos, ([1, 0, 0], [0, 0.5, 0.5], [0.2, 0.3, 0.5])):
        lite = stylize_tflite(interpreter, photo, mix)
        keras_result = stylize(demo, photo, mix)
        assert lite.shape == photo.shape and lite.dtype == np.uint8
        assert np.abs(lite.astype(int) - keras_result).max() <= FLOAT_MAX
    batch = np.stack([photos[0], photos[0][::-1]])
    weights = [[1, 0, 0], [0, 0, 1]]
    assert np.abs(stylize_tflite(interpreter, batch, weights).astype(int) - stylize(demo, batch, weights)).max() <= FLOAT_MAX


def test_quantized_models_are_smaller_and_close(demo, photos, exported):
    sizes = {q: path.stat().st_size for q, path in exported.items()}
    assert sizes["float16"] < 0.6 * sizes[None] and sizes["dynamic"] < 0.35 * sizes[None], sizes
    for photo in photos[:2]:
        reference = stylize(demo, photo, [0, 1, 0]).astype(int)
        half = np.abs(stylize_tflite(exported["float16"], photo, [0, 1, 0]) - reference)
        int8 = np.abs(stylize_tflite(exported["dynamic"], photo, [0, 1, 0]) - reference)
        assert half.max() <= FLOAT16_MAX
        assert int8.mean() <= DYNAMIC_MEAN and int8.max() <= DYNAMIC_MAX
        assert int8.mean() > 0  # really quantized


def test_single_style_fixed_size(demo, photos, tmp_path):
    single = extract_style(demo, 2)
    path = export_style_tflite(single, tmp_path / "one.tflite", image_size=(200, 200))
    details = load_tflite(path).get_signature_runner().get_input_details()
    assert list(details) == ["images"] and list(details["images"]["shape_signature"]) == [-1, 200, 200, 3]
    assert np.abs(stylize_tflite(path, photos[0]).astype(int) - stylize(single, photos[0])).max() <= FLOAT_MAX
    with pytest.raises(ImageError, match=r"exactly \(200, 200\).*Received"):
        stylize_tflite(path, photos[2])


def test_bad_arguments(demo, tmp_path):
    with pytest.raises(ParameterError, match="quantization.*Received: quantization='int4'"):
        export_style_tflite(demo, tmp_path / "x.tflite", quantization="int4")
    with pytest.raises(ParameterError, match="image_size"):
        export_style_tflite(demo, tmp_path / "x.tflite", image_size=2)
    with pytest.raises(ModelError, match="build_transform_net"):
        export_style_tflite(object(), tmp_path / "x.tflite")
    with pytest.raises(ModelError, match="No LiteRT model"):
        load_tflite(tmp_path / "missing.tflite")
    (tmp_path / "junk.tflite").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="Not a LiteRT model"):
        load_tflite(tmp_path / "junk.tflite")
