"""The attribution core: inputs (re-exported from `inputs.py`), batching, and the one cached
"score gradient" engine.

Every gradient technique is a thin layer on two compiled helpers:

* `score_gradient(model, target)`: `(scores, d score / d pixels)` of the Keras model it is given
  (the Backbone's model, or a clone such as guided backprop's) as a `tf.function` with the fixed
  input signature `(None, H, W, 3)` float32 pixels + `(None,)` int32 indices;
* `feature_gradients(model, layer, images, target)`: the activations of a layer and the gradient
  of the target score with respect to them, in batches (Grad-CAM and the CAM family).

Both are built once per (model, structure) and cached with `kerasviz.compiled.cached`, so a
technique called again on the same model never retraces; class indices are tensors, so one
trace serves every class.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, List, Optional, Tuple

import keras
import numpy as np
import tensorflow as tf

from ..backbones import Backbone, as_backbone
from ..compiled import batch_slices, cached
from ..errors import ModelError, ParameterError
from ..features import LOGITS, FeatureModel
from ..targets import Target, target_scores
from ..tokens import TokenGrid, token_grid, tokens_to_maps
from .inputs import (
    AttributionInputs,
    prepare_inputs,
    scale_to_unit,
    squeeze,
    sum_by_image,
    target_indices,
)

__all__ = [
    "AttributionInputs",
    "ScoreGradient",
    "batched_gradients",
    "feature_gradient_function",
    "feature_gradients",
    "map_layer_tokens",
    "pixel_signature",
    "prepare_inputs",
    "reduce_to_scores",
    "scale_to_unit",
    "score_gradient",
    "squeeze",
    "sum_by_image",
    "target_indices",
]


def pixel_signature(model: keras.Model) -> List[tf.TensorSpec]:
    """The fixed input signature `(None, H, W, 3)` float32 pixels + `(None,)` int32 indices.

    Args:
        model: A Keras model with one image input.

    Returns:
        Two `tf.TensorSpec`s.
    """
    height, width = model.inputs[0].shape[1:3]
    return [
        tf.TensorSpec((None, height, width, 3), tf.float32, name="images"),
        tf.TensorSpec((None,), tf.int32, name="indices"),
    ]


def reduce_to_scores(outputs: tf.Tensor, indices: tf.Tensor, fn: Optional[Callable]) -> tf.Tensor:
    """Per-image scores inside compiled code.

    Args:
        outputs: Logits `(N, C)` or a feature map `(N, h, w, C)`.
        indices: `(N,)` class (or channel) indices.
        fn: Callable target on `outputs`, or `None`.

    Returns:
        `(N,)` scores: `fn(outputs)`, or `outputs[i, indices[i]]` after averaging any spatial
        axes (a class logit, or a channel mean).
    """
    if fn is not None:
        return Target(indices=None, fn=fn).scores(outputs)
    if outputs.shape.rank > 2:
        outputs = tf.reduce_mean(outputs, axis=list(range(1, outputs.shape.rank - 1)))
    return target_scores(outputs, indices)


class ScoreGradient:
    """Compiled gradient of one model's per-image score, w.r.t. the pixels or a layer.

    Attributes:
        function: The `tf.function` `(images (B, H, W, 3), indices (B,)) -> (scores (B,),
            d scores / d pixels (B, H, W, 3))`, or with `layer`: `-> (activations (B, ...),
            d scores / d activations)`; its tracing count shows whether calls retrace.
    """

    def __init__(
        self,
        model: keras.Model,
        score_fn: Optional[Callable],
        jit_compile: bool = False,
        layer: Optional[str] = None,
        grid: Optional[TokenGrid] = None,
    ) -> None:
        """Compile the gradient.

        Args:
            model: Keras model taking pixels `(B, H, W, 3)`: logits `(B, C)` or a feature map
                out (reduced by `reduce_to_scores`), or, with `layer`, a FeatureModel's
                `{layer: activations, "logits": (B, C)}`.
            score_fn: Callable target on the scored output, or `None` to pick
                `output[i, indices[i]]`.
            jit_compile: Compile with XLA.
            layer: Differentiate with respect to this output of `model` instead of the pixels.
            grid: The layer is a token layer `(B, T, C)`: return its patch tokens and their
                gradients as maps `(B, h, w, C)` (class / register tokens dropped).
        """

        def gradients(images, indices):
            with tf.GradientTape() as tape:
                tape.watch(images)
                outputs = model(images, training=False)
                wrt, scored = (images, outputs) if layer is None else (outputs[layer], outputs[LOGITS])
                tape.watch(wrt)
                scores = reduce_to_scores(scored, indices, score_fn)
            # Images are independent (inference mode), so d(sum)/dx_i = d(score_i)/dx_i.
            grads = tape.gradient(scores, wrt)
            if layer is None:
                return scores, grads
            if grid is not None:  # reshaping is linear: d score / d map = the reshaped gradient
                return tokens_to_maps(wrt, grid), tokens_to_maps(grads, grid)
            return wrt, grads

        self.function = tf.function(
            gradients, input_signature=pixel_signature(model), jit_compile=jit_compile
        )

    def __call__(self, images: np.ndarray, indices: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """`(scores, gradients)` (or `(activations, gradients)`) of one batch, NumPy in and out."""
        first, grads = self.function(
            tf.constant(images, tf.float32), tf.constant(indices, tf.int32)
        )
        return first.numpy(), grads.numpy()


def score_gradient(model: Any, target: Target, *, jit_compile: bool = False) -> ScoreGradient:
    """The cached compiled gradient of a model's score with respect to its input pixels.

    Args:
        model: The model to differentiate: a `Backbone` (its logits) or any pixels-in
            `keras.Model` (e.g. the guided-backprop clone, or a clone ending at a layer, whose
            channel means are scored).
        target: Resolved target: class indices go in as a tensor (one trace serves every
            class); a callable target is compiled into the function.
        jit_compile: Compile with XLA.

    Returns:
        A `ScoreGradient`, cached under the Keras model (it lives as long as the model).
    """
    keras_model = model.model if isinstance(model, Backbone) else model
    return cached(
        keras_model,
        ("score_gradient", bool(jit_compile)),
        lambda: ScoreGradient(keras_model, target.fn, jit_compile),
        target.fn,
    )


def batched_gradients(
    grad: ScoreGradient,
    images: np.ndarray,
    indices: np.ndarray,
    batch_size: int,
    bar: Any = None,
) -> Tuple[np.ndarray, np.ndarray]:
    """Run `grad` over many images in batches of at most `batch_size`.

    Args:
        grad: The compiled helper.
        images: `(M, H, W, 3)` pixels.
        indices: `(M,)` class or channel indices.
        batch_size: Largest batch pushed through the model.
        bar: Optional progress bar, advanced by the number of images done.

    Returns:
        `(scores (M,), gradients (M, H, W, 3))`.
    """
    scores, grads = [], []
    for part in batch_slices(len(images), batch_size):
        s, g = grad(images[part], indices[part])
        scores.append(s)
        grads.append(g)
        if bar is not None:
            bar.update(part.stop - part.start)
    return np.concatenate(scores), np.concatenate(grads)


def feature_gradient_function(
    backbone: Backbone,
    layer: str,
    target: Target,
    *,
    grid: Optional[Any] = None,
    skip_tokens: Optional[int] = None,
) -> ScoreGradient:
    """The cached compiled layer gradient of a backbone (one per model, layer, grid, target kind).

    Args:
        backbone: A `Backbone`.
        layer: Name of a layer (or operation node) with a feature-map output `(N, h, w, K)`, or
            a token layer `(N, T, K)` of a vision transformer.
        target: A resolved `Target` (its callable, if any, is compiled in).
        grid: Token layers only: the patch grid `(h, w)`; `None` detects it.
        skip_tokens: Token layers only: leading class / register tokens; `None` detects them.

    Returns:
        A `ScoreGradient` with respect to the layer's activations (token layers as maps).

    Raises:
        LayerNotFoundError: No such layer.
        ModelError: The layer's output is neither a 4-D feature map nor tokens with a patch
            grid, or the model's layers cannot be reached (subclassed).
        ParameterError: `grid` / `skip_tokens` given for a feature-map layer.
    """
    features = FeatureModel(backbone, [layer])
    tokens = map_layer_tokens(
        tuple(features.model.output[layer].shape), layer, grid, skip_tokens,
        subject="Grad-CAM needs",
        hint=f" Pick such a layer (default: the backbone's gradcam_layer "
        f"{backbone.gradcam_layer!r}).",
    )
    return cached(
        backbone.model,
        ("feature_gradients", layer, tokens),
        lambda: ScoreGradient(features.model, target.fn, layer=layer, grid=tokens),
        target.fn,
    )


def map_layer_tokens(
    shape: Tuple[Any, ...],
    layer: str,
    grid: Optional[Any],
    skip_tokens: Optional[int],
    *,
    subject: str = "CAMs need",
    hint: str = "",
) -> Optional[TokenGrid]:
    """Check that a layer's output is a feature map or tokens on a patch grid.

    Args:
        shape: The layer's output shape, `(N, h, w, K)` or `(N, T, C)`.
        layer: Its name, for messages.
        grid: Token layers: the patch grid `(h, w)`; `None` detects it.
        skip_tokens: Token layers: leading class / register tokens; `None` detects them.
        subject: Start of the error message (who needs the layer).
        hint: Sentence added to the shape error.

    Returns:
        The `TokenGrid` of a token layer, `None` for a 4-D feature map.

    Raises:
        ModelError: Neither 4-D nor tokens with a patch grid.
        ParameterError: `grid` / `skip_tokens` given for a feature-map layer.
    """
    if len(shape) == 3:
        return token_grid(shape, grid=grid, skip_tokens=skip_tokens, layer=layer)
    if len(shape) != 4:
        raise ModelError(
            f"{subject} a convolutional layer with a 4-D output (N, h, w, channels) or a "
            f"token layer (N, tokens, channels); layer {layer!r} outputs shape {shape}.{hint} "
            f"Received: layer={layer!r}"
        )
    if grid is not None or skip_tokens is not None:
        raise ParameterError(
            f"`token_grid` and `skip_tokens` apply to token layers (N, tokens, C); layer "
            f"{layer!r} is a feature map {shape}. Received: token_grid={grid!r}, "
            f"skip_tokens={skip_tokens!r}"
        )
    return None


def feature_gradients(
    model: Any,
    layer: str,
    images: np.ndarray,
    target: Any,
    *,
    batch_size: int = 32,
    token_grid: Optional[Any] = None,
    skip_tokens: Optional[int] = None,
) -> Iterator[Tuple[slice, np.ndarray, np.ndarray]]:
    """Activations of `layer` and the gradient of the target score with respect to them.

    Args:
        model: A `Backbone` or a pixels-in `keras.Model`.
        layer: Name of a layer with a 4-D output, or a token layer `(N, T, C)`.
        images: float32 `(N, H, W, 3)` validated pixels (see `prepare_inputs`).
        target: A resolved `Target`, or `(N,)` int class indices.
        batch_size: Largest batch per compiled call.
        token_grid: Token layers: the patch grid `(h, w)` (`None`: detected).
        skip_tokens: Token layers: leading class / register tokens (`None`: detected).

    Returns:
        An iterator of `(rows, activations (B, h, w, K), gradients (B, h, w, K))`, one per
        batch of at most `batch_size` images; `rows` is the slice of `images` it covers. Token
        layers come back as maps of their patch tokens. The layer is checked before returning.

    Raises:
        LayerNotFoundError: No such layer.
        ModelError: The layer is neither a feature map nor a token layer with a patch grid.
        ParameterError: Token options for a feature-map layer.
    """
    if not isinstance(target, Target):
        target = Target(indices=np.asarray(target, np.int32), fn=None)
    compiled = feature_gradient_function(
        as_backbone(model), layer, target, grid=token_grid, skip_tokens=skip_tokens
    )
    indices = target.indices if target.indices is not None else np.zeros(len(images), np.int32)
    parts = batch_slices(len(images), batch_size)  # compiled (and checked) eagerly, above
    return ((part, *compiled(images[part], indices[part])) for part in parts)
