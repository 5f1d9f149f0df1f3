"""The update rules of the synthesis engine, as small classes whose numbers are tensor inputs.

Each optimizer turns a (normalized) gradient of the objective into an ascent step inside the
compiled loop. Its constants (momentum, Adam's betas and epsilon) travel as a `(3,)` float32
tensor, so changing them never retraces; only the class (`key`) is structure.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Optional, Tuple

import keras
import numpy as np
import tensorflow as tf

from ..errors import ParameterError

__all__ = ["Optimizer", "GradientAscent", "Adam", "as_optimizer"]


@dataclass(frozen=True)
class Optimizer:
    """Base class: `update(grad, first, second, t, constants) -> (step, first, second)`.

    Attributes:
        learning_rate: The step size it brings (a Keras optimizer's), or `None` to use the
            parameterization's `default_step_size`.
    """

    learning_rate: Optional[float] = None

    @property
    def key(self) -> str:
        """Structure of the update (its class name): part of the compiled loop's cache key."""
        return type(self).__name__

    def constants(self) -> np.ndarray:
        """The update's numbers as float32 `(3,)`, fed to the compiled loop."""
        return np.zeros(3, np.float32)

    def update(
        self, grad: tf.Tensor, first: tf.Tensor, second: tf.Tensor, t: tf.Tensor, constants: tf.Tensor
    ) -> Tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """The ascent direction and the new first / second moments (inside the compiled loop).

        Args:
            grad: Gradient of the objective, variable-shaped.
            first: First moment (momentum, Adam's m).
            second: Second moment (Adam's v).
            t: int32 step index (0 for the first step).
            constants: The `(3,)` tensor from `constants()`.

        Returns:
            `(step, first, second)`; the engine adds `step_size * step` to the variable.
        """
        raise NotImplementedError


@dataclass(frozen=True)
class GradientAscent(Optimizer):
    """Gradient ascent with optional heavy-ball momentum (`momentum=0`: plain steps)."""

    momentum: float = 0.0

    def constants(self) -> np.ndarray:
        """`(momentum, 0, 0)`."""
        return np.array([self.momentum, 0.0, 0.0], np.float32)

    def update(self, grad, first, second, t, constants):
        """`first = momentum * first + grad`; the step is `first`."""
        first = constants[0] * first + grad
        return first, first, second


@dataclass(frozen=True)
class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction."""

    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7

    def constants(self) -> np.ndarray:
        """`(beta_1, beta_2, epsilon)`."""
        return np.array([self.beta_1, self.beta_2, self.epsilon], np.float32)

    def update(self, grad, first, second, t, constants):
        """Adam's bias-corrected `m / (sqrt(v) + epsilon)`."""
        b1, b2, eps = constants[0], constants[1], constants[2]
        first = b1 * first + (1.0 - b1) * grad
        second = b2 * second + (1.0 - b2) * tf.square(grad)
        count = tf.cast(t + 1, tf.float32)
        step = (first / (1.0 - tf.pow(b1, count))) / (tf.sqrt(second / (1.0 - tf.pow(b2, count))) + eps)
        return step, first, second


def as_optimizer(optimizer: Any) -> Optimizer:
    """The engine optimizer for `None` / `"sgd"`, `"adam"`, an `Optimizer`, or a Keras Adam / SGD.

    Args:
        optimizer: `None` or `"sgd"` (gradient ascent), `"adam"`, an `Optimizer` instance, or a
            `keras.optimizers.Adam` (without amsgrad) / `SGD` (without nesterov), whose
            hyper-parameters are copied (its own variables are not touched).

    Returns:
        An `Optimizer`.

    Raises:
        ParameterError: Anything else.
    """
    if isinstance(optimizer, Optimizer):
        return optimizer
    if optimizer is None or optimizer == "sgd":
        return GradientAscent()
    if optimizer == "adam":
        return Adam()
    if isinstance(optimizer, keras.optimizers.Optimizer):
        config = optimizer.get_config()
        rate = config.get("learning_rate")
        rate = float(rate) if isinstance(rate, numbers.Real) else None
        if isinstance(optimizer, keras.optimizers.Adam) and not config.get("amsgrad"):
            return Adam(rate, float(config["beta_1"]), float(config["beta_2"]), float(config["epsilon"]))
        if isinstance(optimizer, keras.optimizers.SGD) and not config.get("nesterov"):
            return GradientAscent(rate, float(config["momentum"]))
    raise ParameterError(
        "`optimizer` must be None (normalized gradient ascent), 'sgd', 'adam', a kerasviz "
        "Optimizer, or a keras.optimizers.Adam (without amsgrad) / SGD (without nesterov) instance, "
        f"whose hyper-parameters the compiled loop uses. Received: optimizer={optimizer!r}"
    )
