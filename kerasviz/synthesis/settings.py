"""The validated settings of the synthesis engine (`optimize`), as one structure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

import numpy as np
import tensorflow as tf

from ..checks import check_choice, check_int, check_number, check_optional_int, check_size
from ..errors import ParameterError
from .engine import SETTING_NAMES
from .optimizers import Optimizer, as_optimizer
from .transforms import Transforms

__all__ = ["MIN_SIZE", "Settings", "image_size"]

#: Smallest image side the engine optimizes (feature maps of deep layers vanish below it).
MIN_SIZE = 16


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
    """The validated settings of one `optimize` run (see `optimize` for each meaning).

    Structure (`optimizer` class, `grad_mode`, whether transforms / tiles apply, `jit_compile`)
    selects the compiled loop; the numbers go in as tensors (`tensors()`).
    """

    steps: int
    octaves: int
    octave_scale: float
    blur_every: int
    blur_sigma: float
    clip_percentile: float
    contribution_percentile: float
    grad_mode: str
    steps_per_call: int
    optimizer: Optimizer
    transforms: Optional[Transforms]
    tile_size: Optional[int]
    seed: Optional[int]
    jit_compile: bool

    @classmethod
    def validate(cls, *, steps, octaves, octave_scale, blur_every, blur_sigma, clip_percentile,
                 contribution_percentile, normalize_grad, steps_per_call, optimizer, transforms,
                 tile_size, seed, jit_compile) -> "Settings":
        """Check every setting once (the one place `optimize`'s numbers are validated).

        Raises:
            ParameterError: A setting out of range or of the wrong type.
        """
        if transforms is not None and not isinstance(transforms, Transforms):
            raise ParameterError(f"`transforms` must be a Transforms(...) or None. Received: transforms={transforms!r}")
        modes = {True: "mean", False: "none", "sign": "sign"}
        check_choice(normalize_grad, "normalize_grad", [True, False, "sign"])
        return cls(
            steps=check_int(steps, "steps", low=1),
            octaves=check_int(octaves, "octaves", low=1, high=16),
            octave_scale=check_number(octave_scale, "octave_scale", low=1.0, high=8.0, open_low=True),
            blur_every=check_int(blur_every, "blur_every", low=0),
            blur_sigma=check_number(blur_sigma, "blur_sigma", low=0.0, high=50.0, open_low=True),
            clip_percentile=check_number(clip_percentile, "clip_percentile", low=0.0, high=100.0),
            contribution_percentile=check_number(contribution_percentile, "contribution_percentile", low=0.0, high=100.0),
            grad_mode=modes[normalize_grad],
            steps_per_call=check_int(steps_per_call, "steps_per_call", low=1),
            optimizer=as_optimizer(optimizer),
            transforms=transforms,
            tile_size=check_optional_int(tile_size, "tile_size", low=MIN_SIZE),
            seed=check_optional_int(seed, "seed", low=0, high=2**31 - 1),
            jit_compile=bool(jit_compile),
        )

    @property
    def transformed(self) -> bool:
        """Whether random transforms apply each step."""
        return self.transforms is not None and not self.transforms.is_identity

    def tensors(self, step_size: float) -> Dict[str, tf.Tensor]:
        """The per-call numbers, a dict of float32 scalars keyed by `engine.SETTING_NAMES`."""
        ranges = self.transforms.values() if self.transforms is not None else np.array([0, 1, 1, 0], np.float32)
        values = dict(
            step_size=step_size, jitter=ranges[0], scale_low=ranges[1], scale_high=ranges[2], degrees=ranges[3],
            blur_every=self.blur_every, blur_sigma=self.blur_sigma, clip_percentile=self.clip_percentile,
            contribution_percentile=self.contribution_percentile, tile_size=self.tile_size or 0,
        )
        return {name: tf.constant(float(values[name]), tf.float32) for name in SETTING_NAMES}


