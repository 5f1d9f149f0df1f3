"""Activation objectives: a class score, a channel, one neuron, a whole layer's energy.

Each is built with the public `objectives.objective` constructor (stable trace key: the indices
are values fed to compiled loops, so `class_score(1)` and `class_score(285)` share one trace).
"""

from __future__ import annotations

import numbers
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import tensorflow as tf

from ..errors import ParameterError, TargetError
from ..features import LOGITS, FeatureModel
from .objective_inputs import layer_argument, per_image_mean
from .objective_type import Check, Objective, objective

__all__ = ["class_score", "channel", "neuron", "layer_l2"]

IndexLike = Union[int, Sequence[int], np.ndarray]


def _indices(index: IndexLike, what: str, error: type = ParameterError) -> Tuple[np.ndarray, bool]:
    """`(indices int32 (K,), per_image)` from one non-negative index or one per image."""
    if isinstance(index, (bool, np.bool_)):
        raise error(f"A {what} index must be an integer. Received: index={index!r}")
    values = np.asarray(index)
    if values.dtype.kind not in "iu" or values.ndim > 1 or values.size == 0:
        raise error(
            f"A {what} index must be a non-negative integer or a 1-D sequence of them (one per "
            f"image). Received: index={index!r}"
        )
    if (values < 0).any():
        raise error(f"A {what} index must be non-negative. Received: index={index!r}")
    return values.astype(np.int32).reshape(-1), values.ndim == 1


def _pick(values: tf.Tensor, indices: tf.Tensor, per_image: bool) -> tf.Tensor:
    """`values[i, indices[i]]` (per image) or `values[:, index]` from `(N, K)` values."""
    if per_image:
        return tf.gather(values, indices, axis=1, batch_dims=1)
    return tf.gather(values, indices, axis=1)


def _channel_means(maps: tf.Tensor) -> tf.Tensor:
    """`(N, c)` means over every position axis: `(N, h, w, c)` maps, `(N, T, c)` tokens, `(N, c)` vectors."""
    rank = maps.shape.rank
    return maps if rank == 2 else tf.reduce_mean(maps, axis=tuple(range(1, rank - 1)))


def _index_value(indices: np.ndarray, per_image: bool) -> np.ndarray:
    return indices if per_image else np.int32(indices[0])


def _channel_check(layer: str, indices: np.ndarray) -> Check:
    def check(features: FeatureModel) -> None:
        channels = features.model.output[layer].shape[-1]
        if channels is not None and int(indices.max()) >= int(channels):
            raise ParameterError(
                f"Channel {int(indices.max())} is out of range: layer {layer!r} has {channels} "
                f"channels (0..{int(channels) - 1}). Received: index={indices.tolist()}"
            )

    return check


def _class_check(indices: np.ndarray) -> Check:
    def check(features: FeatureModel) -> None:
        classes = int(features.model.output[LOGITS].shape[-1])
        if int(indices.max()) >= classes:
            raise TargetError(
                f"Class index {int(indices.max())} is out of range: the model has {classes} "
                f"classes (0..{classes - 1}). Received: index={indices.tolist()}"
            )

    return check


def _batch(indices: np.ndarray, per_image: bool) -> Optional[int]:
    return len(indices) if per_image else None


def _describe(index: IndexLike) -> str:
    values = np.asarray(index).reshape(-1).tolist()
    return str(values[0]) if np.ndim(index) == 0 else str(values)


def class_score(index: IndexLike, logits: bool = True) -> Objective:
    """The score of a class: its logit (default) or its log-probability.

    Args:
        index: Class index, or one class index per image `(N,)`.
        logits: `True` for the pre-softmax logit (Simonyan et al.'s choice: maximizing a
            probability is easily done by pushing other classes down); `False` for the
            log-softmax probability.

    Returns:
        An objective reading `"logits"`, scores `(N,)`.

    Raises:
        TargetError: The index is not a non-negative integer (or a 1-D sequence of them); a class
            beyond the model's classes is reported when the objective is bound to a model.
    """
    indices, per_image = _indices(index, "class", TargetError)
    use_logits = bool(logits)

    def apply(outputs, values):
        scores = outputs[LOGITS]
        if not use_logits:
            scores = tf.nn.log_softmax(scores, axis=-1)
        return _pick(scores, values[0], per_image)

    return objective(
        score=apply,
        values=(_index_value(indices, per_image),),
        key=("class_score", use_logits, per_image),
        requires={LOGITS},
        name=f"class_score({_describe(index)}{'' if use_logits else ', logits=False'})",
        n_images=_batch(indices, per_image),
        checks=(_class_check(indices),),
    )


def channel(layer: str, index: IndexLike) -> Objective:
    """The mean activation of one channel of a layer (feature visualization).

    Args:
        layer: Layer name with a `(N, h, w, c)` output (or `(N, T, c)` tokens of a transformer,
            or `(N, c)` units): the channel's mean over every position is maximized.
        index: Channel index, or one channel per image `(N,)` (e.g. 16 channels in one run).

    Returns:
        An objective, scores `(N,)`.

    Raises:
        ParameterError: Bad layer name or index; a channel beyond the layer's channels is
            reported when the objective is bound to a model.
    """
    layer = layer_argument(layer)
    indices, per_image = _indices(index, "channel")

    def apply(outputs, values):
        return _pick(_channel_means(outputs[layer]), values[0], per_image)

    return objective(
        score=apply,
        values=(_index_value(indices, per_image),),
        key=("channel", layer, per_image),
        requires={layer},
        name=f"channel({layer}, {_describe(index)})",
        n_images=_batch(indices, per_image),
        checks=(_channel_check(layer, indices),),
    )


def neuron(layer: str, index: IndexLike, x: Optional[int] = None, y: Optional[int] = None) -> Objective:
    """The activation of one unit of a channel at one spatial position (the centre by default).

    Args:
        layer: Layer name with a `(N, h, w, c)` output, or `(N, T, c)` tokens (then `y` picks
            the token, by default the middle one; `x` is ignored).
        index: Channel index, or one per image `(N,)`.
        x: Column in the layer's feature map; `None` for the centre `w // 2`.
        y: Row in the layer's feature map; `None` for the centre `h // 2`.

    Returns:
        An objective, scores `(N,)`.

    Raises:
        ParameterError: Bad layer name, index or position (negative or non-integer).
    """
    layer = layer_argument(layer)
    indices, per_image = _indices(index, "channel")
    for name, value in (("x", x), ("y", y)):
        if value is not None and (
            isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 0
        ):
            raise ParameterError(f"`{name}` must be a non-negative integer or None. Received: {name}={value!r}")

    def apply(outputs, values):
        maps = outputs[layer]
        shape = tf.shape(maps)
        position = values[1]  # (row, col); -1 means the centre
        row = tf.where(position[0] < 0, shape[1] // 2, tf.minimum(position[0], shape[1] - 1))
        if maps.shape.rank == 3:  # tokens (N, T, c): one token
            return _pick(maps[:, row, :], values[0], per_image)
        col = tf.where(position[1] < 0, shape[2] // 2, tf.minimum(position[1], shape[2] - 1))
        return _pick(maps[:, row, col, :], values[0], per_image)

    where = "centre" if x is None and y is None else f"x={x}, y={y}"
    position = np.array([-1 if y is None else int(y), -1 if x is None else int(x)], np.int32)
    return objective(
        score=apply,
        values=(_index_value(indices, per_image), position),
        key=("neuron", layer, per_image),
        requires={layer},
        name=f"neuron({layer}, {_describe(index)}, {where})",
        n_images=_batch(indices, per_image),
        checks=(_channel_check(layer, indices),),
    )


def layer_l2(layer: str) -> Objective:
    """The mean squared activation of a whole layer (DeepDream's objective).

    Args:
        layer: Layer name.

    Returns:
        An objective, scores `(N,)` = mean over positions and channels of activation².

    Raises:
        ParameterError: Bad layer name.
    """
    layer = layer_argument(layer)

    def apply(outputs, values):
        return per_image_mean(tf.square(tf.cast(outputs[layer], tf.float32)))

    return objective(score=apply, requires={layer}, key=("layer_l2", layer), name=f"layer_l2({layer})")


