"""Composable objectives: plain functions of a FeatureModel's outputs that add and scale.

An `Objective` wraps `fn(outputs) -> (N,)`, one score per image, where `outputs` is the dict a
`FeatureModel` returns (layer name -> tensor, `"logits"`) plus `"pixels"`: the image batch being
scored, float32 `(N, H, W, 3)` in `[0, 255]`, for pixel regularizers. It also records which
layers it reads, so an engine builds exactly one FeatureModel for the union of them.

Sign convention (one rule, as in Lucid): every constructor returns its natural quantity —
activations and class scores (more = stronger) and distances / penalties (`content`, `style`,
`total_variation`, `l2`, `l1`: >= 0, less = closer or smoother). The engine `optimize`
**maximizes** an objective, so penalties and losses are subtracted:
`class_score(285) - 1e-3 * l2()`, or `-(content(...) + 1e-2 * style(...))` to minimize a loss.

Example:
    >>> objective = channel("block5a_project_conv", 7) - 1e-4 * total_variation()
    >>> features = objective.feature_model(backbone)
    >>> scores = objective(objective_outputs(features, images))  # (N,)
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Dict, FrozenSet, Iterable, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import tensorflow as tf

from ..errors import ImageError, ParameterError, TargetError
from ..features import LOGITS, FeatureModel
from ..images import as_image_batch

__all__ = [
    "PIXELS",
    "Objective",
    "objective_outputs",
    "class_score",
    "channel",
    "neuron",
    "layer_l2",
    "content",
    "style",
    "gram_matrix",
    "total_variation",
    "l2",
    "l1",
    "content_targets",
    "gram_targets",
]

#: Key of the scored image batch (float32 pixels in `[0, 255]`) in an objective's outputs.
PIXELS = "pixels"

ScoreFn = Callable[[Mapping[str, tf.Tensor]], tf.Tensor]
ApplyFn = Callable[[Mapping[str, tf.Tensor], Tuple[tf.Tensor, ...]], tf.Tensor]
Check = Callable[[FeatureModel], None]
IndexLike = Union[int, Sequence[int], np.ndarray]


class Objective:
    """A score per image, computed from FeatureModel outputs; objectives add, subtract and scale.

    An objective separates its *structure* (`key`: which layers, which kind of score — hashable)
    from its *numbers* (`values`: class / channel indices, target activations, Gram targets,
    factors — NumPy arrays). Compiled loops are cached by `key` and receive `values` as tensor
    inputs, so `class_score(1)` and `class_score(285)` share one traced function.

    Attributes:
        name: Readable description, e.g. `"channel(block3a_add, 5) - 0.001 * l2()"`.
        requires: Keys of the outputs the objective reads: layer names, `"logits"`, `"pixels"`.
        n_images: Batch size the objective needs (one index per image), or `None` for any.
        key: Hashable structure; equal keys mean one compiled function serves both.
        values: Tuple of NumPy arrays consumed by `apply`.
    """

    def __init__(
        self,
        fn: ScoreFn,
        requires: Iterable[str] = (),
        *,
        name: str = "objective",
        n_images: Optional[int] = None,
        checks: Tuple[Check, ...] = (),
    ) -> None:
        """Wrap a plain score function (a custom objective).

        Args:
            fn: `fn(outputs) -> (N,)` float32 scores; `outputs` maps each required key to a tensor
                (layer outputs, `"logits"`, `"pixels"` in `[0, 255]`). Constants it uses are
                traced into compiled loops (one trace per `fn` object).
            requires: Layer names it reads, plus `"logits"` / `"pixels"` where needed.
            name: Readable description used in reprs and progress bars.
            n_images: Batch size the objective needs, or `None` when any batch works.
            checks: Callables `check(features)` that raise a `KerasvizError` when the objective
                does not fit a built FeatureModel (class or channel out of range).
        """
        self._setup(lambda outputs, values: fn(outputs), (), ("fn", fn), requires, name, n_images, checks)

    @classmethod
    def _make(
        cls,
        apply: ApplyFn,
        values: Tuple[np.ndarray, ...],
        key: Any,
        requires: Iterable[str],
        name: str,
        n_images: Optional[int] = None,
        checks: Tuple[Check, ...] = (),
    ) -> "Objective":
        objective = cls.__new__(cls)
        objective._setup(apply, values, key, requires, name, n_images, checks)
        return objective

    def _setup(self, apply, values, key, requires, name, n_images, checks) -> None:
        self._apply = apply
        self.values: Tuple[np.ndarray, ...] = tuple(values)
        self.key = key
        self.requires: FrozenSet[str] = frozenset(requires)
        self.name = name
        self.n_images = n_images
        self.checks = tuple(checks)

    # -- what it needs -------------------------------------------------------------------------
    @property
    def layers(self) -> Tuple[str, ...]:
        """Layer names the objective reads (sorted; `"logits"` and `"pixels"` excluded)."""
        return tuple(sorted(self.requires - {LOGITS, PIXELS}))

    @property
    def needs_logits(self) -> bool:
        """Whether the objective reads the logits."""
        return LOGITS in self.requires

    @property
    def value_specs(self) -> Tuple[tf.TensorSpec, ...]:
        """Input signature of `values`: dtype and rank of each, every dimension `None`."""
        return tuple(tf.TensorSpec([None] * v.ndim, tf.as_dtype(v.dtype)) for v in self.values)

    def feature_model(
        self, model: Any, input_shape: Optional[Sequence[Optional[int]]] = (None, None, 3)
    ) -> Optional[FeatureModel]:
        """The one FeatureModel with every layer this objective reads, validated.

        Args:
            model: A `Backbone` or a Keras model taking pixels.
            input_shape: Input shape without the batch axis; `(None, None, 3)` runs any size.

        Returns:
            A cached `FeatureModel`, or `None` when the objective reads only `"pixels"`.

        Raises:
            LayerNotFoundError: A layer does not exist.
            ModelError: The layers (or logits) cannot run at `input_shape`.
            TargetError: A class index is out of range.
            ParameterError: A channel index is out of range.
        """
        if not self.layers and not self.needs_logits:
            return None
        features = FeatureModel(model, self.layers, logits=self.needs_logits, input_shape=input_shape)
        for check in self.checks:
            check(features)
        return features

    def evaluate(self, model: Any, images: Any) -> np.ndarray:
        """Score images eagerly (outside any loop), e.g. to measure a result.

        Args:
            model: A `Backbone` or a Keras model taking pixels.
            images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`.

        Returns:
            `(N,)` float32 scores.

        Raises:
            ImageError: The images are invalid.
            ParameterError: The batch size does not fit the objective.
        """
        batch, _ = as_image_batch(images)
        self.check_batch(len(batch))
        features = self.feature_model(model)
        return np.asarray(self(objective_outputs(features, tf.constant(batch))), np.float32)

    def check_batch(self, n_images: int) -> None:
        """Raise `ParameterError` when `n_images` does not fit the objective's per-image indices."""
        if self.n_images is not None and self.n_images != n_images:
            raise ParameterError(
                f"The objective {self.name} has one index per image for {self.n_images} images, "
                f"but {n_images} images are optimized. Received: n_images={n_images}"
            )

    def apply(self, outputs: Mapping[str, tf.Tensor], values: Sequence[tf.Tensor]) -> tf.Tensor:
        """Scores `(N,)` float32 with `values` given as tensors (inside compiled loops)."""
        return tf.cast(self._apply(outputs, tuple(values)), tf.float32)

    def __call__(self, outputs: Mapping[str, tf.Tensor]) -> tf.Tensor:
        """Scores `(N,)` float32 for one batch of outputs, with the objective's own values."""
        return self.apply(outputs, tuple(tf.constant(v) for v in self.values))

    # -- algebra -------------------------------------------------------------------------------
    def _combine(self, other: "Objective", sign: float, symbol: str) -> "Objective":
        sizes = {n for n in (self.n_images, other.n_images) if n is not None}
        if len(sizes) > 1:
            raise ParameterError(
                f"Cannot combine objectives with one index per image for different batch sizes "
                f"{sorted(sizes)}. Received: {self.name!r} and {other.name!r}"
            )
        a, b, split = self._apply, other._apply, len(self.values)

        def apply(outputs, values):
            return tf.cast(a(outputs, values[:split]), tf.float32) + sign * tf.cast(
                b(outputs, values[split:]), tf.float32
            )

        return Objective._make(
            apply,
            self.values + other.values,
            (symbol, self.key, other.key),
            self.requires | other.requires,
            f"{self.name} {symbol} {other.name}",
            sizes.pop() if sizes else None,
            self.checks + other.checks,
        )

    def _scaled(self, factor: float, name: str) -> "Objective":
        inner = self._apply

        def apply(outputs, values):
            return values[0] * tf.cast(inner(outputs, values[1:]), tf.float32)

        return Objective._make(
            apply,
            (np.float32(factor),) + self.values,
            ("*", self.key),
            self.requires,
            name,
            self.n_images,
            self.checks,
        )

    def __add__(self, other: Any) -> "Objective":
        if isinstance(other, numbers.Number) and other == 0:
            return self
        return self._combine(_as_objective(other, "+"), 1.0, "+")

    def __radd__(self, other: Any) -> "Objective":  # sum([...]) starts from 0
        return self.__add__(other)

    def __sub__(self, other: Any) -> "Objective":
        return self._combine(_as_objective(other, "-"), -1.0, "-")

    def __neg__(self) -> "Objective":
        return self._scaled(-1.0, f"-({self.name})")

    def __mul__(self, factor: Any) -> "Objective":
        factor = _finite_number(factor, "factor")
        return self._scaled(factor, f"{factor:g} * {self.name}")

    __rmul__ = __mul__

    def __truediv__(self, divisor: Any) -> "Objective":
        divisor = _finite_number(divisor, "divisor")
        if divisor == 0:
            raise ParameterError("Cannot divide an objective by zero. Received: divisor=0")
        return self._scaled(1.0 / divisor, f"{self.name} / {divisor:g}")

    def __repr__(self) -> str:
        return f"Objective({self.name})"


def objective_outputs(features: Optional[FeatureModel], images: tf.Tensor) -> Dict[str, tf.Tensor]:
    """Run a FeatureModel and add the images under `"pixels"`: what an objective reads.

    Args:
        features: The FeatureModel built by `Objective.feature_model` (`None`: pixels only).
        images: float32 tensor `(N, H, W, 3)` in `[0, 255]`.

    Returns:
        Dict of tensors: every layer of `features`, `"logits"` if built with them, `"pixels"`.
    """
    outputs = {} if features is None else dict(features(images))
    outputs[PIXELS] = images
    return outputs


# -- validation helpers ---------------------------------------------------------------------------
def _as_objective(other: Any, op: str) -> Objective:
    if not isinstance(other, Objective):
        raise ParameterError(
            f"Objectives combine with objectives ({op}) and scale by numbers (*). Received: "
            f"{type(other).__name__} {other!r}"
        )
    return other


def _finite_number(value: Any, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ParameterError(f"`{name}` must be a real number. Received: {name}={value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ParameterError(f"`{name}` must be finite. Received: {name}={value!r}")
    return value


def _layer_name(layer: Any) -> str:
    if not isinstance(layer, str) or not layer or layer in (LOGITS, PIXELS):
        raise ParameterError(
            f"A layer is given by its name (a non-empty string other than {LOGITS!r} / {PIXELS!r}); "
            f"`kerasviz.layer_names(model)` lists them. Received: layer={layer!r}"
        )
    return layer


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


def _per_image_mean(values: tf.Tensor) -> tf.Tensor:
    return tf.reduce_mean(tf.reshape(values, (tf.shape(values)[0], -1)), axis=1)


# -- activation objectives ------------------------------------------------------------------------
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

    return Objective._make(
        apply,
        (_index_value(indices, per_image),),
        ("class_score", use_logits, per_image),
        {LOGITS},
        f"class_score({_describe(index)}{'' if use_logits else ', logits=False'})",
        _batch(indices, per_image),
        (_class_check(indices),),
    )


def channel(layer: str, index: IndexLike) -> Objective:
    """The mean activation of one channel of a layer (feature visualization).

    Args:
        layer: Layer name with a `(N, h, w, c)` output.
        index: Channel index, or one channel per image `(N,)` (e.g. 16 channels in one run).

    Returns:
        An objective, scores `(N,)`.

    Raises:
        ParameterError: Bad layer name or index; a channel beyond the layer's channels is
            reported when the objective is bound to a model.
    """
    layer = _layer_name(layer)
    indices, per_image = _indices(index, "channel")

    def apply(outputs, values):
        return _pick(tf.reduce_mean(outputs[layer], axis=(1, 2)), values[0], per_image)

    return Objective._make(
        apply,
        (_index_value(indices, per_image),),
        ("channel", layer, per_image),
        {layer},
        f"channel({layer}, {_describe(index)})",
        _batch(indices, per_image),
        (_channel_check(layer, indices),),
    )


def neuron(layer: str, index: IndexLike, x: Optional[int] = None, y: Optional[int] = None) -> Objective:
    """The activation of one unit of a channel at one spatial position (the centre by default).

    Args:
        layer: Layer name with a `(N, h, w, c)` output.
        index: Channel index, or one per image `(N,)`.
        x: Column in the layer's feature map; `None` for the centre `w // 2`.
        y: Row in the layer's feature map; `None` for the centre `h // 2`.

    Returns:
        An objective, scores `(N,)`.

    Raises:
        ParameterError: Bad layer name, index or position (negative or non-integer).
    """
    layer = _layer_name(layer)
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
        col = tf.where(position[1] < 0, shape[2] // 2, tf.minimum(position[1], shape[2] - 1))
        return _pick(maps[:, row, col, :], values[0], per_image)

    where = "centre" if x is None and y is None else f"x={x}, y={y}"
    position = np.array([-1 if y is None else int(y), -1 if x is None else int(x)], np.int32)
    return Objective._make(
        apply,
        (_index_value(indices, per_image), position),
        ("neuron", layer, per_image),
        {layer},
        f"neuron({layer}, {_describe(index)}, {where})",
        _batch(indices, per_image),
        (_channel_check(layer, indices),),
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
    layer = _layer_name(layer)

    def apply(outputs, values):
        return _per_image_mean(tf.square(tf.cast(outputs[layer], tf.float32)))

    return Objective._make(apply, (), ("layer_l2", layer), {layer}, f"layer_l2({layer})")


# -- distances to targets --------------------------------------------------------------------------
def _target_array(target: Any, what: str) -> np.ndarray:
    try:
        array = np.asarray(target.numpy() if hasattr(target, "numpy") else target, np.float32)
    except (TypeError, ValueError) as error:
        raise ParameterError(f"The {what} target must be a numeric array. Received: {target!r}") from error
    if not np.all(np.isfinite(array)):
        raise ParameterError(f"The {what} target must be finite. Received: a target with non-finite values")
    return array


def content(layer: str, target: Any) -> Objective:
    """Mean squared distance of a layer's activations to target activations (a loss: >= 0).

    Args:
        layer: Layer name.
        target: Target activations `(h, w, c)` or `(1 | N, h, w, c)`, computed once (e.g. by
            `content_targets`); broadcast over the batch. The optimized images must be the size
            the target was computed at.

    Returns:
        An objective, scores `(N,)` = mean over positions and channels of (activation - target)²;
        subtract it (or negate it) to minimize.

    Raises:
        ParameterError: Bad layer name, or a target that is not a finite 3-D / 4-D array.
    """
    layer = _layer_name(layer)
    array = _target_array(target, "content")
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4:
        raise ParameterError(
            "A content target is a feature map (h, w, c) or (N, h, w, c). Received: target with "
            f"shape {array.shape}"
        )

    def apply(outputs, values):
        return _per_image_mean(tf.square(tf.cast(outputs[layer], tf.float32) - values[0]))

    return Objective._make(apply, (array,), ("content", layer), {layer}, f"content({layer})")


def gram_matrix(features: Any) -> tf.Tensor:
    """Gram matrices of feature maps, normalized by the number of positions h·w (batched).

    Args:
        features: `(N, h, w, c)` (or `(h, w, c)`) activations, tensor or array.

    Returns:
        `(N, c, c)` (or `(c, c)`) float32 tensor `G[n] = F[n]ᵀ F[n] / (h·w)` with `F[n]` the
        `(h·w, c)` matrix of image n's activations: independent of the image size, so Grams of
        style images of different sizes can be compared and blended.

    Raises:
        ParameterError: The features are not 3-D or 4-D.
    """
    maps = tf.cast(tf.convert_to_tensor(features), tf.float32)
    rank = maps.shape.rank
    if rank not in (3, 4):
        raise ParameterError(
            "gram_matrix needs feature maps (N, h, w, c) or (h, w, c). Received: shape "
            f"{tuple(maps.shape)}"
        )
    batched = maps if rank == 4 else maps[None]
    shape = tf.shape(batched)
    flat = tf.reshape(batched, (shape[0], shape[1] * shape[2], shape[3]))
    grams = tf.matmul(flat, flat, transpose_a=True) / tf.cast(shape[1] * shape[2], tf.float32)
    return grams if rank == 4 else grams[0]


def _layer_list(layers: Any, what: str) -> Tuple[str, ...]:
    names = (layers,) if isinstance(layers, str) else tuple(layers) if layers is not None else ()
    if not names:
        raise ParameterError(f"Give at least one {what} layer name. Received: layers={layers!r}")
    if len(set(names)) != len(names):
        raise ParameterError(f"{what.capitalize()} layer names must be unique. Received: layers={list(names)}")
    return tuple(_layer_name(n) for n in names)


def _layer_weights(weights: Any, layers: Tuple[str, ...]) -> Tuple[float, ...]:
    if weights is None:
        return tuple(1.0 / len(layers) for _ in layers)
    if isinstance(weights, Mapping):
        unknown = set(weights) - set(layers)
        if unknown:
            raise ParameterError(
                f"Layer weights name layers {sorted(unknown)} that are not among {list(layers)}. "
                f"Received: weights={dict(weights)}"
            )
        values = [weights.get(name, 0.0) for name in layers]
    else:
        values = list(np.asarray(weights, dtype=object).reshape(-1))
        if len(values) != len(layers):
            raise ParameterError(
                f"Give one weight per layer ({len(layers)} layers). Received: weights={weights!r}"
            )
    values = [_finite_number(v, "weight") for v in values]
    if any(v < 0 for v in values):
        raise ParameterError(f"Layer weights must be non-negative. Received: weights={weights!r}")
    return tuple(values)


def style(layers: Any, gram_targets: Any, weights: Any = None) -> Objective:
    """Weighted Gram-matrix distance to target Grams over several layers (a loss: >= 0).

    Args:
        layers: One layer name or a sequence of them.
        gram_targets: Target Grams, a dict layer -> `(c, c)` or `(1 | N, c, c)` array (e.g. from
            `gram_targets`), or a sequence aligned with `layers`; computed once, outside any loop.
        weights: Per-layer weights (sequence aligned with `layers`, or dict layer -> weight);
            `None` weighs every layer `1 / len(layers)`.

    Returns:
        An objective, scores `(N,)` = Σ_layers weight · mean over (c, c) of (G - G_target)², with
        G from `gram_matrix`; subtract it (or negate it) to minimize.

    Raises:
        ParameterError: Bad layer names, missing / malformed targets, or bad weights.
    """
    names = _layer_list(layers, "style")
    if isinstance(gram_targets, Mapping):
        missing = [n for n in names if n not in gram_targets]
        if missing:
            raise ParameterError(
                f"No Gram target for style layers {missing}. Received: targets for "
                f"{sorted(gram_targets)}"
            )
        targets_list = [gram_targets[n] for n in names]
    else:
        targets_list = list(gram_targets) if gram_targets is not None else []
        if len(targets_list) != len(names):
            raise ParameterError(
                f"Give one Gram target per style layer ({len(names)} layers). Received: "
                f"{len(targets_list)} targets"
            )
    targets = []
    for name, target in zip(names, targets_list):
        array = _target_array(target, "style")
        if array.ndim == 2:
            array = array[None]
        if array.ndim != 3 or array.shape[-1] != array.shape[-2]:
            raise ParameterError(
                f"A Gram target is a square matrix (c, c) or (N, c, c). Received: target for "
                f"{name!r} with shape {array.shape}"
            )
        targets.append(array)
    layer_weights = np.asarray(_layer_weights(weights, names), np.float32)

    def apply(outputs, values):
        *grams, weight = values
        total = 0.0
        for i, (name, target) in enumerate(zip(names, grams)):
            total += weight[i] * _per_image_mean(tf.square(gram_matrix(outputs[name]) - target))
        return total

    return Objective._make(
        apply, tuple(targets) + (layer_weights,), ("style", names), set(names), f"style({', '.join(names)})"
    )


# -- pixel regularizers ----------------------------------------------------------------------------
def total_variation(power: float = 2.0) -> Objective:
    """Total variation of the image (a penalty: >= 0), on pixels scaled to `[0, 1]`.

    Args:
        power: β of Mahendran & Vedaldi: mean over pixels and channels of
            `(dx² + dy²)^(β/2)`; `2` is the smooth squared TV, `1` the classic (edge-keeping) TV.
            Must be in `(0, 4]`.

    Returns:
        An objective reading `"pixels"`, scores `(N,)`; subtract it to smooth.

    Raises:
        ParameterError: `power` not finite or outside `(0, 4]`.
    """
    beta = _finite_number(power, "power")
    if not 0 < beta <= 4:
        raise ParameterError(f"`power` must be in (0, 4]. Received: power={power!r}")

    def apply(outputs, values):
        x = outputs[PIXELS] / 255.0
        dx = x[:, :-1, 1:, :] - x[:, :-1, :-1, :]
        dy = x[:, 1:, :-1, :] - x[:, :-1, :-1, :]
        squared = tf.square(dx) + tf.square(dy)
        if beta != 2.0:  # a small floor keeps the gradient finite where the image is flat
            squared = tf.pow(squared + 1e-8, beta / 2.0)
        return _per_image_mean(squared)

    return Objective._make(apply, (), ("total_variation", beta), {PIXELS}, f"total_variation({beta:g})")


def _centred(pixels: tf.Tensor) -> tf.Tensor:
    return pixels / 127.5 - 1.0


def l2() -> Objective:
    """L2 pixel decay (a penalty: >= 0): mean squared pixel, on pixels centred to `[-1, 1]`.

    Returns:
        An objective reading `"pixels"`, scores `(N,)`; subtract it to pull pixels towards grey.
    """
    return Objective._make(
        lambda o, v: _per_image_mean(tf.square(_centred(o[PIXELS]))), (), ("l2",), {PIXELS}, "l2()"
    )


def l1() -> Objective:
    """L1 pixel decay (a penalty: >= 0): mean absolute pixel, on pixels centred to `[-1, 1]`.

    Returns:
        An objective reading `"pixels"`, scores `(N,)`; subtract it for sparse changes from grey.
    """
    return Objective._make(
        lambda o, v: _per_image_mean(tf.abs(_centred(o[PIXELS]))), (), ("l1",), {PIXELS}, "l1()"
    )


# -- targets computed once -------------------------------------------------------------------------
def _features_for(model: Any, layers: Any, default: str) -> FeatureModel:
    if isinstance(model, FeatureModel):
        names = model.layer_names if layers is None else _layer_list(layers, default)
        return FeatureModel(model.source, names, logits=False, input_shape=(None, None, 3))
    if layers is None:
        layers = getattr(model, f"{default}_layers", None)
    return FeatureModel(model, _layer_list(layers, default), logits=False, input_shape=(None, None, 3))


def content_targets(model: Any, image: Any, layers: Any = None) -> Dict[str, np.ndarray]:
    """Activations of an image at content layers, computed once (targets for `content`).

    Args:
        model: A `Backbone`, a Keras model taking pixels, or a `FeatureModel` (its layers are
            used when `layers` is None).
        image: `(H, W, 3)` or `(1, H, W, 3)` pixels in `[0, 255]`.
        layers: Layer name(s); `None` for the FeatureModel's layers or `backbone.content_layers`.

    Returns:
        Dict layer -> float32 array `(1, h, w, c)`.

    Raises:
        ImageError: The image is invalid or a batch of several images.
        LayerNotFoundError: A layer does not exist.
        ParameterError: No layers given.
    """
    batch, _ = as_image_batch(image, name="image")
    if len(batch) != 1:
        raise ImageError(f"content_targets takes one image. Received: {len(batch)} images")
    features = _features_for(model, layers, "content")
    outputs = features(tf.constant(batch))
    return {name: np.asarray(outputs[name], np.float32) for name in features.layer_names}


def gram_targets(
    model: Any, images: Any, layers: Any = None, weights: Optional[Sequence[float]] = None
) -> Dict[str, np.ndarray]:
    """Gram matrices of one or several style images, blended by weights, computed once.

    Args:
        model: A `Backbone`, a Keras model taking pixels, or a `FeatureModel` (its layers are
            used when `layers` is None).
        images: One style image `(H, W, 3)`, a batch `(K, H, W, 3)`, or a list of K images of
            any sizes, pixels in `[0, 255]`.
        layers: Layer name(s); `None` for the FeatureModel's layers or `backbone.style_layers`.
        weights: K non-negative blend weights summing to 1 (`None`: equal weights).

    Returns:
        Dict layer -> float32 array `(c, c)`: Σ_k weights[k] · gram_matrix(features of image k).

    Raises:
        ImageError: An image is invalid.
        LayerNotFoundError: A layer does not exist.
        ParameterError: No layers, or weights of the wrong length, negative or not summing to 1.
    """
    if isinstance(images, (list, tuple)):
        batches = [as_image_batch(image, name="images")[0] for image in images]
        singles = [b[i : i + 1] for b in batches for i in range(len(b))]
    else:
        batch, _ = as_image_batch(images, name="images")
        singles = [batch[i : i + 1] for i in range(len(batch))]
    if weights is None:
        blend = np.full(len(singles), 1.0 / len(singles))
    else:
        blend = np.asarray([_finite_number(w, "weight") for w in np.asarray(weights, dtype=object).reshape(-1)])
        if len(blend) != len(singles) or (blend < 0).any() or abs(blend.sum() - 1.0) > 1e-4:
            raise ParameterError(
                f"Give {len(singles)} non-negative style weights summing to 1, one per style image. "
                f"Received: weights={list(np.asarray(weights).reshape(-1))}"
            )
    features = _features_for(model, layers, "style")
    result = {name: 0.0 for name in features.layer_names}
    for single, weight in zip(singles, blend):
        outputs = features(tf.constant(single))
        for name in features.layer_names:
            result[name] = result[name] + float(weight) * gram_matrix(outputs[name])[0].numpy()
    return {name: np.asarray(value, np.float32) for name, value in result.items()}
