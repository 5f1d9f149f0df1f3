"""kerasviz.metrics.imputation: ROAD's neighbour-average imputation, one image or many."""

from __future__ import annotations

import numpy as np

from kerasviz.metrics.imputation import imputed_copies, noisy_linear_imputation


def test_copies_equal_one_at_a_time_whatever_the_threads():
    rng = np.random.default_rng(3)
    images = [rng.uniform(0, 255, (24, 20, 3)) for _ in range(5)]
    pixels = [rng.choice(24 * 20, size, replace=False) for size in (0, 10, 100, 300, 479)]
    seeds = [(7, k) for k in range(5)]
    one_by_one = np.stack([
        noisy_linear_imputation(image, p, 2.0, np.random.default_rng(s))
        for image, p, s in zip(images, pixels, seeds)
    ]).astype(np.float32)
    for workers in (1, 2, 4):
        np.testing.assert_array_equal(
            imputed_copies(images, pixels, 2.0, seeds, workers=workers), one_by_one)
    kept = np.ones(24 * 20, bool)
    kept[pixels[2]] = False
    np.testing.assert_array_equal(one_by_one[2].reshape(-1, 3)[kept],
                                  images[2].reshape(-1, 3)[kept].astype(np.float32))


def test_an_imputed_flat_region_stays_flat():
    image = np.full((16, 16, 3), 90.0)
    copies = imputed_copies([image], [np.arange(40, 200)], 0.0, [0])
    np.testing.assert_allclose(copies[0], 90.0, atol=1e-3)
