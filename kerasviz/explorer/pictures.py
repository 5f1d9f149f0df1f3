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
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()
