"""Numbers that say whether atlas cells look like Lucid's: on-direction, colourful, not noise.

- `direction_cosines`: feed pictures back through the model; the cosine of each picture's
  (position-averaged) activation at the layer with every direction. A faithful cell scores
  high with its own direction and low with the others'.
- `colorfulness`: Hasler & Süsstrunk's (2003) colourfulness of each picture (grey: 0; their
  "highly colourful" starts near 59 on 0-255 pixels).
- `high_frequency_ratio`: the share of each picture's luminance spectral energy above a
  frequency (pixel noise: most of it; photos and Lucid's renderings: little).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..checks import check_int, check_number
from ..images import as_image_batch

__all__ = ["colorfulness", "direction_cosines", "high_frequency_ratio"]


def colorfulness(images: Any) -> np.ndarray:
    """Hasler-Süsstrunk colourfulness of each image.

    `sqrt(std(rg)^2 + std(yb)^2) + 0.3 sqrt(mean(rg)^2 + mean(yb)^2)` with `rg = R - G` and
    `yb = (R + G) / 2 - B`.

    Args:
        images: `(N, H, W, 3)` or `(H, W, 3)` pixels in `[0, 255]`.

    Returns:
        float64 `(N,)`.

    Raises:
        ImageError: Not RGB images.
    """
    pixels = as_image_batch(images)[0].astype(np.float64)
    rg = pixels[..., 0] - pixels[..., 1]
    yb = 0.5 * (pixels[..., 0] + pixels[..., 1]) - pixels[..., 2]
    spread = np.sqrt(rg.std(axis=(1, 2)) ** 2 + yb.std(axis=(1, 2)) ** 2)
    centre = np.sqrt(rg.mean(axis=(1, 2)) ** 2 + yb.mean(axis=(1, 2)) ** 2)
    return spread + 0.3 * centre


def high_frequency_ratio(images: Any, cutoff: float = 0.25) -> np.ndarray:
    """Share of each image's luminance energy at spatial frequencies above `cutoff`.

    Args:
        images: `(N, H, W, 3)` or `(H, W, 3)` pixels.
        cutoff: Radial frequency in cycles per pixel, in `(0, 0.7)` (0.5 is the Nyquist
            frequency along an axis).

    Returns:
        float64 `(N,)` in `[0, 1]` (0 for a constant image).

    Raises:
        ImageError: Not RGB images.
        ParameterError: `cutoff` out of range.
    """
    cutoff = check_number(cutoff, "cutoff", low=0.0, high=0.7, open_low=True, open_high=True)
    luminance = as_image_batch(images)[0].astype(np.float64).mean(axis=-1)
    luminance = luminance - luminance.mean(axis=(1, 2), keepdims=True)
    energy = np.abs(np.fft.fft2(luminance)) ** 2
    fy = np.fft.fftfreq(luminance.shape[1])[:, None]
    fx = np.fft.fftfreq(luminance.shape[2])[None, :]
    high = np.sqrt(fy**2 + fx**2) > cutoff
    total = energy.sum(axis=(1, 2))
    return np.where(total > 0, energy[:, high].sum(axis=1) / np.maximum(total, 1e-300), 0.0)


def direction_cosines(model: Any, layer: str, images: Any, directions: Any, batch_size: int = 32) -> np.ndarray:
    """Cosine of each image's mean activation at `layer` with each direction.

    Args:
        model: A `Backbone` or Keras model taking pixels.
        layer: The layer (feature map, tokens or vectors).
        images: `(N, H, W, 3)` pixels in `[0, 255]` (any size the model runs at).
        directions: `(K, C)` vectors in the layer's channel space.
        batch_size: Images per forward call.

    Returns:
        float64 `(N, K)`: entry `(i, k)` is `cos(mean activation of image i, direction k)`.

    Raises:
        LayerNotFoundError: Unknown layer.
        ImageError: Not RGB images.
        ParameterError: Directions of the wrong width.
    """
    from ..errors import ParameterError
    from ..features import FeatureModel

    batch_size = check_int(batch_size, "batch_size", low=1)
    pixels = as_image_batch(images)[0]
    directions = np.asarray(directions, np.float64)
    features = FeatureModel(model, [layer], logits=False, input_shape=(None, None, 3))
    pooled = []
    for start in range(0, len(pixels), batch_size):
        maps = np.asarray(features(pixels[start : start + batch_size])[layer], np.float64)
        pooled.append(maps.mean(axis=tuple(range(1, maps.ndim - 1))) if maps.ndim > 2 else maps)
    pooled = np.concatenate(pooled)
    if directions.ndim != 2 or directions.shape[1] != pooled.shape[1]:
        raise ParameterError(
            f"`directions` must be (K, {pooled.shape[1]}) for layer {layer!r}. Received: shape {directions.shape}"
        )
    unit = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    return unit @ (directions / np.maximum(np.linalg.norm(directions, axis=1, keepdims=True), 1e-12)).T
