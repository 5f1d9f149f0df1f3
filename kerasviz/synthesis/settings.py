"""The settings of one synthesis-engine run (`optimize`), as one structure of option records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Tuple

import tensorflow as tf

from ..checks import check_int, check_size
from ..errors import ParameterError
from .ascent_options import MIN_SIZE, Ascent, Execution, Regularization
from .engine import SETTING_NAMES
from .keywords import check_record

__all__ = ["Settings", "image_size"]


def image_size(size: Any, name: str = "size") -> Tuple[int, int]:
    """Validate an image size: an int `s` (square) or `(height, width)`, each at least `MIN_SIZE`.

    Args:
        size: The size.
        name: Argument name for messages.

    Returns:
        `(height, width)`.

    Raises:
        ParameterError: Not a positive integer pair, or smaller than `MIN_SIZE`.
    """
    height, width = check_size(size, name)
    if min(height, width) < MIN_SIZE:
        raise ParameterError(
            f"`{name}` must be an integer or (height, width), each at least {MIN_SIZE} pixels. Received: {name}={size!r}"
        )
    return height, width


@dataclass(frozen=True)
class Settings:
    """The settings of one `optimize` run: its step counts and its three option records.

    Structure (the optimizer's class, `grad_mode`, whether transforms / tiles apply, XLA)
    selects the compiled loop; the numbers go in as tensors (`tensors()`).
    """

    steps: int
    octaves: int
    steps_per_call: int
    ascent: Ascent
    regularization: Regularization
    execution: Execution

    @classmethod
    def validate(cls, *, steps: Any, octaves: Any, steps_per_call: Any, ascent: Any, regularization: Any,
                 execution: Any) -> "Settings":
        """Check the counts; the records checked their own fields when they were made.

        Raises:
            ParameterError: A count out of range, or a record of the wrong type.
        """
        return cls(
            steps=check_int(steps, "steps", low=1),
            octaves=check_int(octaves, "octaves", low=1, high=16),
            steps_per_call=check_int(steps_per_call, "steps_per_call", low=1),
            ascent=check_record(ascent, Ascent, "ascent"),
            regularization=check_record(regularization, Regularization, "regularization"),
            execution=check_record(execution, Execution, "execution"),
        )

    def tensors(self, step_size: float) -> Dict[str, tf.Tensor]:
        """The per-call numbers, a dict of float32 scalars keyed by `engine.SETTING_NAMES`."""
        ranges = self.regularization.transform_values()
        regular = self.regularization
        values = dict(
            step_size=step_size, jitter=ranges[0], scale_low=ranges[1], scale_high=ranges[2], degrees=ranges[3],
            blur_every=regular.blur_every, blur_sigma=regular.blur_sigma, clip_percentile=regular.clip_percentile,
            contribution_percentile=regular.contribution_percentile, tile_size=self.ascent.tile_size or 0,
        )
        return {name: tf.constant(float(values[name]), tf.float32) for name in SETTING_NAMES}
