"""Public-domain painting styles shipped with kerasviz (`kerasviz/data/styles`, provenance in its
README), for style transfer without any download."""

from __future__ import annotations

import io
from typing import Optional, Tuple, Union

import numpy as np
from PIL import Image

from ..checks import check_choice, check_size
from ..data import PAINTINGS, painting_bytes
from ..images.longer_side import longer_side_shape

__all__ = ["load_painting"]



def load_painting(name: str, size: Optional[Union[int, Tuple[int, int]]] = None) -> np.ndarray:
    """A shipped painting as RGB pixels (longer side 400 px unless resized).

    Args:
        name: One of `PAINTINGS`.
        size: `None` (as shipped), an int for the longer side (aspect kept), or `(height, width)`.

    Returns:
        uint8 `(H, W, 3)` pixels.

    Raises:
        ParameterError: Unknown name or a bad size.
    """
    check_choice(name, "name", PAINTINGS)
    with Image.open(io.BytesIO(painting_bytes(name))) as file:
        image = file.convert("RGB")
    if size is not None:
        if isinstance(size, int) and not isinstance(size, bool):
            height, width = longer_side_shape(image.height, image.width, check_size(size, "size")[0])
            target = (width, height)
        else:
            height, width = check_size(size, "size")
            target = (width, height)
        image = image.resize(target, Image.LANCZOS)
    return np.asarray(image, np.uint8)
