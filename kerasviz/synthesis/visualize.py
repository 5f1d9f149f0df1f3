"""Class and feature visualization: the image a class score or a channel likes best.

Both are `optimize` with an activation objective and the robust defaults of Olah et al.
("Feature Visualization", Distill 2017): a Fourier, colour-decorrelated parameterization,
Adam, and random jitter / zoom / rotation each step; total-variation and L2 penalties, blur and
pixel clipping (Simonyan et al. 2014, Yosinski et al. 2015) are options. Several classes or
channels are optimized together as one batch.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np

from ..backbones import as_backbone
from ..errors import ParameterError
from .objectives import Objective, channel, class_score, l2, neuron, total_variation
from .optimize import Transforms, _integer, _number, optimize

__all__ = ["visualize_class", "visualize_feature"]

IndexLike = Union[int, Sequence[int], np.ndarray]


def _regularized(objective: Objective, tv_weight: Any, l2_weight: Any) -> Objective:
    tv_weight = _number(tv_weight, "tv_weight", 0.0)
    l2_weight = _number(l2_weight, "l2_weight", 0.0)
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
    batch_size = _integer(batch_size, "batch_size", 1, 256)
    images = []
    for start in range(0, len(indices), batch_size):
        chunk = indices[start : start + batch_size]
        images.append(optimize(model, make_objective(chunk), batch=len(chunk), **options).uint8())
    return np.concatenate(images, axis=0)


def visualize_class(
    model: Any,
    class_index: IndexLike,
    *,
    size: Union[int, Tuple[int, int]] = 128,
    steps: int = 128,
    param: str = "fourier",
    optimizer: Any = "adam",
    step_size: float = 0.02,
    transforms: Optional[Transforms] = Transforms(),
    tv_weight: float = 0.0,
    l2_weight: float = 0.0,
    blur_every: int = 0,
    blur_sigma: float = 0.5,
    clip_percentile: float = 0.0,
    octaves: int = 1,
    batch_size: int = 16,
    steps_per_call: int = 16,
    seed: int = 0,
    progress: Optional[bool] = None,
    jit_compile: bool = False,
) -> np.ndarray:
    """Synthesize the image that maximizes a class's logit (one image per class, batched).

    Args:
        model: A `Backbone` or a Keras classifier taking pixels in `[0, 255]`.
        class_index: A class index, or a sequence of them (one image each).
        size: Image size, an int or `(height, width)`, each >= 16.
        steps: Gradient steps (per octave).
        param: `"fourier"` (default), `"decorrelated"` or `"pixel"`.
        optimizer: `"adam"` (default), `None` (normalized gradient ascent) or a Keras Adam / SGD.
        step_size: Learning rate (parameterization units; pixel levels for `"pixel"` with
            `optimizer=None`).
        transforms: Random jitter / zoom / rotation each step, or `None`.
        tv_weight: Weight of the total-variation penalty (>= 0).
        l2_weight: Weight of the L2 pixel decay (>= 0).
        blur_every: Gaussian blur every this many steps (0 = never).
        blur_sigma: That blur's standard deviation in pixels.
        clip_percentile: Per-step clipping of small-norm pixels to grey (percentile 0..100).
        octaves: Number of scales (each 1.4× larger).
        batch_size: Images optimized together.
        steps_per_call: Steps per compiled call.
        seed: Random seed (start and transforms).
        progress: Show a progress bar (`None`: global setting).
        jit_compile: Compile the loop with XLA.

    Returns:
        `uint8` `(H, W, 3)` for one class, `(N, H, W, 3)` for a sequence.

    Raises:
        TargetError: A class index is out of range or not an integer.
        ParameterError: Another argument is invalid.
        ModelError: The model cannot run at `size`.
    """
    class_score(class_index).feature_model(as_backbone(model))  # TargetError for a bad class, once
    indices, single = _as_index_list(class_index, "class_index")
    options = dict(
        size=size, steps=steps, param=param, optimizer=optimizer, step_size=step_size, transforms=transforms,
        blur_every=blur_every, blur_sigma=blur_sigma, clip_percentile=clip_percentile, octaves=octaves,
        steps_per_call=steps_per_call, seed=seed, progress=progress, jit_compile=jit_compile, desc="visualize class",
    )
    images = _run_batches(
        model, lambda chunk: _regularized(class_score(chunk), tv_weight, l2_weight), indices, batch_size, options
    )
    return images[0] if single else images


def visualize_feature(
    model: Any,
    layer: str,
    channels: IndexLike,
    *,
    neuron_only: bool = False,
    size: Union[int, Tuple[int, int]] = 128,
    steps: int = 128,
    param: str = "fourier",
    optimizer: Any = "adam",
    step_size: float = 0.02,
    transforms: Optional[Transforms] = Transforms(),
    tv_weight: float = 0.0,
    l2_weight: float = 0.0,
    octaves: int = 1,
    batch_size: int = 16,
    steps_per_call: int = 16,
    seed: int = 0,
    progress: Optional[bool] = None,
    jit_compile: bool = False,
) -> np.ndarray:
    """Synthesize the images that maximize channels of a layer, all channels in one batch.

    Args:
        model: A `Backbone` or a Keras model taking pixels in `[0, 255]`.
        layer: Layer name (`kerasviz.layer_names(model)` lists them).
        channels: A channel index, or a sequence of them (one image each, e.g. 16 channels).
        neuron_only: Maximize only the centre unit of each channel (a neuron, showing its
            receptive field) instead of the channel's mean over positions.
        size: Image size, an int or `(height, width)`, each >= 16.
        steps: Gradient steps (per octave).
        param: `"fourier"` (default), `"decorrelated"` or `"pixel"`.
        optimizer: `"adam"` (default), `None` (normalized gradient ascent) or a Keras Adam / SGD.
        step_size: Learning rate (parameterization units).
        transforms: Random jitter / zoom / rotation each step, or `None`.
        tv_weight: Weight of the total-variation penalty (>= 0).
        l2_weight: Weight of the L2 pixel decay (>= 0).
        octaves: Number of scales (each 1.4× larger).
        batch_size: Channels optimized together (bounded memory).
        steps_per_call: Steps per compiled call.
        seed: Random seed.
        progress: Show a progress bar (`None`: global setting).
        jit_compile: Compile the loop with XLA.

    Returns:
        `uint8` `(H, W, 3)` for one channel, `(N, H, W, 3)` for a sequence.

    Raises:
        LayerNotFoundError: Unknown layer.
        ParameterError: A channel out of range, or another invalid argument.
        ModelError: The model cannot run at `size`.
    """
    indices, single = _as_index_list(channels, "channels")
    make = neuron if neuron_only else channel
    make(layer, indices).feature_model(as_backbone(model))  # validates the layer and every channel once
    options = dict(
        size=size, steps=steps, param=param, optimizer=optimizer, step_size=step_size, transforms=transforms,
        octaves=octaves, steps_per_call=steps_per_call, seed=seed, progress=progress, jit_compile=jit_compile,
        desc=f"visualize {layer}",
    )
    images = _run_batches(
        model, lambda chunk: _regularized(make(layer, chunk), tv_weight, l2_weight), indices, batch_size, options
    )
    return images[0] if single else images
