"""One-pixel translations of images, and attributions shifted back and averaged.

Networks that downsample with strided convolutions (EfficientNet, MobileNet, ResNet stems)
treat even and odd pixels differently, and their pixel gradients carry the stride's period-2
"checkerboard" (Odena et al., 2016). Averaging an attribution over the `s x s` translations
of the image by 0..s-1 pixels, each shifted back, cancels that aliasing: the stride grid
moves relative to the picture while the picture stays put.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

__all__ = ["average_back", "translated_copies"]


def translated_copies(images: np.ndarray, shifts: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every image translated down / right by `(dy, dx)` in `0..shifts-1`, edges repeated.

    Args:
        images: float32 `(N, H, W, 3)` pixels.
        shifts: Translations per axis, `>= 1` (`shifts**2` copies per image).

    Returns:
        `(copies (N * shifts**2, H, W, 3), image_of (N * shifts**2,), offsets (shifts**2, 2))`,
        copies of one image consecutive, in the order of `offsets`.
    """
    n, height, width, _ = images.shape
    offsets = np.array([(dy, dx) for dy in range(shifts) for dx in range(shifts)], np.int32)
    pad = shifts - 1
    padded = np.pad(images, ((0, 0), (pad, 0), (pad, 0), (0, 0)), mode="edge")
    copies = np.stack(
        [padded[:, pad - dy : pad - dy + height, pad - dx : pad - dx + width] for dy, dx in offsets],
        axis=1,
    )
    return copies.reshape(n * len(offsets), height, width, -1), np.repeat(np.arange(n), len(offsets)), offsets


def average_back(attributions: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Shift each copy's attribution back onto the original image and average per image.

    Args:
        attributions: `(N * K, H, W, ...)` attributions of the `K = len(offsets)` copies of each
            image, as `translated_copies` made them.
        offsets: `(K, 2)` translations `(dy, dx)`.

    Returns:
        float32 `(N, H, W, ...)`; pixels a copy pushed off the image get that copy's zeros.
    """
    k = len(offsets)
    grouped = attributions.reshape(-1, k, *attributions.shape[1:])
    height, width = attributions.shape[1:3]
    total = np.zeros((len(grouped),) + attributions.shape[1:], np.float64)
    for j, (dy, dx) in enumerate(offsets):
        total[:, : height - dy, : width - dx] += grouped[:, j, dy:, dx:]
    return (total / k).astype(np.float32)
