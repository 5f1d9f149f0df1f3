"""Shared input checks and the batched, compiled scoring engine of every metric.

Quantus 0.6.0 treats an image as `C * H * W` features laid out channel first and broadcasts a map
`(H, W)` over the channels; kerasviz does the same (`to_features` / `from_features`) so that
"the first k features" names the same pixels in both. Every perturbed copy is scored through
the model's one cached compiled forward pass (`kerasviz.compiled.forward_logits`; streams of 256
copies or more on the model converted to LiteRT, `kerasviz.litert_forward`), many copies per
call, built chunk by chunk so memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..backbones import Backbone, as_backbone
from ..compiled import batch_slices, forward_logits
from ..errors import ImageError, ModelError, ParameterError
from ..images import as_image_batch, resize_map
from ..litert_forward import chunk_size, forward_engine
from ..progress import muted_progress, progress_bar
from .memo import digest, identity, remembered

__all__ = [
    "MetricInputs",
    "check_maps",
    "check_method",
    "check_masks",
    "explain",
    "from_features",
    "model_inputs",
    "normalise_by_max",
    "predict",
    "prepare_maps",
    "prepared_inputs",
    "resolve_targets",
    "score_copies",
    "to_features",
]


def check_maps(maps: Any, name: str = "maps") -> np.ndarray:
    """Maps as float64 `(N, H, W)`, finite.

    Args:
        maps: `(N, H, W)` attribution maps (or `(H, W)` for one image).
        name: Argument name for messages.

    Returns:
        float64 `(N, H, W)`.

    Raises:
        ImageError: Not numeric, wrong rank, empty, or NaN / inf values.
    """
    array = np.asarray(getattr(maps, "attributions", maps))
    if array.dtype.kind not in "biuf" or array.ndim not in (2, 3) or 0 in array.shape:
        raise ImageError(
            f"`{name}` must be numeric attribution maps (N, H, W) (one map per image; sum "
            f"per-colour attributions over colours first). Received: {name} with shape "
            f"{array.shape} and dtype {array.dtype}"
        )
    array = array[None] if array.ndim == 2 else array
    if not np.all(np.isfinite(array)):
        bad = int(np.argmax(~np.isfinite(array).reshape(len(array), -1).all(axis=1)))
        raise ImageError(
            f"`{name}` holds NaN or inf values; fix the attribution method or drop the image. "
            f"Received: non-finite values in map {bad}"
        )
    return array.astype(np.float64)


def check_masks(masks: Any, shape: tuple[int, ...], metric: str) -> np.ndarray:
    """Ground-truth masks as bool `(N, H, W)` matching the maps.

    Args:
        masks: `(N, H, W)` masks (bool or 0 / 1), or `None`.
        shape: The maps' shape `(N, H, W)`.
        metric: Metric name for messages.

    Returns:
        bool `(N, H, W)`.

    Raises:
        ParameterError: Missing masks or a shape that does not match the maps.
    """
    if masks is None:
        raise ParameterError(
            f"{metric} is a localisation metric: pass ground-truth masks=(N, H, W), one per map. "
            "Received: masks=None"
        )
    array = np.asarray(masks)
    if array.ndim == 2:
        array = array[None]
    if array.shape != tuple(shape) or array.dtype.kind not in "biuf":
        raise ParameterError(
            f"`masks` must be numeric (N, H, W) masks shaped like the maps {tuple(shape)}. "
            f"Received: masks with shape {array.shape} and dtype {array.dtype}"
        )
    return array.astype(bool)


def normalise_by_max(maps: np.ndarray) -> np.ndarray:
    """Divide each map by its largest absolute value (all-zero maps stay zero).

    Quantus' `normalise_by_max` divides by the maximum over the whole batch it is given; kerasviz
    normalises each image on its own, which is Quantus with `batch_size=1` and keeps one
    image's score independent of the others.

    Args:
        maps: `(N, ...)` float maps.

    Returns:
        Maps of the same shape in `[-1, 1]`.
    """
    flat = maps.reshape(len(maps), -1)
    peak = np.abs(flat).max(axis=1)
    peak = np.where(peak > 0, peak, 1.0)
    return (flat / peak[:, None]).reshape(maps.shape)


def prepare_maps(maps: np.ndarray, *, abs: bool, normalise: bool) -> np.ndarray:
    """Quantus' preprocessing of explanations: normalise (per image), then absolute value.

    Args:
        maps: float64 `(N, H, W)`.
        abs: Take absolute values.
        normalise: Divide each map by its largest absolute value.

    Returns:
        Preprocessed copy.
    """
    result = normalise_by_max(maps) if normalise else maps.copy()
    return np.abs(result) if abs else result


class MetricInputs:
    """A validated model, images `(N, H, W, 3)` float32, maps and targets `(N,)`.

    Attributes:
        backbone: The model as a `Backbone` (logits out, pixels in).
        images: float32 `(N, H, W, 3)`.
        maps: float64 `(N, H, W)`.
        targets: int64 `(N,)` class per image.
    """

    def __init__(self, backbone: Backbone, images: np.ndarray, maps: np.ndarray, targets: np.ndarray):
        self.backbone = backbone
        self.images = images
        self.maps = maps
        self.targets = targets


def model_inputs(metric: str, maps: Any, model: Any, images: Any, targets: Any) -> MetricInputs:
    """Validate what a model-based metric needs; `targets=None` means each predicted class.

    Args:
        metric: Metric name for messages.
        maps: `(N, H, W)` maps.
        model: A `Backbone` or Keras model taking pixels in `[0, 255]`.
        images: `(N, H, W, 3)` pixels.
        targets: Class index, `(N,)` indices, or `None`.

    Returns:
        `MetricInputs`.

    Raises:
        ModelError: No model, or images that do not fit it.
        ImageError: Bad images or maps, or maps not shaped like the images.
        TargetError: Bad targets.
    """
    if model is None or images is None:
        missing = "model" if model is None else "images"
        raise ModelError(
            f"{metric} perturbs images and asks the model again: pass model= and images= "
            f"(N, H, W, 3). Received: {missing}=None"
        )
    backbone = as_backbone(model)
    batch, _ = as_image_batch(images)
    backbone.check_size(batch.shape[1:3])
    heat = check_maps(maps)
    if heat.shape != batch.shape[:3]:
        raise ImageError(
            f"Give one map per image, at the images' size {batch.shape[:3]}. Received: maps "
            f"with shape {heat.shape}"
        )
    return MetricInputs(backbone, np.ascontiguousarray(batch, np.float32), heat,
                        resolve_targets(backbone, batch, targets))


def prepared_inputs(
    metric: str, maps: Any, model: Any, images: Any, targets: Any, *, abs: bool, normalise: bool
) -> MetricInputs:
    """`model_inputs` with the maps preprocessed as Quantus does (`prepare_maps`).

    Args:
        metric, maps, model, images, targets: As `model_inputs`.
        abs: Absolute maps.
        normalise: Divide each map by its largest absolute value first.

    Returns:
        `MetricInputs` whose `maps` are preprocessed.

    Raises:
        ModelError, ImageError, TargetError: As `model_inputs`.
    """
    inputs = model_inputs(metric, maps, model, images, targets)
    inputs.maps = prepare_maps(inputs.maps, abs=abs, normalise=normalise)
    return inputs


def resolve_targets(backbone: Backbone, batch: np.ndarray, targets: Any) -> np.ndarray:
    """Class indices `(N,)`: the given ones (validated) or each image's predicted class."""
    from ..errors import TargetError

    if targets is None:
        return forward_logits(backbone.model, batch).argmax(axis=1).astype(np.int64)
    array = np.asarray(targets)
    if array.ndim == 0:
        array = np.full(len(batch), array)
    classes = backbone.num_classes
    if array.dtype.kind not in "iu" or array.shape != (len(batch),) or array.min() < 0 or (
        array.max() >= classes
    ):
        raise TargetError(
            f"`targets` must be a class index or one per image ({len(batch)}), in 0..{classes - 1}."
            f" Received: targets={np.asarray(targets).tolist()!r:.80}"
        )
    return array.astype(np.int64)


def to_features(images: np.ndarray) -> np.ndarray:
    """Images `(N, H, W, C)` as Quantus' flat channel-first features `(N, C*H*W)`."""
    return np.ascontiguousarray(images.transpose(0, 3, 1, 2)).reshape(len(images), -1)


def from_features(flat: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Flat channel-first features `(M, C*H*W)` back to images `(M, H, W, C)` (`shape` = H, W, C)."""
    height, width, channels = shape
    return flat.reshape(len(flat), channels, height, width).transpose(0, 2, 3, 1)


def predict(
    backbone: Backbone, images: np.ndarray, *, softmax: bool, batch_size: int = 64,
    engine: str | None = None,
) -> np.ndarray:
    """Model outputs `(N, C)` float64: logits, or softmax probabilities.

    Args:
        backbone: The model.
        images: float32 `(N, H, W, 3)`.
        softmax: Apply a softmax to the logits.
        batch_size: Images per compiled call.
        engine: `"tensorflow"` / `"litert"`; `None`: `forward_engine(len(images))`.

    Returns:
        float64 `(N, C)`.
    """
    engine = forward_engine(len(images)) if engine is None else engine
    logits = forward_logits(backbone.model, np.asarray(images, np.float32), batch_size,
                            engine=engine)
    values = logits.astype(np.float64)
    if softmax:
        values = np.exp(values - values.max(axis=1, keepdims=True))
        values /= values.sum(axis=1, keepdims=True)
    return values


def score_copies(
    backbone: Backbone,
    total: int,
    build: Callable[[slice], tuple[np.ndarray, np.ndarray]],
    *,
    softmax: bool,
    batch_size: int,
    progress: bool | None,
    desc: str,
    argmax: bool = False,
) -> np.ndarray:
    """Score a stream of `total` perturbed copies, `batch_size` per compiled call.

    Args:
        backbone: The model.
        total: Number of copies.
        build: `build(rows) -> (copies (m, H, W, 3) float32, classes (m,))` for a slice of the
            stream; called once per chunk, so at most `batch_size` copies live at a time.
        softmax: Score with probabilities instead of logits.
        batch_size: Copies per compiled call (a LiteRT stream builds at most
            `kerasviz.litert_forward.CHUNK_BYTES` of copies at a time).
        progress: Progress bar on / off / `None` for the global setting.
        desc: Progress bar label.
        argmax: Return each copy's predicted class instead of the class score.

    Returns:
        `(total,)` float64 scores (or int64 predicted classes).
    """
    values = np.empty(total, np.int64 if argmax else np.float64)
    engine = forward_engine(total)  # the whole stream runs on one engine
    chunk = chunk_size(engine, batch_size, tuple(backbone.model.inputs[0].shape[1:]))
    with progress_bar(total=total, desc=desc, progress=progress, unit="img") as bar:
        for rows in batch_slices(total, chunk):
            copies, classes = build(rows)
            outputs = predict(backbone, copies, softmax=softmax, batch_size=batch_size,
                              engine=engine)
            if argmax:
                values[rows] = outputs.argmax(axis=1)
            else:
                values[rows] = outputs[np.arange(len(outputs)), classes]
            bar.update(rows.stop - rows.start)
    return values


def check_method(method: Any, metric: str) -> None:
    """Fail clearly when a metric that re-explains images got no method.

    Args:
        method: `fn(model, images, targets) -> maps`, or anything else.
        metric: Metric name for messages.

    Raises:
        ParameterError: `method` is not callable.
    """
    if method is None or not callable(method):
        raise ParameterError(
            f"{metric} recomputes explanations: pass method=fn(model, images, targets) -> maps "
            f"(e.g. kerasviz.gradcam). Received: method={method!r}"
        )


def explain(
    method: Callable[..., Any] | None,
    backbone: Backbone,
    images: np.ndarray,
    targets: np.ndarray,
    *,
    metric: str,
    batch_size: int = 64,
    progress: bool | None = None,
    reuse: bool = False,
) -> np.ndarray:
    """Maps `(N, H, W)` float64 of `method(model, images, targets)`, `batch_size` images a call.

    Args:
        method: `fn(model, images, targets) -> maps` (maps `(N, H, W)`, per-colour attributions
            `(N, H, W, 3)` summed over colours, or an object with `attributions`).
        backbone: The model handed to `method`.
        images: float32 `(N, H, W, 3)`.
        targets: `(N,)` classes.
        metric: Metric name for messages.
        batch_size: Images per call of `method`.
        progress: Progress bar setting.
        reuse: Inside `memo.shared_work()`, reuse an earlier explanation of the same images by
            the same method and model (only for a model whose weights do not change meanwhile).

    Returns:
        float64 `(N, H, W)` (read-only when reused).

    Raises:
        ParameterError: No method given.
        ImageError: The method's output is not one map per image at the images' size.
    """
    check_method(method, metric)
    if reuse:
        key = ("explain", identity(method), identity(backbone.model), digest(images, targets))
        return remembered(key, lambda: explain(method, backbone, images, targets, metric=metric,
                                               batch_size=batch_size, progress=progress))
    parts = []
    with progress_bar(total=len(images), desc=f"{metric}: explain", progress=progress) as bar:
        for rows in batch_slices(len(images), batch_size):
            with muted_progress():  # this bar counts the method's work
                out = method(backbone, images[rows], targets[rows])
            raw = np.asarray(getattr(out, "attributions", out))
            if raw.ndim == 4 or (raw.ndim == 3 and raw.shape[-1] == 3 and images.shape[-2] != 3):
                raw = raw.sum(axis=-1)
            maps = check_maps(raw, name="method output")
            if maps.shape[1:] != images.shape[1:3]:
                maps = resize_map(maps.astype(np.float32), images.shape[1:3]).astype(np.float64)
            parts.append(maps)
            bar.update(rows.stop - rows.start)
    result = np.concatenate(parts)
    if result.shape != images.shape[:3]:
        raise ImageError(
            f"{metric}: the method must return one map per image at the images' size "
            f"{images.shape[:3]}. Received: maps with shape {result.shape}"
        )
    return result
