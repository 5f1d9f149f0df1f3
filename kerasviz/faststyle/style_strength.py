"""How much a stylized picture looks like its painting: Gram distances through `vgg16_hed`.

`style_distance(images, painting)` is the relative Frobenius distance between the Gram matrices
(divided by the number of positions) of each image and of the painting, averaged over
`vgg16_hed`'s `block1_conv2`, `block2_conv2`, `block3_conv3` and `block4_conv3`, every picture
center-cropped to a square and resized to 256². `style_strength(stylized, photos, paintings,
styles)` divides each output's distance to its own painting by its photo's (1: no closer than the
photo, 0: the painting's Grams exactly) and says which painting each output is nearest to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import tensorflow as tf

from ..checks import check_int
from ..compiled import cached
from ..errors import ParameterError
from ..features import FeatureModel
from ..images import as_image_batch
from ..synthesis.style_losses import gram_matrix

__all__ = ["STRENGTH_LAYERS", "StyleStrength", "style_distance", "style_strength"]

#: The `vgg16_hed` layers whose Grams the measure compares (Johnson et al.'s style layers).
STRENGTH_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3")
_SIZE = 256


@dataclass(frozen=True)
class StyleStrength:
    """What `style_strength` measures, one entry per stylized image.

    Attributes:
        strength: float64 `(N,)` distance to its own painting / the photo's distance to it.
        distances: float64 `(N, P)` distance of each output to each painting.
        photo_distances: float64 `(N,)` distance of each photo to the output's painting.
        nearest: int `(N,)` index of the painting each output is nearest to.
        own: int `(N,)` the painting each output was made for.
    """

    strength: np.ndarray
    distances: np.ndarray
    photo_distances: np.ndarray
    nearest: np.ndarray
    own: np.ndarray

    @property
    def nearest_own(self) -> np.ndarray:
        """bool `(N,)`: whether each output is nearest its own painting."""
        return self.nearest == self.own


def _square(images: np.ndarray) -> tf.Tensor:
    """Center-crop each image to a square and resize it to 256²."""
    height, width = images.shape[1:3]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    crop = images[:, top : top + side, left : left + side]
    return tf.image.resize(crop, (_SIZE, _SIZE), antialias=True)


def _gram_function() -> Any:
    from ..backbones import load_backbone

    def build():
        features = FeatureModel(load_backbone("vgg16_hed"), list(STRENGTH_LAYERS), logits=False,
                                input_shape=(_SIZE, _SIZE, 3))

        @tf.function(input_signature=[tf.TensorSpec((None, _SIZE, _SIZE, 3), tf.float32)])
        def grams(pixels):
            outputs = features(pixels)
            return [gram_matrix(outputs[name]) for name in STRENGTH_LAYERS]

        return grams

    return cached(_gram_function, "vgg16_hed_strength_grams", build)


def _grams(images: Any, name: str) -> list:
    batch, _ = as_image_batch(images, name=name)
    grams = _gram_function()
    parts = [grams(_square(batch[i : i + 8])) for i in range(0, len(batch), 8)]
    return [np.concatenate([p[layer].numpy() for p in parts]).astype(np.float64) for layer in range(len(STRENGTH_LAYERS))]


def _distances(grams: list, targets: list) -> np.ndarray:
    """`(N, P)` mean over layers of ||G - T|| / ||T||."""
    per_layer = [np.linalg.norm(g[:, None] - t[None], axis=(2, 3)) / np.linalg.norm(t, axis=(1, 2))[None]
                 for g, t in zip(grams, targets)]
    return np.mean(per_layer, axis=0)


def style_distance(images: Any, painting: Any) -> np.ndarray:
    """Relative Gram distance of each image to a painting (0: the painting's Grams).

    Args:
        images: `(N, H, W, 3)` or `(H, W, 3)` pixels in [0, 255], any size >= 32.
        painting: `(h, w, 3)` pixels in [0, 255].

    Returns:
        float64 `(N,)`: mean over `STRENGTH_LAYERS` of `||G(image) - G(painting)||_F / ||G(painting)||_F`.

    Raises:
        ImageError: An image or the painting is invalid.
    """
    return _distances(_grams(images, "images"), _grams(painting, "painting"))[:, 0]


def style_strength(stylized: Any, photos: Any, paintings: Sequence[Any], styles: Any) -> StyleStrength:
    """Each output's Gram distance to its painting relative to its photo's, and its nearest painting.

    Args:
        stylized: `(N, H, W, 3)` outputs in [0, 255].
        photos: `(N, H, W, 3)` the photos they were made from, in [0, 255].
        paintings: P style images `(h, w, 3)` in [0, 255], any sizes.
        styles: int `(N,)` (or one int for all) index of each output's painting in `paintings`.

    Returns:
        A `StyleStrength` (`strength` <= 0.4 is a strongly stylized output; `nearest_own`).

    Raises:
        ImageError: Invalid images.
        ParameterError: Different numbers of outputs and photos, no paintings, or a style index
            out of range.
    """
    stylized, _ = as_image_batch(stylized, name="stylized")
    photos, _ = as_image_batch(photos, name="photos")
    count = len(stylized)
    if len(photos) != count:
        raise ParameterError(f"Give one photo per stylized image. Received: {count} stylized, {len(photos)} photos")
    if isinstance(paintings, np.ndarray) and paintings.ndim == 3:
        paintings = [paintings]
    if len(paintings) == 0:
        raise ParameterError("Give at least one painting. Received: paintings=[]")
    own = np.broadcast_to(np.asarray(styles), (count,)).astype(np.int64)
    for index in own:
        check_int(int(index), "styles", low=0, high=len(paintings) - 1)
    out, photo = _grams(stylized, "stylized"), _grams(photos, "photos")
    painted = [_grams(p, f"paintings[{i}]") for i, p in enumerate(paintings)]
    targets = [np.concatenate([p[layer] for p in painted]) for layer in range(len(STRENGTH_LAYERS))]
    distances = _distances(out, targets)
    photo_distances = _distances(photo, targets)[np.arange(count), own]
    return StyleStrength(strength=distances[np.arange(count), own] / photo_distances, distances=distances,
                         photo_distances=photo_distances, nearest=distances.argmin(axis=1), own=own)
