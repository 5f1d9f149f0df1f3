import numpy as np
import pytest
import tensorflow as tf

from kerasviz import TargetError
from kerasviz.targets import resolve_target, target_scores


def test_single_index_broadcasts():
    target = resolve_target(3, n_images=4, n_classes=10)
    assert target.indices.tolist() == [3, 3, 3, 3] and target.fn is None


def test_one_index_per_image_selects_rows():
    logits = tf.constant([[0.0, 1.0, 2.0], [5.0, 4.0, 3.0]])
    target = resolve_target([2, 1], n_images=2, n_classes=3)
    np.testing.assert_allclose(target.scores(logits), [2.0, 4.0])
    np.testing.assert_allclose(target_scores(logits, tf.constant([0, 2])), [0.0, 3.0])


def test_callable_target():
    target = resolve_target(lambda logits: tf.reduce_sum(logits, axis=1), n_images=2, n_classes=3)
    np.testing.assert_allclose(target.scores(tf.ones((2, 3))), [3.0, 3.0])


def test_callable_with_wrong_shape_is_refused():
    target = resolve_target(lambda logits: logits, n_images=2, n_classes=3)
    with pytest.raises(TargetError, match=r"\(N,\)"):
        target.scores(tf.ones((2, 3)))


@pytest.mark.parametrize(
    "bad, match",
    [
        (10, "out of range"), (-1, "out of range"), ([1, 2, 3], "one class index per image"), ("cat", "integer"),
        (1.5, "integer"), (True, "integer"), (None, "required"),
    ],
)
def test_bad_targets(bad, match):
    with pytest.raises(TargetError, match=match):
        resolve_target(bad, n_images=2, n_classes=10)


def test_none_allowed_when_asked():
    assert resolve_target(None, 2, 10, allow_none=True) is None
