"""Image parameterizations: what the optimizer changes, and how it becomes a pixel image.

Each parameterization holds `variables` (tf.Variables) and renders them with `image()` to a
float32 batch `(N, H, W, 3)` in `[0, 255]`, differentiably, so it can be called inside a
`tf.GradientTape`. The engine uses the pure methods `render(values)` / `encode(pixels)` /
`project(values)` on tensors (graph-safe, with the variables' values passed in), so one compiled
loop serves every image size.

- `PixelImage`: the pixels themselves (the classic Simonyan / Yosinski setting), kept inside
  `[low, high]` bounds (the valid range, or an L∞ ball for adversarial examples).
- `DecorrelatedImage`: pixels in a decorrelated colour space squashed by a sigmoid (Olah et al.,
  "Feature Visualization", 2017): steps move along ImageNet's principal colour axes, scaled by
  their spread, so optimization does not fight the strong correlation of R, G and B.
- `FourierImage`: the image's 2-D Fourier spectrum, each frequency scaled by `1 / f^decay`
  (Olah et al.'s "fft" parameterization): gradient steps change low frequencies as much as
  high ones, which gives smoother, more natural images; decorrelated colour on top by default.

This module picks one by name (`make_parameterization`); the classes live in
`parameterization_base` (`Parameterization`), `pixel_image` (`PixelImage`) and
`decorrelated_images` (`DecorrelatedImage`, `FourierImage`, `COLOR_CORRELATION_SQRT`).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from ..errors import ParameterError
from .decorrelated_images import DecorrelatedImage, FourierImage
from .parameterization_base import Parameterization
from .pixel_image import PixelImage

__all__ = [
    "make_parameterization",
]

_KINDS = {"pixel": PixelImage, "decorrelated": DecorrelatedImage, "fourier": FourierImage}


def make_parameterization(
    param: Any, *, images: Any = None, shape: Optional[Sequence[int]] = None, seed: Optional[int] = None
) -> Parameterization:
    """A parameterization from a name (`"pixel"`, `"decorrelated"`, `"fourier"`) or an instance.

    Args:
        param: A name or a `Parameterization` (returned as is).
        images: Pixels `(H, W, 3)` / `(N, H, W, 3)` in `[0, 255]` to start from (for a name).
        shape: `(N, H, W)` to start from noise (for a name, when `images` is None).
        seed: Seed of the starting noise.

    Returns:
        A `Parameterization`.

    Raises:
        ParameterError: Unknown name or wrong type.
    """
    if isinstance(param, Parameterization):
        return param
    if isinstance(param, str) and param in _KINDS:
        return _KINDS[param](images, shape=shape, seed=seed)
    raise ParameterError(
        f"`param` must be one of {sorted(_KINDS)} or a Parameterization instance. Received: param={param!r}"
    )
