"""Pixel regularizers (penalties >= 0, subtracted from what the engine maximizes): total
variation (Mahendran & Vedaldi), L2 and L1 decay (Simonyan et al., Yosinski et al.)."""

from __future__ import annotations

import tensorflow as tf

from ..checks import check_number
from .objective_inputs import PIXELS, per_image_mean
from .objective_type import Objective, objective

__all__ = ["total_variation", "l2", "l1"]


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
    beta = check_number(power, "power", low=0.0, high=4.0, open_low=True)

    def total_variation_score(outputs, values):
        x = outputs[PIXELS] / 255.0
        dx = x[:, :-1, 1:, :] - x[:, :-1, :-1, :]
        dy = x[:, 1:, :-1, :] - x[:, :-1, :-1, :]
        squared = tf.square(dx) + tf.square(dy)
        if beta != 2.0:  # a small floor keeps the gradient finite where the image is flat
            squared = tf.pow(squared + 1e-8, beta / 2.0)
        return per_image_mean(squared)

    return objective(
        score=total_variation_score, requires={PIXELS}, key=("total_variation", beta),
        name=f"total_variation({beta:g})",
    )


def _centred(pixels: tf.Tensor) -> tf.Tensor:
    return pixels / 127.5 - 1.0


def _l2_score(outputs, values):
    return per_image_mean(tf.square(_centred(outputs[PIXELS])))


def _l1_score(outputs, values):
    return per_image_mean(tf.abs(_centred(outputs[PIXELS])))


def l2() -> Objective:
    """L2 pixel decay (a penalty: >= 0): mean squared pixel, on pixels centred to `[-1, 1]`.

    Returns:
        An objective reading `"pixels"`, scores `(N,)`; subtract it to pull pixels towards grey.
    """
    return objective(score=_l2_score, requires={PIXELS}, key=("l2",), name="l2()")


def l1() -> Objective:
    """L1 pixel decay (a penalty: >= 0): mean absolute pixel, on pixels centred to `[-1, 1]`.

    Returns:
        An objective reading `"pixels"`, scores `(N,)`; subtract it for sparse changes from grey.
    """
    return objective(score=_l1_score, requires={PIXELS}, key=("l1",), name="l1()")
