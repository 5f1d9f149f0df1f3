"""Arrays to PNG bytes for HTTP answers."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image

__all__ = ["png_bytes"]


def png_bytes(image: Any) -> bytes:
    """Encode a picture as PNG.

    Args:
        image: uint8 or float `[0, 255]` pixels, `(H, W, 3)` or `(H, W)`.

    Returns:
        The PNG file's bytes.
    """
    array = np.clip(np.asarray(image, dtype=np.float32), 0, 255).round().astype(np.uint8)
    buffer = io.BytesIO()
    # level 1: a 224 x 224 overlay encodes in ~9 ms instead of ~35 ms at the default 6
    Image.fromarray(array).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
