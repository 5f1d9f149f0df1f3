"""Class and feature visualization: the image a class score or a channel likes best.

Both are `optimize` with an activation objective and the robust defaults of Olah et al.
("Feature Visualization", Distill 2017): a Fourier, colour-decorrelated parameterization,
Adam, and random jitter / zoom / rotation each step; total-variation and L2 penalties, blur and
pixel clipping (Simonyan et al. 2014, Yosinski et al. 2015) are options. Several classes or
channels are optimized together as one batch.
"""

from __future__ import annotations

import inspect
from dataclasses import replace
from typing import Any, Sequence, Tuple, Union

import numpy as np

from ..backbones import as_backbone
from ..checks import check_int, check_number
from ..errors import ParameterError
from .activation_objectives import channel, class_score, neuron
from .ascent_options import Ascent, Execution
from .engine import bind
from .objective_type import Objective
from .optimize import MOVED, optimize
from .regularizers import l2, total_variation

__all__ = ["visualize_class", "visualize_feature"]

IndexLike = Union[int, Sequence[int], np.ndarray]


def _regularized(objective: Objective, tv_weight: Any, l2_weight: Any) -> Objective:
    tv_weight = check_number(tv_weight, "tv_weight", low=0.0)
    l2_weight = check_number(l2_weight, "l2_weight", low=0.0)
    if tv_weight:
        objective = objective - tv_weight * total_variation()
    if l2_weight:
        objective = objective - l2_weight * l2()
    return objective


def _as_index_list(index: IndexLike, what: str) -> Tuple[np.ndarray, bool]:
    values = np.asarray(index)
    if isinstance(index, (bool, np.bool_)) or values.dtype.kind not in "iu" or values.ndim > 1 or values.size == 0:
        raise ParameterError(
            f"`{what}` must be an integer or a non-empty 1-D sequence of integers. Received: {what}={index!r}"
        )
    return values.reshape(-1), values.ndim == 0


def _run_batches(model, make_objective, indices, batch_size, options) -> np.ndarray:
    batch_size = check_int(batch_size, "batch_size", low=1, high=256)
    images = []
    for start in range(0, len(indices), batch_size):
        chunk = indices[start : start + batch_size]
        images.append(optimize(model, make_objective(chunk), batch=len(chunk), **options).uint8())
    return np.concatenate(images, axis=0)


#: The engine defaults that class and feature visualization change (Olah et al.'s recipe).
VISUALIZE_DEFAULTS = dict(size=128, steps=128, param="fourier", ascent=Ascent(optimizer="adam", step_size=0.02))


def visualize_class(
    model: Any,
    class_index: IndexLike,
    *,
    tv_weight: float = 0.0,
    l2_weight: float = 0.0,
    batch_size: int = 16,
    **options: Any,
) -> np.ndarray:
    """Synthesize the image that maximizes a class's logit (one image per class, batched).

    Works on fixed-size classifiers too (VGG16's Flatten -> Dense): the image is resized to the
    model's input size inside each compiled step.

    Args:
        model: A `Backbone` or a Keras classifier taking pixels in `[0, 255]`.
        class_index: A class index, or a sequence of them (one image each).
        tv_weight: Weight of the total-variation penalty (>= 0).
        l2_weight: Weight of the L2 pixel decay (>= 0).
        batch_size: Images optimized together.
        **options: Passed to `optimize`; defaults `size=128, steps=128, param="fourier",
            ascent=Ascent(optimizer="adam", step_size=0.02)` (e.g. `octaves=2`,
            `regularization=Regularization(blur_every=4)`, `execution=Execution(seed=1,
            progress=False)`). A field of a record passed flat (`seed=1`) still works, with a
            `DeprecationWarning`.

    Returns:
        `uint8` `(H, W, 3)` for one class, `(N, H, W, 3)` for a sequence.

    Raises:
        TargetError: A class index is out of range or not an integer.
        ParameterError: Another argument is invalid (an unknown option included).
        ModelError: The model cannot run at `size`.
    """
    bind(as_backbone(model), class_score(class_index))  # TargetError for a bad class, once
    indices, single = _as_index_list(class_index, "class_index")
    settings = _options(options, "visualize class")
    images = _run_batches(
        model, lambda chunk: _regularized(class_score(chunk), tv_weight, l2_weight), indices, batch_size, settings
    )
    return images[0] if single else images


def visualize_feature(
    model: Any,
    layer: str,
    channels: IndexLike,
    *,
    neuron_only: bool = False,
    tv_weight: float = 0.0,
    l2_weight: float = 0.0,
    batch_size: int = 16,
    **options: Any,
) -> np.ndarray:
    """Synthesize the images that maximize channels of a layer, all channels in one batch.

    Args:
        model: A `Backbone` or a Keras model taking pixels in `[0, 255]`.
        layer: Layer name (`kerasviz.layer_names(model)` lists them).
        channels: A channel index, or a sequence of them (one image each, e.g. 16 channels).
        neuron_only: Maximize only the centre unit of each channel (a neuron, showing its
            receptive field) instead of the channel's mean over positions.
        tv_weight: Weight of the total-variation penalty (>= 0).
        l2_weight: Weight of the L2 pixel decay (>= 0).
        batch_size: Channels optimized together (bounded memory).
        **options: Passed to `optimize`, with the defaults of `visualize_class`.

    Returns:
        `uint8` `(H, W, 3)` for one channel, `(N, H, W, 3)` for a sequence.

    Raises:
        LayerNotFoundError: Unknown layer.
        ParameterError: A channel out of range, or another invalid argument.
        ModelError: The model cannot run at `size`.
    """
    indices, single = _as_index_list(channels, "channels")
    make = neuron if neuron_only else channel
    bind(as_backbone(model), make(layer, indices))  # validates the layer and every channel once
    settings = _options(options, f"visualize {layer}")
    images = _run_batches(
        model, lambda chunk: _regularized(make(layer, chunk), tv_weight, l2_weight), indices, batch_size, settings
    )
    return images[0] if single else images


def _options(options: dict, desc: str) -> dict:
    known = set(inspect.signature(optimize).parameters) - {"model", "objective", "batch"}
    unknown = sorted(set(options) - known - set(MOVED))  # a moved keyword is folded by `optimize`
    if unknown:
        raise ParameterError(
            f"Unknown options {unknown}; visualization takes tv_weight, l2_weight, batch_size and the "
            f"options of `optimize`: {sorted(known)} (or the fields of its records). Received: {unknown}"
        )
    execution = options.get("execution", Execution())
    if not isinstance(execution, Execution):
        raise ParameterError(f"`execution` must be an Execution(...). Received: execution={execution!r}")
    if execution.desc == Execution().desc:  # label the bar with what is visualized
        execution = replace(execution, desc=desc)
    return {**VISUALIZE_DEFAULTS, **options, "execution": execution}
