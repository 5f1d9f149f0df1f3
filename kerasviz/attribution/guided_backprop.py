"""Guided backpropagation (Springenberg et al. 2015) on a guided *clone* of the model.

It builds the clone with `guided_clone.guided_model` (every ReLU-family nonlinearity guided) and
hands it to the core's `score_gradient`: the user's model is never modified (the clone shares
its weights).
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..backbones import as_backbone
from ..checks import check_int
from ..errors import ParameterError
from ..images import as_image_batch
from ..targets import Target, TargetLike
from .core import batched_gradients, score_gradient
from .guided_clone import guided_model, warn_unguided
from .inputs import AttributionInputs, prepare_inputs, squeeze, target_indices
from .translations import average_back, translated_copies

__all__ = ["guided_attributions", "guided_backprop"]


def _channel_indices(channel: Any, n_images: int, n_channels: int) -> np.ndarray:
    values = np.asarray(channel)
    if values.dtype.kind not in "iu" or values.ndim > 1:
        raise ParameterError(
            f"`channel` must be an int or one int per image. Received: channel={channel!r}"
        )
    values = np.broadcast_to(values, (n_images,)) if values.ndim == 0 else values
    if len(values) != n_images:
        raise ParameterError(
            f"Give one channel per image ({n_images} images) or a single channel. Received: "
            f"channel with shape {values.shape}"
        )
    if values.min() < 0 or values.max() >= n_channels:
        raise ParameterError(
            f"`channel` must be in 0..{n_channels - 1} (the layer has {n_channels} channels). "
            f"Received: channel={channel!r}"
        )
    return values.astype(np.int32)


def guided_attributions(
    inputs: AttributionInputs,
    *,
    layer: Optional[str] = None,
    batch_size: int,
    jit_compile: bool = False,
    bar: Any = None,
) -> np.ndarray:
    """Raw guided gradients of the target (or, with `layer`, of a channel mean) w.r.t. pixels.

    Args:
        inputs: Validated inputs; with `layer`, the target's indices are channels of `layer`.
        layer: Explain channel means of this layer instead of class scores.
        batch_size: Largest batch per compiled call.
        jit_compile: Compile the gradient with XLA.
        bar: Optional progress bar, advanced per image.

    Returns:
        float32 `(N, H, W, 3)`.
    """
    clone = guided_model(inputs.backbone.model, layer)
    grad = score_gradient(clone.model, inputs.target, jit_compile=jit_compile)
    _, gradients = batched_gradients(grad, inputs.images, target_indices(inputs), batch_size, bar)
    return gradients.astype(np.float32)


def guided_backprop(
    model: Any,
    images: Any,
    target: Optional[TargetLike] = None,
    *,
    layer: Optional[str] = None,
    channel: Any = None,
    shifts: int = 1,
    batch_size: int = 32,
    jit_compile: bool = False,
) -> np.ndarray:
    """Guided backpropagation (Springenberg et al.): gradients through guided ReLUs.

    Every ReLU / ReLU6 of a clone of the model passes gradient only where its input was
    positive (and below 6 for ReLU6) and the upstream gradient is positive. The user's model is
    not modified. Known limitation (Adebayo et al., "Sanity Checks for Saliency Maps", 2018):
    guided backprop is largely insensitive to the model's top-layer weights and the class --
    it mostly reconstructs image edges -- so it shows what the lower layers see, not *why* the
    class was chosen; `tests/attribution/test_gradients.py` measures this.

    Args:
        model: A `Backbone` or a `keras.Model` taking pixels in `[0, 255]`.
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`, at the model's input size.
        target: Class index, one per image, callable on logits, or `None` for the predicted
            class. Must be `None` when `layer` is given.
        layer: Explain an intermediate neuron instead of a class: the mean of `channel` over
            this layer's spatial positions (as in the lecture).
        channel: Channel of `layer` (an int, or one per image); required with `layer`.
        shifts: Average over the `shifts x shifts` one-pixel translations of each image (each
            gradient shifted back), in `[1, 8]`. `2` removes the period-2 checkerboard that
            stride-2 convolutions print on the gradients (on Lite0 it cuts the share of
            spectral energy near the period-2 frequencies from 0.27 to 0.06, the level of
            plain gradients); `1` (default) is plain guided backprop.
        batch_size: Largest batch per compiled call, `>= 1`.
        jit_compile: Compile the gradient with XLA.

    Returns:
        float32 `(N, H, W, 3)` (or `(H, W, 3)`) raw guided gradients w.r.t. pixels (render
        them with `gradient_image`).

    Warns:
        UserWarning: Naming layers whose nonlinearity (LeakyReLU, ELU, swish, GELU, Lambda...)
            could not be guided.

    Raises:
        ImageError: Invalid images.
        TargetError: Invalid target.
        LayerNotFoundError: Unknown `layer`.
        ParameterError: `channel` missing, out of range, or given with a target; bad
            `batch_size` or `shifts`.
        ModelError: Unusable model or image size.
    """
    batch_size = check_int(batch_size, "batch_size", low=1)
    shifts = check_int(shifts, "shifts", low=1, high=8)
    if layer is None and channel is not None:
        raise ParameterError(
            f"`channel` needs `layer` (the layer whose channel to explain). Received: "
            f"channel={channel!r}, layer=None"
        )
    if layer is not None and target is not None:
        raise ParameterError(
            "Give either a class `target` or `layer` and `channel`, not both. Received: "
            f"target={target!r}, layer={layer!r}"
        )
    if layer is not None and channel is None:
        raise ParameterError(
            f"`layer` needs `channel` (which channel's mean to explain). Received: "
            f"layer={layer!r}, channel=None"
        )
    if layer is None:
        inputs = prepare_inputs(model, images, target, batch_size, technique="guided_backprop")
    else:
        backbone = as_backbone(model)
        batch, single = as_image_batch(images)
        backbone.check_size(batch.shape[1:3])
        width = int(guided_model(backbone.model, layer).model.outputs[0].shape[-1])
        indices = _channel_indices(channel, len(batch), width)
        inputs = AttributionInputs(backbone, batch, single, Target(indices=indices, fn=None))
    warn_unguided(guided_model(inputs.backbone.model, layer))
    options = dict(layer=layer, batch_size=batch_size, jit_compile=jit_compile)
    if shifts == 1:
        return squeeze(guided_attributions(inputs, **options), inputs.single)
    copies, image_of, offsets = translated_copies(inputs.images, shifts)
    gradients = guided_attributions(inputs.select(image_of, copies), **options)
    return squeeze(average_back(gradients, offsets), inputs.single)
