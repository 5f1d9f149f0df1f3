"""The attribution core: inputs (re-exported from `inputs.py`), batching, and the one cached
"score gradient" engine.

Every gradient technique is a thin layer on two compiled helpers:

* `score_gradient(model, target)`: `(scores, d score / d pixels)` of the Keras model it is given
  (the Backbone's model, or a clone such as guided backprop's) as a `tf.function` with the fixed
  input signature `(None, H, W, 3)` float32 pixels + `(None,)` int32 indices, run on the
  model with its BatchNorms merged into the layers before them (`merged_batch_norm_model`);
* `feature_gradients(model, layer, images, target)` (in `layer_gradients.py`): the activations
  of a layer and the gradient of the target score with respect to them, in batches (Grad-CAM
  and the CAM family).

Both are built once per (model, structure) and cached with `kerasviz.compiled.cached`, so a
technique called again on the same model never retraces; class indices are tensors, so one
trace serves every class.
"""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Tuple

import keras
import numpy as np
import tensorflow as tf

from ..backbones import Backbone
from ..canonizers import merged_batch_norm_model
from ..compiled import batch_slices, cached
from ..features import LOGITS
from ..targets import Target, target_scores
from ..tokens import TokenGrid, tokens_to_maps
from .inputs import (
    AttributionInputs,
    target_indices,
)

__all__ = [
    "ScoreGradient",
    "batched_gradients",
    "pixel_gradients",
    "pixel_signature",
    "reduce_to_scores",
    "score_gradient",
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
        merge_batch_norm: bool = True,
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
            merge_batch_norm: Differentiate pixels through `merged_batch_norm_model(model)`
                (the same function, faster); `False` runs the model as given.
        """

        if layer is None and merge_batch_norm:  # a merged layer has no output of its own
            model = merged_batch_norm_model(model)

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


def pixel_gradients(
    model: Any,
    inputs: AttributionInputs,
    batch_size: int,
    *,
    jit_compile: bool = False,
    bar: Any = None,
) -> np.ndarray:
    """The gradient of each image's target score with respect to its pixels, in batches.

    Args:
        model: The model to differentiate: `inputs.backbone` or a pixels-in clone of it.
        inputs: Validated inputs (see `prepare_inputs`).
        batch_size: Largest batch per compiled call.
        jit_compile: Compile the gradient with XLA.
        bar: Optional progress bar, advanced per image.

    Returns:
        float32 `(N, H, W, 3)` gradients.
    """
    grad = score_gradient(model, inputs.target, jit_compile=jit_compile)
    return batched_gradients(grad, inputs.images, target_indices(inputs), batch_size, bar)[1]
