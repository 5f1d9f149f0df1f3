"""Random loss views: the stylized batch and its crops are shifted / flipped alike."""

import numpy as np
import tensorflow as tf

from kerasviz.faststyle.loss_view import random_flips, random_window


def _ramp(n=2, h=6, w=5):
    return tf.reshape(tf.range(n * h * w * 3, dtype=tf.float32), (n, h, w, 3))


def test_random_window_is_the_same_window_of_both():
    a, b = _ramp(), _ramp() + 1000
    offsets = set()
    for seed in range(20):
        wa, wb = random_window(2, a, b, seed=tf.constant([seed, 0]))
        assert wa.shape == wb.shape == (2, 4, 3, 3)
        np.testing.assert_array_equal(wb - wa, 1000)
        row, col = np.argwhere((a.numpy() == wa.numpy()[0, 0, 0, 0]))[0][1:3]
        offsets.add((row, col))
    assert offsets <= {(i, j) for i in range(3) for j in range(3)} and len(offsets) > 3


def test_random_flips_flip_both_alike_and_reach_all_four():
    a, b = _ramp(), _ramp() + 1000
    seen = set()
    for seed in range(30):
        fa, fb = random_flips(a, b, seed=tf.constant([seed, 0]))
        np.testing.assert_array_equal(fb - fa, 1000)
        for up_down in (False, True):
            for left_right in (False, True):
                expected = a.numpy()[:, ::-1] if up_down else a.numpy()
                expected = expected[:, :, ::-1] if left_right else expected
                if np.array_equal(fa, expected):
                    seen.add((up_down, left_right))
    assert len(seen) == 4
