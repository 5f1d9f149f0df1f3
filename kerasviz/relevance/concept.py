"""Concept relevance (Achtibat et al. 2023, "From attribution maps to human-understandable
explanations through Concept Relevance Propagation"; zennit-crp's conditional attribution).

The LRP pass of `lrp`, with the relevance reaching one layer kept only on a set of its channels
(a "concept"): the map shows where in the image that concept contributes to the class. The
channels' maps of one layer add up to the plain LRP map (relevance is linear in the mask).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import numpy as np

from ..attribution.inputs import prepare_inputs, squeeze
from ..errors import ParameterError
from ..graph_nodes import find_layer
from ..targets import TargetLike
from .clone import relevance_model
from .composites import RulesLike
from .lrp import check_lrp_options, relevance_batches

__all__ = ["concept_relevance"]


def _channel_mask(channels: Any, width: int, count: int) -> np.ndarray:
    values = np.atleast_1d(np.asarray(channels))
    if values.size == 0 or values.ndim != 1 or values.dtype.kind not in "iu":
        raise ParameterError(
            "`channels` must be a channel index or a non-empty list of them. Received: "
            f"channels={channels!r}"
        )
    if values.min() < 0 or values.max() >= width:
        raise ParameterError(
            f"`channels` must lie in 0..{width - 1} (the layer has {width} channels). "
            f"Received: channels={channels!r}"
        )
    mask = np.zeros((count, width), np.float32)
    mask[:, values] = 1.0
    return mask


def concept_relevance(
    model: Any,
    images: Any,
    target: Optional[TargetLike],
    layer: str,
    channels: Union[int, Sequence[int]],
    *,
    composite: str = "epsilon_plus_flat",
    rules: RulesLike = None,
    epsilon: float = 1e-6,
    gamma: float = 0.25,
    low: float = 0.0,
    high: float = 255.0,
    batch_size: int = 32,
) -> np.ndarray:
    """LRP relevance of the target conditioned on channels of a layer (a concept).

    Relevance starts at the target logit as in `lrp`; at `layer`'s output it is set to zero
    on every channel except `channels`, then propagated to the pixels. A layer followed by a
    BatchNorm is conditioned on the merged output (the same channels).

    Args:
        model: A `Backbone` or a functional / Sequential `keras.Model` taking pixels in
            `[0, 255]`.
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`.
        target: Class index, one per image, or `None` for the predicted class.
        layer: Name of a layer with channels last (a feature map or dense units).
        channels: A channel index or a list of them (the concept), the same for every image.
        composite: As in `lrp`.
        rules: As in `lrp`.
        epsilon: As in `lrp`.
        gamma: As in `lrp`.
        low: As in `lrp`.
        high: As in `lrp`.
        batch_size: Images per compiled call, `>= 1`.

    Returns:
        float32 `(N, H, W)` (or `(H, W)`) signed relevance of the concept, summed over colours.

    Raises:
        LayerNotFoundError: `layer` is not in the model.
        ParameterError: Bad channels or LRP options.
        ImageError, TargetError, ModelError: As in `lrp`.
    """
    options = check_lrp_options(composite, rules, epsilon, gamma, low, high, batch_size)
    if not isinstance(layer, str):
        raise ParameterError(f"`layer` must be a layer name. Received: layer={layer!r}")
    inputs = prepare_inputs(model, images, target, options["batch_size"],
                            technique="concept_relevance")
    find_layer(inputs.backbone.model, layer)
    clone, _ = relevance_model(
        inputs.backbone.model, options["composite"], epsilon=options["epsilon"],
        gamma=options["gamma"], low=options["low"], high=options["high"], concept_layer=layer,
    )
    width = int(clone.inputs[1].shape[-1])
    mask = _channel_mask(channels, width, len(inputs.images))
    maps = relevance_batches(inputs, options, concept_layer=layer, mask=mask)
    return squeeze(maps, inputs.single)
