"""Validated inputs of an attribution call: model, pixel batch, target; per-image bookkeeping.

Re-exported by `core` (which adds the compiled gradient engine), so techniques import both from
`core`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from ..backbones import Backbone, as_backbone
from ..compiled import forward_logits
from ..images import as_image_batch
from ..targets import Target, TargetLike, resolve_target

__all__ = [
    "AttributionInputs",
    "prepare_inputs",
    "scale_to_unit",
    "squeeze",
    "sum_by_image",
    "target_indices",
]


@dataclass
class AttributionInputs:
    """Validated inputs of an attribution call.

    Attributes:
        backbone: The model as a Backbone (pixels in, logits out).
        images: float32 `(N, H, W, 3)` pixels in `[0, 255]`.
        single: A single `(H, W, 3)` image was given (squeeze results back).
        target: The resolved target (class indices `(N,)` or a score function).
    """

    backbone: Backbone
    images: np.ndarray
    single: bool
    target: Target

    def select(self, rows: np.ndarray, images: Optional[np.ndarray] = None) -> "AttributionInputs":
        """The inputs of some rows (e.g. the images behind a batch of noisy copies).

        Args:
            rows: `(M,)` image indices into this batch (repeats allowed).
            images: `(M, H, W, 3)` pixels to use instead of `self.images[rows]`.

        Returns:
            New `AttributionInputs` of `M` images with the matching class indices.
        """
        indices = None if self.target.indices is None else self.target.indices[rows]
        pixels = self.images[rows] if images is None else np.asarray(images, np.float32)
        return AttributionInputs(self.backbone, pixels, False, Target(indices, self.target.fn))

    def target_argument(self) -> Any:
        """The target as a public function takes it: `(N,)` class indices or the callable."""
        return self.target.fn if self.target.fn is not None else self.target.indices


def prepare_inputs(
    model: Any,
    images: Any,
    target: Optional[TargetLike],
    batch_size: int = 32,
    *,
    technique: str = "This technique",
) -> AttributionInputs:
    """Validate model, images and target once at a public boundary.

    A `None` target means each image's predicted (top-1) class.

    Args:
        model: A `Backbone` or a `keras.Model` taking pixels (a final softmax is removed).
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`.
        target: Class index, one index per image, callable `scores(logits) -> (N,)`, or `None`.
        batch_size: Images per forward pass when the predicted class must be found.
        technique: The caller's name, for the message when the model has no classifier.

    Returns:
        The validated `AttributionInputs`.

    Raises:
        ModelError: Not a usable model, a headless model (no class scores), or images of a
            size the classifier cannot take.
        ImageError: Invalid images (rank, channels, empty, NaN, range).
        TargetError: Invalid or out-of-range target.
    """
    backbone = as_backbone(model)
    backbone.require_classifier(technique)
    batch, single = as_image_batch(images)
    backbone.check_size(batch.shape[1:3])
    resolved = resolve_target(target, len(batch), backbone.num_classes, allow_none=True)
    if resolved is None:
        logits = forward_logits(backbone.model, batch, batch_size)
        resolved = Target(indices=logits.argmax(axis=1).astype(np.int32), fn=None)
    return AttributionInputs(backbone, np.ascontiguousarray(batch, np.float32), single, resolved)


def target_indices(inputs: AttributionInputs) -> np.ndarray:
    """Class indices per image (zeros for a callable target, whose function ignores them).

    Args:
        inputs: Validated inputs.

    Returns:
        int32 `(N,)`.
    """
    if inputs.target.indices is None:
        return np.zeros(len(inputs.images), np.int32)
    return inputs.target.indices


def squeeze(array: Any, single: bool) -> Any:
    """Drop the batch axis again when a single image was given.

    Args:
        array: A batch of results `(N, ...)`.
        single: Whether the caller gave one image.

    Returns:
        `array[0]` if `single`, else `array`.
    """
    return array[0] if single else array


def scale_to_unit(maps: np.ndarray) -> np.ndarray:
    """Divide each non-negative map by its maximum; an all-zero (or negative) map becomes zero.

    Args:
        maps: `(N, H, W)` maps.

    Returns:
        float32 `(N, H, W)` in `[0, 1]`.
    """
    peak = maps.reshape(len(maps), -1).max(axis=1).reshape(-1, 1, 1)
    scaled = np.where(peak > 0, maps / np.where(peak > 0, peak, 1.0), 0.0)
    return np.clip(scaled, 0.0, 1.0).astype(np.float32)


def sum_by_image(totals: np.ndarray, image_of: np.ndarray, values: np.ndarray) -> None:
    """Add each row of `values` to `totals[image_of[row]]` (rows of one image are summed first).

    Args:
        totals: `(N, ...)` accumulator, changed in place.
        image_of: `(M,)` image index of each row.
        values: `(M, ...)` rows to add.
    """
    for i in np.unique(image_of):
        totals[i] += values[image_of == i].sum(axis=0)
