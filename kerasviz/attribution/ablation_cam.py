"""Ablation-CAM (Desai & Ramaswamy 2020): weight each channel by how much the target score drops
when that channel is zeroed.

Batched ablations: for one image, ONE compiled call computes the layer's activations once, then
runs the rest of the network on chunks of `batch_size` copies of them, each with one channel set
to zero (a `tf.map_fn` inside the graph). When the part of the model after the layer depends on
nothing else (no skip connection crosses it), only that part runs (for a backbone's last
feature map: pooling and the classifier, so all channels cost about one forward pass); otherwise
the whole model runs on the image with the layer's output multiplied by a keep-mask.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import keras
import numpy as np
import tensorflow as tf

from ..checks import check_optional_int
from ..compiled import cached
from ..errors import ModelError
from ..features import FeatureModel
from ..graph_tracing import trace_model
from ..targets import Target, TargetLike
from .cam_maps import ALL_CHANNELS, cam_inputs, channel_signature, scored_channel_maps
from .cam_surface import documented_cam
from .eigen_cam import activation_function

__all__ = ["AblationCamFunction", "ablation_cam", "ablation_cam_function", "head_model"]


def head_model(model: keras.Model, layer: str, channels: int) -> tuple[keras.Model, bool]:
    """The model from a layer's activations to the logits, or the whole model with a keep-mask.

    Args:
        model: A pixels-in Keras model (logits out).
        layer: Name of a layer with a 4-D output.
        channels: Its channel count K.

    Returns:
        `(head, suffix)`: with `suffix=True`, `head(activations (B, h, w, K)) -> logits`; else
        `head([pixels (B, H, W, 3), keep (B, K)]) -> logits` with the layer's output scaled by
        `keep` channel-wise.
    """
    replaced = {}

    def substitute(leaf, *args, **kwargs):
        output = leaf(*args, **kwargs)
        if leaf.name == layer and "input" not in replaced:
            replaced["input"] = keras.Input(tuple(output.shape[1:]), name="activations")
            return replaced["input"]
        return output

    _, logits, _ = trace_model(model, call_layer=substitute)
    try:
        return keras.Model(replaced["input"], logits, name=f"{model.name}_head"), True
    except Exception:  # the logits also need the pixels: a skip connection crosses the layer
        pass
    keep = keras.Input((channels,), name="keep")

    def mask(leaf, *args, **kwargs):
        output = leaf(*args, **kwargs)
        if leaf.name == layer:
            output = output * keras.ops.reshape(keep, (-1, 1, 1, channels))
        return output

    pixels, logits, _ = trace_model(model, call_layer=mask)
    return keras.Model([pixels, keep], logits, name=f"{model.name}_ablated"), False


class AblationCamFunction:
    """Compiled `(image, index, count) -> (base score, scores (k,), channels (k,), activations)`.

    Attributes:
        function: The `tf.function`; its tracing count shows whether calls retrace.
        suffix: Only the part of the model after the layer runs per ablation.
    """

    def __init__(self, backbone: Any, layer: str, chunk: int, score_fn: Optional[Callable]):
        """Compile the batched ablations of one layer's channels.

        Args:
            backbone: A `Backbone` (pixels in, logits out).
            layer: A layer with a 4-D output.
            chunk: Ablated copies per pass inside the graph.
            score_fn: Callable target on logits, or `None` for `logits[:, index]`.
        """
        activations_of = activation_function(backbone, layer)
        model = backbone.model
        channels = int(FeatureModel(backbone, [layer], logits=False).model.output[layer].shape[-1])
        head, self.suffix = head_model(model, layer, channels)
        target = Target(indices=None, fn=score_fn)

        def scores_of(logits, index):
            return target.scores(logits) if score_fn is not None else logits[:, index]

        def run_head(image, activations, keep):
            if self.suffix:
                return head(activations * keep[:, None, None, :], training=False)
            copies = tf.repeat(image[None], tf.shape(keep)[0], axis=0)
            return head([copies, keep], training=False)

        def ablate(image, index, count):
            activations = activations_of(image[None])
            base = scores_of(run_head(image, activations, tf.ones((1, channels))), index)[0]
            mean = tf.reduce_mean(activations[0], axis=[0, 1])
            k = tf.minimum(count, channels)
            chosen = tf.math.top_k(mean, k, sorted=False).indices
            n_chunks = (k + chunk - 1) // chunk
            padded = tf.pad(chosen, [[0, n_chunks * chunk - k]], constant_values=-1)

            def score_chunk(ablated):
                keep = 1.0 - tf.one_hot(ablated, channels)  # index -1 (padding) keeps all
                return scores_of(run_head(image, activations, keep), index)

            scored = tf.map_fn(
                score_chunk,
                tf.reshape(padded, [n_chunks, chunk]),
                fn_output_signature=tf.float32,
                parallel_iterations=1,
            )
            return base, tf.reshape(scored, [-1])[:k], chosen, activations[0]

        self.function = tf.function(ablate, input_signature=channel_signature(backbone))

    def __call__(self, image: np.ndarray, index: int, count: int):
        """`(base score, scores (k,), channels (k,), activations (h, w, K))` as NumPy."""
        outputs = self.function(
            tf.constant(image, tf.float32), tf.constant(index, tf.int32), tf.constant(count, tf.int32)
        )
        return tuple(o.numpy() for o in outputs)


def ablation_cam_function(
    backbone: Any, layer: str, chunk: int, target: Target
) -> AblationCamFunction:
    """The cached compiled Ablation-CAM scorer of a backbone's layer.

    Args:
        backbone: A `Backbone`.
        layer: A layer with a 4-D output.
        chunk: Ablated copies per pass.
        target: A resolved `Target` (its callable, if any, is compiled in).

    Returns:
        An `AblationCamFunction`, cached per (model, layer, chunk, target kind).

    Raises:
        LayerNotFoundError: No such layer.
        ModelError: The layer's output is not 4-D.
    """
    shape = tuple(FeatureModel(backbone, [layer], logits=False).model.output[layer].shape)
    if len(shape) != 4:
        raise ModelError(
            f"Ablation-CAM zeroes channels of a 4-D feature map (N, h, w, channels); layer "
            f"{layer!r} outputs shape {shape} (for token layers of vision transformers use "
            f"gradcam, hires_cam, layer_cam, score_cam or eigen_cam). Received: layer={layer!r}"
        )
    activation_function(backbone, layer)  # checks the layer eagerly
    return cached(
        backbone.model,
        ("ablation_cam", layer, int(chunk)),
        lambda: AblationCamFunction(backbone, layer, int(chunk), target.fn),
        target.fn,
    )


@documented_cam(
    """Ablation-CAM: channel weights `(y - y_k) / y`, the relative drop of the target score `y`
    when channel `k` is zeroed; the map is the ReLU of the weighted activations, upsampled.""",
    extra_args="""\
    channels: Ablate only this many channels, those with the largest mean activation
        (`None`: all); the others get weight 0.
    progress: Show a progress bar over images (`None`: global setting).
""",
    extra_raises=' or `channels`',
    layer="""\
    layer: A layer with a 4-D output; default the backbone's `gradcam_layer`.
""",
    returns="""\
    float32 `(N, H, W)` (or `(H, W)`) in `[0, 1]`; all zeros where nothing is positive.
""",
)
def ablation_cam(
    model: Any,
    images: Any,
    target: Optional[TargetLike] = None,
    *,
    layer: Optional[str] = None,
    batch_size: int = 64,
    channels: Optional[int] = None,
    progress: Optional[bool] = None,
) -> np.ndarray:
    count = check_optional_int(channels, "channels", low=1)
    inputs, layer, batch_size = cam_inputs(model, images, target, layer, batch_size, "Ablation-CAM")
    ablate = ablation_cam_function(inputs.backbone, layer, batch_size, inputs.target)

    def weigh(image: np.ndarray, index: int):
        base, scores, chosen, activations = ablate(image, index, count or ALL_CHANNELS)
        drops = float(base) - scores.astype(np.float64)
        weights = np.zeros(activations.shape[-1])
        weights[chosen] = drops / float(base) if base != 0 else drops
        return weights, activations

    return scored_channel_maps(inputs, weigh, desc="ablation-cam", progress=progress)
