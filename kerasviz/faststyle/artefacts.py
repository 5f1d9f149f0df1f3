"""An artefact measure for stylized images: compact blobs in the output that the content lacks.

Feed-forward style networks trained on too little content learn "blobs": small dark or bright
spots, often at fixed positions, that appear in every output whatever the photo. They are local
extremes of the output's luminance (far from the median of their neighbourhood), compact (not
brush strokes or lines) and sit where the content photo is smooth (so they are not an edge of the
photo the network repaints). `blob_artefact_score` measures them:

1. Per colour channel, the deviation of the output from its local median
   `D_c = out_c - median_w(out_c)` (`w × w` window); `D` keeps, per pixel, the channel of
   largest magnitude (a dark-red blob on orange is a large red-channel extreme),
   at several scales (the image downsampled 1×, 2×, 4× by area averaging) so blobs from a few
   pixels to about a quarter of the image are found.
2. Candidate pixels: `|D| > threshold` where the content is smooth (its own largest channel
   deviation from its local median, and its largest channel standard deviation over a
   `w/2` window, both below `content_threshold`).
3. Connected regions of candidates (dark and bright separately) count as blobs when they are
   at least `min_area` pixels and compact: they fill at least `min_fill` of their bounding box
   and their box is at most `max_aspect` times longer than wide.
4. Score: the blobs' total area in per mille (‰) of the image.

A photo compared with itself scores 0; the sizes are in pixels and tuned for images of about
200–300 px (the measure is meant to be computed at one fixed size, e.g. 256 px).
"""

from __future__ import annotations

from typing import Any, Dict, Sequence, Union

import numpy as np
from scipy import ndimage

from ..checks import check_int, check_number
from ..errors import ImageError
from ..images import as_image_batch

__all__ = ["blob_artefact_score", "blob_artefact_mask"]

def _downsample(image: np.ndarray, factor: int) -> np.ndarray:
    if factor == 1:
        return image
    height, width = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
    blocks = image[:height, :width].reshape(height // factor, factor, width // factor, factor, -1)
    return blocks.mean(axis=(1, 3))


def _upsample(mask: np.ndarray, factor: int, shape) -> np.ndarray:
    full = np.zeros(shape, bool)
    big = np.repeat(np.repeat(mask, factor, axis=0), factor, axis=1)
    full[: big.shape[0], : big.shape[1]] = big
    return full


def _deviation(image: np.ndarray, window: int) -> np.ndarray:
    """Per channel `(h, w, c)`: pixel minus its local median, keeping the channel of largest magnitude."""
    channels = np.stack([image[..., c] - ndimage.median_filter(image[..., c], size=window, mode="reflect")
                         for c in range(image.shape[-1])], axis=-1)
    strongest = np.abs(channels).argmax(axis=-1)[..., None]
    return np.take_along_axis(channels, strongest, axis=-1)[..., 0]


def _blobs_at_scale(out: np.ndarray, ref: np.ndarray, options: Dict[str, Any]) -> np.ndarray:
    """Blob pixels of one `(h, w, 3)` output / content pair at one (already downsampled) scale."""
    window = options["window"]
    deviation = _deviation(out, window)
    ref_dev = np.abs(_deviation(ref, window))
    half = window // 2 + 1
    mean = ndimage.uniform_filter(ref, size=(half, half, 1), mode="reflect")
    var = ndimage.uniform_filter(ref * ref, size=(half, half, 1), mode="reflect") - mean * mean
    std = np.sqrt(np.maximum(var, 0.0)).max(axis=-1)
    smooth = (ref_dev < options["content_threshold"]) & (std < options["content_threshold"])
    mask = np.zeros(out.shape[:2], bool)
    for candidates in (deviation > options["threshold"], deviation < -options["threshold"]):
        labels, count = ndimage.label(candidates & smooth)
        if count == 0:
            continue
        areas = ndimage.sum_labels(np.ones_like(labels), labels, index=np.arange(1, count + 1))
        for index, box in enumerate(ndimage.find_objects(labels)):
            height, width = box[0].stop - box[0].start, box[1].stop - box[1].start
            area = areas[index]
            compact = area / (height * width) >= options["min_fill"] and max(height, width) <= options["max_aspect"] * min(height, width)
            if area >= options["min_area"] and compact:
                mask[box] |= labels[box] == index + 1
    return mask


def blob_artefact_mask(
    stylized: Any,
    content: Any,
    *,
    window: int = 15,
    scales: Sequence[int] = (1, 2, 4),
    threshold: float = 45.0,
    content_threshold: float = 20.0,
    min_area: int = 6,
    min_fill: float = 0.45,
    max_aspect: float = 3.0,
) -> np.ndarray:
    """The pixels of compact output blobs that the content does not have (see the module doc).

    Args:
        stylized: Network output(s) `(H, W, 3)` or `(N, H, W, 3)`, pixels in `[0, 255]`.
        content: The content image(s) the outputs were made from, same shape.
        window: Side of the median window in pixels of each scale, odd, >= 3.
        scales: Downsampling factors (area averages) the blobs are searched at; a blob of
            about `window · s / 2` pixels is found at scale `s`. Each >= 1.
        threshold: Channel deviation from the local median that makes a candidate, `(0, 255]`.
        content_threshold: The content counts as smooth where its deviation from its local
            median and its local standard deviation are both below this, `(0, 255]`.
        min_area: Smallest blob in pixels of its scale, >= 1.
        min_fill: Smallest fraction of its bounding box a blob fills, `(0, 1]`.
        max_aspect: Largest ratio of the box's long to short side, >= 1.

    Returns:
        bool `(H, W)` or `(N, H, W)`: the blob pixels (the union over scales).

    Raises:
        ImageError: Invalid images or shapes that differ.
        ParameterError: A setting out of range.
    """
    window = check_int(window, "window", low=3, high=1001)
    options = dict(
        window=window + 1 - window % 2,
        threshold=check_number(threshold, "threshold", low=1e-6, high=255.0),
        content_threshold=check_number(content_threshold, "content_threshold", low=1e-6, high=255.0),
        min_area=check_int(min_area, "min_area", low=1, high=1 << 30),
        min_fill=check_number(min_fill, "min_fill", low=1e-6, high=1.0),
        max_aspect=check_number(max_aspect, "max_aspect", low=1.0, high=1e6),
    )
    if isinstance(scales, (int, np.integer)):
        scales = [scales]
    scales = [check_int(s, "scales", low=1, high=1 << 10) for s in scales]
    out, single = as_image_batch(stylized, name="stylized")
    ref, _ = as_image_batch(content, name="content")
    if out.shape != ref.shape:
        raise ImageError(
            "`stylized` and `content` must have the same shape (one output per content image). "
            f"Received: stylized with shape {out.shape}, content with shape {ref.shape}"
        )
    masks = np.zeros(out.shape[:3], bool)
    for n in range(len(out)):
        for factor in scales:
            if min(out.shape[1:3]) // factor < options["window"]:
                continue
            found = _blobs_at_scale(_downsample(out[n], factor), _downsample(ref[n], factor), options)
            masks[n] |= _upsample(found, factor, out.shape[1:3])
    return masks[0] if single else masks


def blob_artefact_score(stylized: Any, content: Any, **settings: Any) -> Union[float, np.ndarray]:
    """Area of compact output blobs absent from the content, in per mille (‰) of the image.

    Args:
        stylized: Network output(s) `(H, W, 3)` or `(N, H, W, 3)`, pixels in `[0, 255]`.
        content: The content image(s) the outputs were made from, same shape.
        **settings: Keyword settings of `blob_artefact_mask` (`window`, `threshold`,
            `scales`, `content_threshold`, `min_area`, `min_fill`, `max_aspect`).

    Returns:
        A float in `[0, 1000]` for one image, or float `(N,)` for a batch; 0 means no blob.

    Raises:
        ImageError: Invalid images or shapes that differ.
        ParameterError: A setting out of range.
    """
    masks = blob_artefact_mask(stylized, content, **settings)
    scores = 1000.0 * masks.reshape(masks.shape[0] if masks.ndim == 3 else 1, -1).mean(axis=1)
    return float(scores[0]) if masks.ndim == 2 else scores
