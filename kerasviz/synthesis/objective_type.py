"""The `Objective` type and its constructor `objective()`: a score per image that adds and scales.

An `Objective` maps the outputs dict of `objective_inputs` to scores `(N,)` and records which
layers it reads, so an engine builds one FeatureModel for all of them. `objective()` keeps
structure (`key`, one compiled trace) apart from numbers (`values`, tensor inputs); adding,
subtracting, negating and scaling objectives builds new ones the same way.
"""

from __future__ import annotations

import numbers
from typing import Any, Callable, FrozenSet, Hashable, Iterable, Mapping, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from ..checks import check_number
from ..errors import ParameterError
from ..features import LOGITS, FeatureModel
from ..images import as_image_batch
from .objective_inputs import PIXELS, objective_outputs

__all__ = ["Objective", "objective", "ScoreFn", "Check"]

#: `score(outputs, values) -> (N,)`: an objective's score from its outputs dict and values.
ScoreFn = Callable[[Mapping[str, tf.Tensor], Tuple[tf.Tensor, ...]], tf.Tensor]
#: `check(features)`: raises when an objective does not fit a built FeatureModel.
Check = Callable[[FeatureModel], None]


def objective(
    *,
    score: ScoreFn,
    requires: Iterable[str],
    values: Sequence[Any] = (),
    key: Optional[Hashable] = None,
    name: Optional[str] = None,
    n_images: Optional[int] = None,
    checks: Sequence[Check] = (),
) -> "Objective":
    """Define an objective: the public, keyword-only constructor every built-in objective uses.

    Structure and numbers are kept apart: compiled loops are cached by `key` (structure) and get
    `values` (numbers: indices, targets, factors) as tensor inputs, so two objectives that differ
    only in their numbers share one trace.

    Args:
        score: `score(outputs, values) -> (N,)`, where `outputs` maps each required key to a
            tensor and `values` is the tuple of `values` as tensors. Must depend on nothing else
            that changes between objectives with the same `key`.
        requires: Layer names it reads, plus `"logits"` / `"pixels"` where needed.
        values: NumPy arrays or numbers fed to `score` (each becomes a float32 / int32 array).
        key: Hashable structure; defaults to `(score's module and qualified name, sorted requires)`.
            Give it when `score` is a closure over other structure (e.g. a flag).
        name: Readable description; defaults to `score.__name__`.
        n_images: Batch size the objective needs (one index per image), or `None` for any.
        checks: Callables `check(features)` raising a `KerasvizError` when the objective does
            not fit a built FeatureModel (a class or channel out of range).

    Returns:
        The `Objective`.

    Raises:
        ParameterError: `score` is not callable or `key` is not hashable.
    """
    if not callable(score):
        raise ParameterError(f"`score` must be callable. Received: score={score!r}")
    requires = frozenset(requires)
    if key is None:
        key = (getattr(score, "__module__", ""), getattr(score, "__qualname__", repr(score)), tuple(sorted(requires)))
    try:
        hash(key)
    except TypeError:
        raise ParameterError(f"`key` must be hashable. Received: key={key!r}") from None
    arrays = tuple(v if isinstance(v, np.ndarray) else np.asarray(v) for v in values)
    result = Objective.__new__(Objective)
    result._setup(score, arrays, key, requires, name or getattr(score, "__name__", "objective"), n_images, tuple(checks))
    return result


class Objective:
    """A score per image, computed from FeatureModel outputs; objectives add, subtract and scale.

    Build one with `objective(score=..., requires=..., values=..., key=...)` (stable trace key)
    or, for quick experiments, `Objective(fn, requires)` (one trace per `fn` object).

    Attributes:
        name: Readable description, e.g. `"channel(block3a_add, 5) - 0.001 * l2()"`.
        requires: Keys of the outputs the objective reads: layer names, `"logits"`, `"pixels"`.
        n_images: Batch size the objective needs (one index per image), or `None` for any.
        key: Hashable structure; equal keys mean one compiled function serves both.
        values: Tuple of NumPy arrays consumed by the score function.
    """

    def __init__(
        self,
        fn: Callable[[Mapping[str, tf.Tensor]], tf.Tensor],
        requires: Iterable[str] = (),
        *,
        name: str = "objective",
        n_images: Optional[int] = None,
        checks: Tuple[Check, ...] = (),
    ) -> None:
        """Wrap a plain score function `fn(outputs) -> (N,)` (constants it uses are traced).

        Args:
            fn: `fn(outputs) -> (N,)` float32 scores.
            requires: Layer names it reads, plus `"logits"` / `"pixels"` where needed.
            name: Readable description used in reprs and progress bars.
            n_images: Batch size the objective needs, or `None` when any batch works.
            checks: Callables `check(features)` raising when the objective does not fit a model.
        """
        self._setup(lambda outputs, values: fn(outputs), (), ("fn", fn), frozenset(requires), name, n_images, checks)

    def _setup(self, score, values, key, requires, name, n_images, checks) -> None:
        self._score = score
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

    @property
    def trace_key(self) -> tuple:
        """`key` plus the dtypes and ranks of `values`: what a compiled loop is cached by."""
        return (self.key, tuple((s.dtype, s.shape.rank) for s in self.value_specs))

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
        return tf.cast(self._score(outputs, tuple(values)), tf.float32)

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
        first, second, split = self.apply, other.apply, len(self.values)

        def combined(outputs, values):
            return first(outputs, values[:split]) + sign * second(outputs, values[split:])

        return objective(
            score=combined,
            requires=self.requires | other.requires,
            values=self.values + other.values,
            key=(symbol, self.key, other.key),
            name=f"{self.name} {symbol} {other.name}",
            n_images=sizes.pop() if sizes else None,
            checks=self.checks + other.checks,
        )

    def _scaled(self, factor: float, name: str) -> "Objective":
        inner = self.apply

        def scaled(outputs, values):
            return values[0] * inner(outputs, values[1:])

        return objective(
            score=scaled,
            requires=self.requires,
            values=(np.float32(factor),) + self.values,
            key=("*", self.key),
            name=name,
            n_images=self.n_images,
            checks=self.checks,
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
        factor = check_number(factor, "factor")
        return self._scaled(factor, f"{factor:g} * {self.name}")

    __rmul__ = __mul__

    def __truediv__(self, divisor: Any) -> "Objective":
        divisor = check_number(divisor, "divisor")
        if divisor == 0:
            raise ParameterError("Cannot divide an objective by zero. Received: divisor=0")
        return self._scaled(1.0 / divisor, f"{self.name} / {divisor:g}")

    def __repr__(self) -> str:
        return f"Objective({self.name})"


def _as_objective(other: Any, op: str) -> Objective:
    if not isinstance(other, Objective):
        raise ParameterError(
            f"Objectives combine with objectives ({op}) and scale by numbers (*). Received: "
            f"{type(other).__name__} {other!r}"
        )
    return other
