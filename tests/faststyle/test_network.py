import keras
import numpy as np
import pytest

from kerasviz.errors import ImageError, KerasvizError, ModelError, ParameterError
from kerasviz.faststyle.inference import check_style_weights, compiled_stylize, stylize
from kerasviz.faststyle.network import build_transform_net, extract_style, transform_net_config
from kerasviz.faststyle.resize_conv import ResizeConv2D

RNG = np.random.default_rng(0)


def _images(n, h, w):
    return RNG.uniform(0, 255, (n, h, w, 3)).astype("float32")


# -- smoke / cardinality ------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(32, 32), (37, 50), (4, 4), (5, 7), (64, 30)])
def test_output_shape_equals_input_shape(net1, net3, size):
    x = _images(2, *size)
    assert net1(x).shape == (2, *size, 3)
    assert net3({"images": x, "style_weights": np.eye(3, dtype="float32")[:2]}).shape == (2, *size, 3)


def test_stylize_single_and_batch_dtypes_ranges(net1):
    x = _images(3, 20, 24)
    batch = stylize(net1, x, batch_size=2)
    single = stylize(net1, x[0].astype("uint8"))
    assert batch.shape == (3, 20, 24, 3) and batch.dtype == np.uint8
    assert single.shape == (20, 24, 3) and single.dtype == np.uint8
    raw = net1(x).numpy()
    assert raw.min() >= 0 and raw.max() <= 255


def test_architecture(net1):
    config = transform_net_config(net1)
    assert config == {"n_styles": 1, "width": 8, "upsample": "resize_conv", "padding": "reflect", "output": "tanh"}
    kernels = {layer.name: layer.kernel_size for layer in net1.layers if isinstance(layer, keras.layers.Conv2D)}
    assert kernels["in_conv"] == (9, 9) and kernels["out_conv"] == (9, 9)
    assert [layer.strides for layer in net1.layers if layer.name.startswith("down")  and hasattr(layer, "strides")] == [(2, 2), (2, 2)]
    assert sum(layer.name.endswith("_add") for layer in net1.layers) == 5
    assert [layer.name for layer in net1.layers if isinstance(layer, ResizeConv2D)] == ["up1_conv", "up2_conv"]
    transpose = build_transform_net(1, width=4, upsample="transpose")
    assert transform_net_config(transpose)["upsample"] == "transpose"
    assert transpose(_images(1, 10, 14)).shape == (1, 10, 14, 3)


# -- feature: conditional instance norm ------------------------------------------------------------
def test_one_hot_weights_equal_the_single_style_path(net3):
    x = _images(2, 28, 36)
    for index in range(3):
        single = extract_style(net3, index)
        one_hot = np.tile(np.eye(3, dtype="float32")[index], (2, 1))
        mixed = net3({"images": x, "style_weights": one_hot}).numpy()
        np.testing.assert_allclose(mixed, single(x).numpy(), atol=1e-3)
    # styles really differ (the test would pass trivially otherwise)
    a = stylize(net3, x, [1, 0, 0]).astype(int)
    b = stylize(net3, x, [0, 1, 0]).astype(int)
    assert np.abs(a - b).mean() > 5


def test_mix_is_one_pass_with_per_image_weights(net3):
    x = _images(3, 16, 16)
    weights = np.array([[1, 0, 0], [0.5, 0.5, 0], [0, 0.25, 0.75]], "float32")
    together = stylize(net3, x, weights)
    apart = np.stack([stylize(net3, x[i], weights[i]) for i in range(3)])
    np.testing.assert_array_equal(together, apart)
    halfway = together[1].astype(int)
    assert not np.array_equal(halfway, stylize(net3, x[1], [1, 0, 0]))
    assert not np.array_equal(halfway, stylize(net3, x[1], [0, 1, 0]))


def test_serialization_round_trip(net3, tmp_path):
    path = tmp_path / "net.keras"
    net3.save(path)
    loaded = keras.models.load_model(path)
    x = _images(1, 12, 20)
    np.testing.assert_array_equal(stylize(loaded, x, [0.3, 0.3, 0.4]), stylize(net3, x, [0.3, 0.3, 0.4]))


# -- compile ---------------------------------------------------------------------------------------
def test_stylize_does_not_retrace(net1):
    stylize(net1, _images(1, 16, 16))
    run = compiled_stylize(net1, 1)
    before = run.experimental_get_tracing_count()
    for size in [(20, 24), (33, 17), (16, 16)]:
        stylize(net1, _images(2, *size))
    assert run.experimental_get_tracing_count() == before


def test_reflection_padding_option(tmp_path):
    from kerasviz.faststyle.layers import ReflectionPad

    zero = build_transform_net(2, width=4, padding="zero")
    mirror = build_transform_net(2, width=4)  # reflection is the default for new networks
    assert transform_net_config(zero)["padding"] == "zero" and transform_net_config(mirror)["padding"] == "reflect"
    assert not any(isinstance(layer, ReflectionPad) for layer in zero.layers)
    assert {layer.padding for layer in mirror.layers if isinstance(layer, keras.layers.Conv2D)} == {"valid"}
    mirror.save(tmp_path / "m.keras")  # the option is in the saved graph: the network rebuilds as trained
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert transform_net_config(loaded)["padding"] == "reflect"
    x = {"images": _images(2, 4, 4), "style_weights": np.eye(2, dtype=np.float32)}  # 4x4: the 1x1 bottleneck pads too
    np.testing.assert_allclose(loaded(x).numpy(), mirror(x).numpy(), atol=1e-4)
    # a flat grey image stays flat (up to the padding's own border) only with mirrored borders
    flat = {"images": np.full((1, 32, 32, 3), 100, np.float32), "style_weights": np.eye(2, dtype=np.float32)[:1]}
    assert np.ptp(mirror(flat).numpy()) < 1e-3 < np.ptp(zero(flat).numpy())
    assert transform_net_config(extract_style(mirror, 1))["padding"] == "reflect"


# -- exceptions ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs", [dict(n_styles=0), dict(n_styles=1.5), dict(width=0), dict(width=True), dict(upsample="bilinear"),
               dict(padding="same")]
)
def test_bad_build_arguments(kwargs):
    with pytest.raises(ParameterError):
        build_transform_net(**kwargs)


@pytest.mark.parametrize(
    "weights",
    [[1, 0], [0.5, 0.2, 0.2], [1.5, -0.5, 0], [np.nan, 1, 0], [[1, 0, 0]] * 3, "abc"],
)
def test_bad_style_weights(net3, weights):
    with pytest.raises(ParameterError):
        stylize(net3, _images(2, 8, 8), weights)


def test_bad_inputs(net1, net3):
    with pytest.raises(ImageError):
        stylize(net1, _images(1, 3, 8))
    with pytest.raises(ImageError):
        stylize(net1, np.full((8, 8, 3), 300.0))
    with pytest.raises(ModelError):
        stylize(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]), _images(1, 8, 8))
    with pytest.raises(ParameterError):
        extract_style(net3, 3)
    with pytest.raises(ParameterError):
        stylize(net1, _images(1, 8, 8), batch_size=0)
    assert issubclass(ParameterError, KerasvizError)


def test_check_style_weights_broadcasts():
    assert check_style_weights(None, 3, 2).tolist() == [[1, 0, 0], [1, 0, 0]]
    assert check_style_weights([0, 1], 2, 3).shape == (3, 2)


def test_linear_output_is_clipped_only_at_inference():
    """`output="linear"`: raw pixels while training (gradients everywhere), [0, 255] otherwise."""
    import keras
    import tensorflow as tf

    net = build_transform_net(1, 4, output="linear")
    assert transform_net_config(net)["output"] == "linear"
    out_conv = net.get_layer("out_conv")
    kernel, bias = out_conv.get_weights()
    out_conv.set_weights([kernel, bias + 10.0])  # push every pixel far above 255
    images = tf.constant(np.random.default_rng(0).uniform(0, 255, (1, 16, 16, 3)), tf.float32)
    assert float(tf.reduce_min(net(images, training=True))) > 255
    assert np.allclose(net(images, training=False).numpy(), 255)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(net(images, training=True))
    assert float(tf.reduce_max(tf.abs(tape.gradient(loss, out_conv.bias)))) > 1  # a tanh's would be ~0
    single = keras.models.clone_model(net)
    assert transform_net_config(single)["output"] == "linear"


def test_bilinear_upsampling_reads_back_and_extracts():
    net = build_transform_net(2, 4, "bilinear_conv", output="linear")
    assert transform_net_config(net)["upsample"] == "bilinear_conv"
    single = extract_style(net, 1)
    assert transform_net_config(single) == {**transform_net_config(net), "n_styles": 1}
    images = np.random.default_rng(1).uniform(0, 255, (1, 20, 20, 3)).astype(np.float32)
    np.testing.assert_allclose(stylize(single, images), stylize(net, images, [[0.0, 1.0]]), atol=1e-3)
