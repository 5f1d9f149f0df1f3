"""Parameterizations: render/encode round trips, ranges, shapes, gradients, bounds."""

import numpy as np
import pytest
import tensorflow as tf

from kerasviz.errors import ImageError, ParameterError
from kerasviz.images import sample_image
from kerasviz.synthesis.decorrelated_images import COLOR_CORRELATION_SQRT, DecorrelatedImage, FourierImage
from kerasviz.synthesis.parameterization import make_parameterization
from kerasviz.synthesis.pixel_image import PixelImage

KINDS = [PixelImage, DecorrelatedImage, FourierImage]


@pytest.fixture(scope="module")
def odd_image():
    return sample_image("chelsea", size=(40, 37))


@pytest.mark.parametrize("kind", KINDS)
def test_encode_render_round_trip_at_odd_sizes(kind, odd_image):
    param = kind(odd_image)
    out = param.image().numpy()
    assert out.shape == (1, 40, 37, 3) and out.dtype == np.float32
    assert np.abs(out - odd_image).max() < 0.5  # lossless up to the logit clamp at 0 / 255
    param.assign_image(np.stack([odd_image[:32, :32]] * 2))
    assert param.shape == (2, 32, 32)


@pytest.mark.parametrize("kind", KINDS)
def test_noise_start_is_near_grey_in_range_and_differentiable(kind):
    param = kind(shape=(3, 24, 20), seed=1)
    with tf.GradientTape() as tape:
        image = param.image()
        score = tf.reduce_sum(image[:, :, :, 0])
    assert image.shape == (3, 24, 20, 3)
    values = image.numpy()
    assert 0 <= values.min() and values.max() <= 255 and abs(values.mean() - 128) < 10
    grads = tape.gradient(score, param.variables)
    assert all(g is not None and np.abs(g.numpy()).max() > 0 for g in grads)
    assert all(v.shape[0] == 3 for v in param.variables)  # batch first


def test_same_seed_same_start_and_different_seed_differs():
    a = FourierImage(shape=(1, 16, 16), seed=3).image().numpy()
    b = FourierImage(shape=(1, 16, 16), seed=3).image().numpy()
    c = FourierImage(shape=(1, 16, 16), seed=4).image().numpy()
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 0


def test_color_matrix_is_a_square_root_of_imagenet_colour_covariance():
    m = COLOR_CORRELATION_SQRT.astype(np.float64)
    covariance = m @ m.T
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    # the published ImageNet eigenvalues 0.2175, 0.0188, 0.0045, up to the one normalization
    np.testing.assert_allclose(eigenvalues[::-1] / eigenvalues.max(), [1, 0.0188 / 0.2175, 0.0045 / 0.2175], rtol=1e-3)
    # R, G and B are strongly positively correlated (R-B the least), as in natural images
    correlation = covariance / np.sqrt(np.outer(np.diag(covariance), np.diag(covariance)))
    assert correlation[np.triu_indices(3, 1)].min() > 0.75
    assert np.linalg.norm(m, axis=0).max() == pytest.approx(1.0, abs=1e-6)


def test_fourier_decay_makes_noise_smoother():
    def neighbour_correlation(image):
        x = image[0, :, :, 0] - image[0, :, :, 0].mean()
        return (x[:, 1:] * x[:, :-1]).mean() / x.var()

    white = FourierImage(shape=(1, 64, 64), seed=0, decay_power=0.0, noise=1e-4).image().numpy()
    smooth = FourierImage(shape=(1, 64, 64), seed=0, decay_power=1.0, noise=1e-4).image().numpy()
    assert abs(neighbour_correlation(white)) < 0.1  # flat spectrum: white noise
    assert neighbour_correlation(smooth) > 0.5  # 1/f spectrum: natural-image-like smoothness


def test_pixel_bounds_project():
    image = np.full((1, 8, 8, 3), 100.0, np.float32)
    param = PixelImage(image, low=image - 2, high=image + 2)
    (projected,) = param.project([tf.constant(image + 50)], [tf.constant(c) for c in param.constants()])
    assert float(tf.reduce_max(projected)) == pytest.approx(102.0)


def test_bad_arguments():
    with pytest.raises(ParameterError):
        make_parameterization("wavelet", shape=(1, 8, 8))
    with pytest.raises(ParameterError):
        PixelImage()
    with pytest.raises(ParameterError):
        PixelImage(shape=(1, 0, 8))
    with pytest.raises(ParameterError):
        PixelImage(shape=(1, 8, 8), low=10, high=5)
    with pytest.raises(ParameterError):
        PixelImage(shape=(1, 8, 8), high=300)
    with pytest.raises(ParameterError):
        FourierImage(shape=(1, 8, 8), decay_power=float("nan"))
    with pytest.raises(ParameterError):
        DecorrelatedImage(shape=(1, 8, 8), noise=-1.0)
    with pytest.raises(ImageError):
        PixelImage(np.full((8, 8, 3), 300.0))
