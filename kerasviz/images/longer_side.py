"""The one rule for "resize so the longer side is N": the output shape, aspect kept."""

from __future__ import annotations

from typing import Tuple

from ..checks import check_int

__all__ = ["longer_side_shape"]


def longer_side_shape(height: int, width: int, longer: int, *, min_side: int = 1) -> Tuple[int, int]:
    """The `(height, width)` of an image resized so its longer side is `longer`, aspect kept.

    Args:
        height: The image's height in pixels (>= 1).
        width: The image's width in pixels (>= 1).
        longer: The longer side wanted, in pixels (>= 1).
        min_side: Neither side is made smaller than this (a very wide image stays usable).

    Returns:
        `(height, width)`, each rounded to the nearest pixel.

    Raises:
        ParameterError: A side or `longer` that is not a positive integer.
    """
    height, width = check_int(height, "height", low=1), check_int(width, "width", low=1)
    scale = check_int(longer, "longer", low=1) / max(height, width)
    return max(min_side, round(height * scale)), max(min_side, round(width * scale))
