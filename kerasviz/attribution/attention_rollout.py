"""Attention rollout (Abnar & Zuidema, 2020): how much each patch flows into the class token.

For models built from `keras.layers.MultiHeadAttention` (vision transformers). Each attention
layer's heads are fused (mean, max or min), the residual connection is added as `0.5 A + 0.5 I`
with rows renormalized, and the layers are multiplied from the first to the last:
`R = A_L' ... A_1'`. The class token's row of `R`, restricted to the patch tokens and laid out
on the patch grid, is the map. It explains no class: it shows where the model *looks*.

The attention probabilities come from running the model's graph (`graph.Tracer`) with every
`MultiHeadAttention` called with `return_attention_scores=True`; the whole rollout runs in one
compiled function per (model, head fusion).
"""

from __future__ import annotations

from typing import Any, List, Optional

import keras
import numpy as np
import tensorflow as tf

from ..backbones import as_backbone
from ..checks import check_choice, check_int
from ..compiled import batch_slices, cached
from ..errors import ModelError
from ..graph_nodes import opaque_models
from ..graph_tracing import Tracer
from ..images import as_image_batch, normalize_map, resize_map
from ..tokens import token_grid as find_token_grid
from .inputs import squeeze

__all__ = ["HEAD_FUSIONS", "attention_probabilities", "attention_rollout"]

#: How the heads of one layer are combined.
HEAD_FUSIONS = ("mean", "max", "min")


def attention_probabilities(model: keras.Model, images: Any) -> List[Any]:
    """Every `MultiHeadAttention`'s attention probabilities when `model` runs on `images`.

    The model's graph is run (nested models inlined) with each attention layer called with
    `return_attention_scores=True`; works on real tensors inside a `tf.function` (Keras cannot
    build a functional model whose outputs are attention scores).

    Args:
        model: A pixels-in Keras graph model (a Backbone's model) with self-attention layers.
        images: `(N, H, W, 3)` float32 pixels (a tensor).

    Returns:
        A list of `(N, heads, T, T)` tensors in graph order.

    Raises:
        ModelError: Subclassed parts, or no `MultiHeadAttention` layer.
    """
    hidden = opaque_models(model)
    if hidden:
        raise ModelError(
            f"attention_rollout needs the attention layers inside the model, but {hidden} are "
            "subclassed models (a `call` method, no layer graph). Build the transformer with the "
            f"functional API. Received: model={model.name!r}"
        )
    scores: List[Any] = []

    def call_layer(node, *args, **kwargs):
        if isinstance(node, keras.layers.MultiHeadAttention):
            kwargs.update(return_attention_scores=True, training=False)
            outputs, attention = node(*args, **kwargs)
            scores.append(attention)
            return outputs
        return node(*args, **kwargs)

    Tracer(call_layer).run(model, images)
    if not scores:
        raise ModelError(
            "attention_rollout needs a transformer built from keras.layers.MultiHeadAttention; "
            f"model {model.name!r} has none. Use gradcam on a token or feature-map layer "
            f"instead. Received: model={model.name!r}"
        )
    return scores


def _check_self_attention(model: keras.Model) -> int:
    """Run the graph symbolically once: raise unless every attention is square, of one size."""
    layers = attention_probabilities(model, keras.Input(tuple(model.inputs[0].shape[1:])))
    shapes = {tuple(s.shape[2:]) for s in layers}
    if len(shapes) != 1 or any(q != k for q, k in shapes):
        raise ModelError(
            "attention_rollout needs self-attention over one token sequence in every layer "
            f"(square attention maps of one size). Received: attention shapes {sorted(shapes)}"
        )
    return int(layers[0].shape[-1])


def _rollout_function(model: keras.Model, fusion: str) -> Any:
    _check_self_attention(model)  # errors surface here, not inside the tf.function
    height, width = model.inputs[0].shape[1:3]
    reduce = {"mean": tf.reduce_mean, "max": tf.reduce_max, "min": tf.reduce_min}[fusion]

    @tf.function(input_signature=[tf.TensorSpec((None, height, width, 3), tf.float32)])
    def rollout(images):
        layers = attention_probabilities(model, images)
        identity = tf.eye(layers[0].shape[-1], dtype=layers[0].dtype)[None]
        result = tf.tile(identity, [tf.shape(images)[0], 1, 1])
        for probabilities in layers:
            flow = 0.5 * reduce(probabilities, axis=1) + 0.5 * identity  # the residual path
            flow = flow / tf.reduce_sum(flow, axis=-1, keepdims=True)
            result = tf.matmul(flow, result)
        return result

    return rollout


def attention_rollout(
    model: Any,
    images: Any,
    *,
    head_fusion: str = "mean",
    token_grid: Optional[Any] = None,
    skip_tokens: Optional[int] = None,
    batch_size: int = 32,
) -> np.ndarray:
    """Attention rollout: the attention flow from each image patch into the class token.

    Args:
        model: A `Backbone` or a pixels-in `keras.Model` built from
            `keras.layers.MultiHeadAttention` self-attention layers (a vision transformer).
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`, at the model's input size.
        head_fusion: How each layer's heads are combined: `"mean"` (the paper's), `"max"` or
            `"min"`.
        token_grid: The patch grid `(h, w)`; `None` detects a square grid after up to 16
            leading tokens.
        skip_tokens: Leading class / register tokens (`None`: detected). The map is the first
            token's row of the rollout; with no leading token, the mean over all tokens' rows.
        batch_size: Largest batch per compiled call.

    Returns:
        float32 `(N, H, W)` (or `(H, W)`) in `[0, 1]`: the patch grid's rollout upsampled
        bilinearly to the image and min-max normalized per image.

    Raises:
        ImageError: Invalid images.
        ModelError: No `MultiHeadAttention`, cross-attention, subclassed parts, a token count
            with no patch grid, or images of the wrong size.
        ParameterError: Bad `head_fusion`, `skip_tokens` or `batch_size`.
    """
    check_choice(head_fusion, "head_fusion", HEAD_FUSIONS)
    batch_size = check_int(batch_size, "batch_size", low=1)
    backbone = as_backbone(model)
    batch, single = as_image_batch(images)
    backbone.check_size(batch.shape[1:3])
    rollout = cached(
        backbone.model,
        ("attention_rollout", head_fusion),
        lambda: _rollout_function(backbone.model, head_fusion),
    )
    flows = [
        rollout(tf.constant(batch[part])).numpy() for part in batch_slices(len(batch), batch_size)
    ]
    count = flows[0].shape[-1]
    grid = find_token_grid(
        (None, count, None), grid=token_grid, skip_tokens=skip_tokens, layer="attention tokens"
    )
    rows = [flow[:, 0] if grid.skip > 0 else flow.mean(axis=1) for flow in flows]
    patches = np.concatenate(rows)[:, grid.skip :].reshape(-1, grid.height, grid.width)
    maps = normalize_map(resize_map(patches, batch.shape[1:3]))
    return squeeze(maps.astype(np.float32), single)
