"""The shared start of LIME and Kernel SHAP: one image, its segments, its baseline, its class."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from ..checks import check_int
from ..errors import ImageError
from ..images import as_image_batch
from .baselines import resolve_baseline
from .compiled_masking import segment_scores
from .predictors import Predictor, as_predictor
from .queries import query_scores, top_classes
from .segments import check_segments, default_segments, hide_segments

__all__ = ["SegmentProblem", "prepare_segment_problem"]


@dataclass
class SegmentProblem:
    """One image explained segment by segment.

    Attributes:
        predictor: The checked predictor.
        image: float32 `(H, W, 3)`.
        fill: float32 `(H, W, 3)` baseline shown where a segment is hidden.
        segments: int32 `(H, W)` labels 0..M-1.
        count: M.
        target: The class explained.
    """

    predictor: Predictor
    image: np.ndarray
    fill: np.ndarray
    segments: np.ndarray
    count: int
    target: int

    def scores(self, rows: np.ndarray, batch_size: int, desc: str, progress: Optional[bool]) -> np.ndarray:
        """The target probability of the image with each row's hidden segments replaced.

        An in-process model builds the images from the rows on the graph (one compiled call per
        batch); any other predictor gets NumPy images.

        Args:
            rows: `(S, M)` 0 / 1, 1 = segment kept.
            batch_size: Images per predictor call.
            desc: Progress label.
            progress: Show a bar (None: global setting).

        Returns:
            float64 `(S,)`.
        """

        model = self.predictor.keras_model
        if model is not None:
            return segment_scores(
                model, rows, self.segments, self.image, self.fill, self.target, batch_size,
                desc=desc, describe=self.predictor.describe, progress=progress,
            )

        def make_batch(part: slice) -> np.ndarray:
            return hide_segments(self.image, self.fill, rows[part], self.segments)

        return query_scores(self.predictor, make_batch, len(rows), [self.target], batch_size, desc=desc, progress=progress)[:, 0]


def prepare_segment_problem(predictor: Any, image: Any, target: Any, segments: Any, baseline: Any, seed: int) -> SegmentProblem:
    """Validate the arguments of `lime` / `kernel_shap`.

    Args:
        predictor: See `as_predictor`.
        image: `(H, W, 3)` (or `(1, H, W, 3)`) pixels in [0, 255].
        target: Class index or None (the top class).
        segments: `(H, W)` integer labels, or None for LIME's quickshift superpixels.
        baseline: See `resolve_baseline`.
        seed: Random seed, >= 0.

    Returns:
        The `SegmentProblem`.

    Raises:
        ImageError, ParameterError, TargetError, PredictorError: bad arguments or predictor.
    """
    check_int(seed, "seed", low=0)
    batch, _ = as_image_batch(image, name="image")
    if len(batch) != 1:
        raise ImageError(f"`image` must be one image (H, W, 3); explain several one at a time. Received: {len(batch)} images")
    model = as_predictor(predictor)
    model.check_images(batch)
    pixels = np.ascontiguousarray(batch[0], np.float32)
    if segments is None:
        labels = default_segments(pixels, seed)
        count = int(labels.max()) + 1
    else:
        labels, count = check_segments(segments, pixels.shape[:2])
    fill = resolve_baseline(baseline, pixels, labels)
    classes = top_classes(model, batch, None if target is None else [target] if np.ndim(target) == 0 else target)
    return SegmentProblem(model, pixels, fill, labels, count, int(classes[0]))
