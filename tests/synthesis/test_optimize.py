"""The gradient-ascent engine: progress, compiled once, options, early stop, errors."""

import keras
import numpy as np
import pytest

from kerasviz import synthesis as ob
from kerasviz.errors import LayerNotFoundError, ParameterError, TargetError
from kerasviz.synthesis import Ascent, Execution, Regularization, Transforms
from kerasviz.synthesis.ascent_options import PLAIN
from kerasviz.synthesis.optimize import optimize
from kerasviz.synthesis.pixel_image import PixelImage

LAYER = "block3b_add"
FAST = dict(size=48, steps=12, steps_per_call=6)


def test_ascent_raises_the_objective_and_keeps_pixels_valid(lite0):
    result = optimize(lite0, ob.channel(LAYER, [0, 5]), batch=2, **FAST)
    assert result.images.shape == (2, 48, 48, 3) and result.images.dtype == np.float32
    assert 0 <= result.images.min() and result.images.max() <= 255
    assert result.history.shape == (12, 2)
    assert (result.history[-3:].mean(axis=0) > result.history[:3].mean(axis=0) + 0.5).all()
    assert result.uint8().dtype == np.uint8
    np.testing.assert_array_equal(result.steps, [12, 12])


def test_one_trace_serves_other_numbers_sizes_and_settings(lite0):
    first = optimize(lite0, ob.class_score(1) - 1e-3 * ob.l2(), **FAST)
    count = first.function.experimental_get_tracing_count()
    second = optimize(
        lite0,
        ob.class_score(285) - 1e-2 * ob.l2(),
        size=(40, 56),
        steps=5,
        steps_per_call=4,
        ascent=Ascent(step_size=3.0),
        regularization=Regularization(Transforms(jitter=2, scale=(1, 1.2), degrees=5), blur_every=2, clip_percentile=10),
        execution=Execution(seed=3),
    )
    assert second.function is first.function
    assert second.function.experimental_get_tracing_count() == count == 1
    assert second.images.shape == (1, 40, 56, 3)


@pytest.mark.parametrize("param", ["decorrelated", "fourier"])
def test_other_parameterizations_with_adam(lite0, param):
    result = optimize(lite0, ob.channel(LAYER, 3), param=param, ascent=Ascent(optimizer="adam"), **FAST)
    assert result.history[-1, 0] > result.history[0, 0]
    assert 0 <= result.images.min() and result.images.max() <= 255


def test_keras_optimizer_hyperparameters_are_used(lite0):
    adam = optimize(lite0, ob.channel(LAYER, 3), ascent=Ascent(keras.optimizers.Adam(0.05)), param="fourier", **FAST)
    same = optimize(lite0, ob.channel(LAYER, 3), ascent=Ascent("adam", step_size=0.05), param="fourier", **FAST)
    np.testing.assert_allclose(adam.images, same.images, atol=1e-3)


def test_octaves_upscale_and_tiles_run(lite0):
    result = optimize(lite0, ob.layer_l2(LAYER), octaves=2, ascent=Ascent(octave_scale=1.5), size=48, steps=4, steps_per_call=4)
    assert result.images.shape == (1, 48, 48, 3) and result.history.shape == (8, 1)
    tiled = optimize(lite0, ob.layer_l2(LAYER), ascent=Ascent(tile_size=32), regularization=PLAIN, size=(48, 64),
                     steps=4)
    assert tiled.images.shape == (1, 48, 64, 3)
    assert tiled.history[-1, 0] > tiled.history[0, 0]


def test_start_images_bounds_and_until_freeze_finished_images(lite0, chelsea):
    start = np.stack([chelsea[:64, :64], chelsea[64:128, 64:128]])
    param = PixelImage(start, low=np.clip(start - 3, 0, 255), high=np.clip(start + 3, 0, 255))
    calls = []

    def until(images):
        calls.append(images.shape)
        return np.array([True, False])

    result = optimize(lite0, ob.channel(LAYER, 1), param=param, steps=12, steps_per_call=4,
                      execution=Execution(until=until), regularization=PLAIN)
    np.testing.assert_array_equal(result.steps, [4, 12])
    assert calls[0] == (2, 64, 64, 3) and len(calls) == 3
    assert np.abs(result.images - start).max() <= 3.0 + 1e-3
    assert result.param is param
    # the same structure with scalar bounds (a fresh pixel image) gets its own compiled loop
    plain = optimize(lite0, ob.channel(LAYER, 1), size=32, steps=4, steps_per_call=4, regularization=PLAIN,
                     execution=Execution(until=lambda images: np.zeros(len(images), bool)))
    assert plain.images.shape == (1, 32, 32, 3)


def test_sign_gradients_move_every_pixel_by_the_step(lite0, chelsea):
    start = chelsea[:64, :64]
    result = optimize(
        lite0, ob.class_score(285), images=start, steps=1, ascent=Ascent(step_size=1.0, normalize_grad="sign"), regularization=PLAIN
    )
    change = np.abs(result.images[0] - start)
    inside = (start > 1) & (start < 254)
    assert np.mean(np.isclose(change[inside], 1.0, atol=1e-3)) > 0.99  # a few zero gradients stay


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(ascent=Ascent), ParameterError),
        (dict(regularization="plain"), ParameterError),
        (dict(execution=None), ParameterError),
        (dict(steps=0), ParameterError),
        (dict(size=8), ParameterError),
        (dict(size=(32, "a")), ParameterError),
        (dict(octaves=4, size=32), ParameterError),
        (dict(param="wavelet"), ParameterError),
        (dict(batch=3), ParameterError),
    ],
)
def test_bad_arguments(lite0, kwargs, error):
    with pytest.raises(error):
        optimize(lite0, ob.channel(LAYER, [1, 2]), **{**dict(size=32, steps=1), **kwargs})


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: Ascent(step_size=float("nan")), "step_size"),
        (lambda: Ascent(step_size=0), "step_size"),
        (lambda: Ascent(octave_scale=1.0), "octave_scale"),
        (lambda: Ascent(normalize_grad="l2"), "normalize_grad"),
        (lambda: Ascent(optimizer="rmsprop"), "optimizer"),
        (lambda: Ascent(optimizer=keras.optimizers.RMSprop()), "optimizer"),
        (lambda: Ascent(tile_size=8), "tile_size"),
        (lambda: Regularization(blur_sigma=-1.0), "blur_sigma"),
        (lambda: Regularization(clip_percentile=101), "clip_percentile"),
        (lambda: Regularization(transforms="default"), "transforms"),
        (lambda: Regularization(blur_every=1.5), "blur_every"),
        (lambda: Execution(until=3), "until"),
        (lambda: Execution(seed=-1), "seed"),
        (lambda: Execution(jit_compile="yes"), "jit_compile"),
    ],
)
def test_option_records_check_their_fields(make, name):
    with pytest.raises(ParameterError, match=name):
        make()


def test_moved_keywords_still_work_and_say_where_they_went(lite0):
    """The old flat spelling folds into the record (the result is the same) with a DeprecationWarning."""
    new = optimize(lite0, ob.channel(LAYER, 1), size=32, steps=2, ascent=Ascent(step_size=2.0),
                   regularization=Regularization(transforms=None, blur_every=1), execution=Execution(seed=4))
    with pytest.warns(DeprecationWarning, match=r"`blur_every` -> `regularization=Regularization\(blur_every=...\)`"):
        old = optimize(lite0, ob.channel(LAYER, 1), size=32, steps=2, step_size=2.0, transforms=None, blur_every=1,
                       seed=4)
    np.testing.assert_array_equal(old.images, new.images)
    with pytest.raises(ParameterError, match="step_size"), pytest.warns(DeprecationWarning):
        optimize(lite0, ob.channel(LAYER, 1), size=32, steps=1, step_size=-1.0)


def test_bad_objectives(lite0):
    with pytest.raises(ParameterError):
        optimize(lite0, "channel", size=32, steps=1)
    with pytest.raises(LayerNotFoundError):
        optimize(lite0, ob.channel("nope", 1), size=32, steps=1)
    with pytest.raises(ParameterError):
        optimize(lite0, ob.channel(LAYER, 999), size=32, steps=1)
    with pytest.raises(TargetError):
        optimize(lite0, ob.class_score(5000), size=32, steps=1)
    with pytest.raises(ParameterError):
        optimize(lite0, ob.channel(LAYER, [1, 2]), size=32, steps=1, ascent=Ascent(tile_size=16))


def test_fixed_size_model_is_resized_inside_the_step():
    """Issue 12: a Flatten -> Dense classifier scores images of any size, resized to its own
    input size inside the compiled step (the gradient flows through the resize)."""
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, keras.layers.Dense(3)(x))
    result = optimize(model, ob.class_score(1), size=48, steps=8, regularization=PLAIN)
    assert result.images.shape == (1, 48, 48, 3)
    assert result.history[-1, 0] > result.history[0, 0]  # the class score rises
    again = optimize(model, ob.class_score(2), size=64, steps=2, regularization=PLAIN, execution=Execution(seed=1))
    assert again.function is result.function and result.function.experimental_get_tracing_count() == 1
    result = optimize(model, ob.channel("conv", 1), size=48, steps=2)  # convolutional part runs at any size
    assert result.images.shape == (1, 48, 48, 3)
