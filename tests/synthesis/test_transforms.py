"""Engine image operations: random affine, blur, small-pixel clipping, tiles."""

import numpy as np
import pytest
import tensorflow as tf

from kerasviz.errors import ParameterError
from kerasviz.synthesis.transforms import (
    GREY,
    Transforms,
    clip_small_pixels,
    gaussian_blur,
    random_affine,
    tiles,
    untile,
)


def test_identity_settings_keep_images_and_random_ones_move_them():
    images = tf.random.uniform((3, 20, 24, 3), 0, 255, seed=1)
    same = random_affine(images, tf.constant(Transforms(0, (1, 1), 0).values()), tf.constant([1, 2]))
    np.testing.assert_allclose(same, images, atol=1e-3)
    moved = random_affine(images, tf.constant(Transforms().values()), tf.constant([1, 2]))
    assert moved.shape == images.shape
    differences = np.abs(moved.numpy() - images.numpy()).mean(axis=(1, 2, 3))
    assert (differences > 1).all() and len(set(np.round(differences, 3))) == 3  # one warp per image


def test_integer_jitter_only_translates():
    image = np.zeros((1, 16, 16, 1), np.float32)
    image[0, 8, 8] = 1.0
    # a jitter of 3 and the uniform draw's sign decide the shift; the dot moves without blurring
    moved = random_affine(tf.constant(image), tf.constant([3.0, 1, 1, 0]), tf.constant([0, 0])).numpy()
    assert moved.sum() == pytest.approx(1.0, abs=1e-4)


def test_blur_keeps_constants_and_mean_and_smooths():
    constant = tf.fill((1, 9, 9, 3), 42.0)
    np.testing.assert_allclose(gaussian_blur(constant, 1.5), constant, rtol=1e-5)
    noise = tf.random.uniform((2, 32, 32, 3), seed=2)
    blurred = gaussian_blur(noise, 1.0)
    assert blurred.shape == noise.shape
    assert float(tf.math.reduce_std(blurred)) < 0.5 * float(tf.math.reduce_std(noise))
    assert float(tf.reduce_mean(blurred)) == pytest.approx(float(tf.reduce_mean(noise)), abs=0.01)


def test_clip_small_pixels_by_norm_and_contribution():
    rng = np.random.default_rng(0)
    images = np.clip(GREY + rng.normal(0, 60, (1, 10, 10, 3)), 0, 255).astype(np.float32)
    gradients = rng.normal(size=images.shape).astype(np.float32)
    out = clip_small_pixels(tf.constant(images), tf.constant(gradients), 50.0, 0.0).numpy()
    grey = np.all(out == GREY, axis=-1)
    assert 0.45 <= grey.mean() <= 0.55
    norms = np.linalg.norm(images - GREY, axis=-1)
    assert norms[grey].max() <= norms[~grey].min()
    kept = clip_small_pixels(tf.constant(images), tf.constant(gradients), 0.0, 0.0).numpy()
    np.testing.assert_array_equal(kept, images)
    contribution = clip_small_pixels(tf.constant(images), tf.constant(gradients), 0.0, 30.0).numpy()
    assert 0.25 <= np.all(contribution == GREY, axis=-1).mean() <= 0.35


def test_tiles_cover_the_image_and_untile_averages():
    images = tf.reshape(tf.range(2 * 10 * 12 * 1, dtype=tf.float32), (2, 10, 12, 1))
    batch, count = tiles(images, tf.constant(5))
    assert batch.shape == (2 * 2 * 3, 4 + 1, 5, 1) or batch.shape[1:] == (5, 5, 1)
    assert int(count) == 6
    np.testing.assert_array_equal(batch[0, :, :, 0], images[0, :5, :5, 0])
    np.testing.assert_array_equal(batch[7, :, :, 0], images[1, :5, 5:10, 0])
    np.testing.assert_allclose(untile(tf.range(12, dtype=tf.float32), count), [2.5, 8.5])


def test_bad_transforms():
    for kwargs in ({"jitter": -1}, {"scale": (0, 1)}, {"scale": (1.2, 1.1)}, {"degrees": float("nan")}):
        with pytest.raises(ParameterError):
            Transforms(**kwargs)
