"""Score-CAM (Wang et al. 2020): weight each channel by the score of the image masked with it.

Each channel's activation map is normalized to `[0, 1]`, upsampled to the image and multiplied
with it; the model scores every masked copy, and the channels' weights are the softmax (over
channels) of the target's logits for their copies, as in pytorch-grad-cam. No gradients.

Speed: for one image, ONE compiled call computes the activations, picks the channels, builds the
masks, drops duplicates (equal masks have equal scores; constant channels, often hundreds, all
give the zero mask) and scores the distinct ones in chunks of `batch_size` masks (a `tf.map_fn` inside the graph, not
a Python loop over channels). The function is cached per (model, layer, chunk size, target
kind): the channel count is a tensor, so subsampling never retraces.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Tuple

import numpy as np
import tensorflow as tf

from ..checks import check_optional_int
from ..compiled import cached
from ..targets import Target, TargetLike
from .cam_maps import ALL_CHANNELS, cam_inputs, channel_signature, scored_channel_maps
from .cam_surface import documented_cam
from .eigen_cam import activation_function, activation_shape

__all__ = ["ScoreCamFunction", "channel_softmax", "score_cam", "score_cam_function"]


def top_channels(activations: tf.Tensor, count: tf.Tensor) -> tf.Tensor:
    """Indices of the `count` channels of `(h, w, K)` activations with the largest spatial
    variance (all `K` when `count >= K`), in graph code.

    Args:
        activations: `(h, w, K)` tensor.
        count: int32 scalar tensor.

    Returns:
        int32 `(min(count, K),)` channel indices.
    """
    variance = tf.math.reduce_variance(activations, axis=[0, 1])
    k = tf.minimum(count, tf.shape(variance)[0])
    return tf.math.top_k(variance, k, sorted=False).indices


def unit_masks(activations: tf.Tensor) -> tf.Tensor:
    """`(h, w, k)` activations as `(k, h, w, 1)` masks, each min-max normalized to `[0, 1]`
    (a constant channel gives an all-zero mask)."""
    low = tf.reduce_min(activations, axis=[0, 1], keepdims=True)
    span = tf.reduce_max(activations, axis=[0, 1], keepdims=True) - low
    unit = tf.math.divide_no_nan(activations - low, span)
    return tf.transpose(unit, [2, 0, 1])[..., None]


class ScoreCamFunction:
    """Compiled `(image (H, W, 3), index, count) -> (scores (k,), channels (k,), activations,
    number of distinct masks scored)`.

    Attributes:
        function: The `tf.function`; its tracing count shows whether calls retrace.
        last_distinct: Distinct masks the last call pushed through the model.
    """

    def __init__(
        self,
        backbone: Any,
        layer: str,
        chunk: int,
        score_fn: Optional[Callable],
        tokens: Tuple[Any, Optional[int]] = (None, None),
    ):
        """Compile the masked scoring of one layer's channels.

        Args:
            backbone: A `Backbone` (pixels in, logits out).
            layer: A layer with a 4-D output.
            chunk: Masked copies per forward pass inside the graph.
            score_fn: Callable target on logits, or `None` for `logits[:, index]`.
            tokens: Token layers: `(patch grid, skip_tokens)` as `score_cam` takes them.
        """
        grid, skip = tokens
        activations_of = activation_function(backbone, layer, grid=grid, skip_tokens=skip)
        self.last_distinct = 0
        model = backbone.model
        height, width = model.inputs[0].shape[1:3]
        target = Target(indices=None, fn=score_fn)

        def scores_of(logits, index):
            if score_fn is not None:
                return target.scores(logits)
            return logits[:, index]

        h, w = activation_shape(backbone, layer, grid=grid, skip_tokens=skip)
        # A fixed random direction: equal masks project equally (bit for bit), different masks
        # differ (in float64, a collision has probability ~0), so masks are deduplicated exactly.
        direction = tf.constant(np.random.default_rng(0).uniform(0.5, 1.5, h * w), tf.float64)

        def score_channels(image, index, count):
            activations = activations_of(image[None])[0]
            channels = top_channels(activations, count)
            all_masks = unit_masks(tf.gather(activations, channels, axis=-1))
            # Equal masks give equal masked images and scores: score each distinct mask once
            # (a layer often has hundreds of constant channels, whose masks are all zero).
            keys = tf.linalg.matvec(tf.cast(tf.reshape(all_masks, [-1, h * w]), tf.float64), direction)
            distinct, which = tf.unique(keys)
            first = tf.math.unsorted_segment_min(
                tf.range(tf.shape(keys)[0]), which, tf.shape(distinct)[0]
            )
            masks = tf.gather(all_masks, first)
            k = tf.shape(masks)[0]
            n_chunks = (k + chunk - 1) // chunk
            padded = tf.pad(masks, [[0, n_chunks * chunk - k], [0, 0], [0, 0], [0, 0]])
            chunks = tf.reshape(padded, tf.concat([[n_chunks, chunk], tf.shape(masks)[1:]], 0))

            def score_chunk(coarse):
                upsampled = tf.image.resize(coarse, (height, width), method="bilinear")
                return scores_of(model(image[None] * upsampled, training=False), index)

            scored = tf.map_fn(
                score_chunk, chunks, fn_output_signature=tf.float32, parallel_iterations=1
            )
            return tf.gather(tf.reshape(scored, [-1])[:k], which), channels, activations, k

        self.function = tf.function(score_channels, input_signature=channel_signature(backbone))

    def __call__(self, image: np.ndarray, index: int, count: int):
        """`(scores (k,), channels (k,), activations (h, w, K), distinct masks scored)`."""
        scores, channels, activations, distinct = self.function(
            tf.constant(image, tf.float32), tf.constant(index, tf.int32), tf.constant(count, tf.int32)
        )
        self.last_distinct = int(distinct)
        return scores.numpy(), channels.numpy(), activations.numpy()


def score_cam_function(
    backbone: Any,
    layer: str,
    chunk: int,
    target: Target,
    tokens: Tuple[Any, Optional[int]] = (None, None),
) -> ScoreCamFunction:
    """The cached compiled Score-CAM scorer of a backbone's layer.

    Args:
        backbone: A `Backbone`.
        layer: A layer with a 4-D output.
        chunk: Masked copies per forward pass.
        target: A resolved `Target` (its callable, if any, is compiled in).
        tokens: Token layers: `(patch grid, skip_tokens)` (`None`s: detected).

    Returns:
        A `ScoreCamFunction`, cached per (model, layer, chunk, tokens, target kind).

    Raises:
        LayerNotFoundError: No such layer.
        ModelError: The layer's output is not 4-D.
    """
    grid, skip = tokens
    activation_function(backbone, layer, grid=grid, skip_tokens=skip)  # checks the layer eagerly
    key = tuple(np.atleast_1d(grid).tolist()) if grid is not None else None
    return cached(
        backbone.model,
        ("score_cam", layer, int(chunk), key, skip),
        lambda: ScoreCamFunction(backbone, layer, int(chunk), target.fn, (grid, skip)),
        target.fn,
    )


def channel_softmax(values: np.ndarray) -> np.ndarray:
    """Softmax of `(k,)` scores over channels, in float64 (shifted by the max for stability)."""
    shifted = np.exp(values.astype(np.float64) - values.max())
    return shifted / shifted.sum()


@documented_cam(
    """Score-CAM: channels weighted by the target score of the image masked with each of them.""",
    extra_args="""\
    channels: Score only this many channels, those with the largest spatial variance
        (subsampling for wide layers; `None`: all). The others get weight 0.
    progress: Show a progress bar over images (`None`: global setting).
""",
    extra_raises=' or `channels`',
    layer="""\
    layer: A layer with a 4-D output; default the backbone's `gradcam_layer`.
""",
    returns="""\
    float32 `(N, H, W)` (or `(H, W)`) in `[0, 1]`: ReLU of the weighted activations,
    upsampled bilinearly, divided by the maximum; all zeros where nothing is positive.
""",
)
def score_cam(
    model: Any,
    images: Any,
    target: Optional[TargetLike] = None,
    *,
    layer: Optional[str] = None,
    batch_size: int = 16,
    channels: Optional[int] = None,
    progress: Optional[bool] = None,
    token_grid: Optional[Any] = None,
    skip_tokens: Optional[int] = None,
) -> np.ndarray:
    count = check_optional_int(channels, "channels", low=1)
    inputs, layer, batch_size = cam_inputs(model, images, target, layer, batch_size, "Score-CAM")
    scorer = score_cam_function(
        inputs.backbone, layer, batch_size, inputs.target, (token_grid, skip_tokens)
    )

    def weigh(image: np.ndarray, index: int):
        scores, chosen, activations = scorer(image, index, count or ALL_CHANNELS)
        weights = np.zeros(activations.shape[-1])
        weights[chosen] = channel_softmax(scores)
        return weights, activations

    return scored_channel_maps(inputs, weigh, desc="score-cam", progress=progress)
