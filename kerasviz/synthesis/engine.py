"""The compiled core of the synthesis engine: bind an objective to a model, run regularized ascent
steps in a `tf.function`, and give the value and gradient of any objective (for L-BFGS).

**Fixed-size models.** A classifier whose input size is fixed (VGG16's `Flatten -> Dense`, a
Sequential with `Flatten`) cannot score images of another size. `bind` then builds the
FeatureModel at the model's own input size and every compiled step resizes the images there
bilinearly, inside the tape (as feature-visualization libraries do), so any technique runs at any
image size and the gradient flows back through the resize to the pixels being optimized.

Everything that changes between calls (objective values, step size, transform ranges, blur and
clipping settings, optimizer constants, the active mask) is a tensor input: a loop is traced
once per structure, cached per model in `kerasviz.compiled`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from ..backbones import as_backbone
from ..compiled import cached
from ..errors import ModelError
from ..features import FeatureModel
from .objective_inputs import objective_outputs
from .objective_type import Objective
from .optimizers import Optimizer
from .parameterization_base import Parameterization
from .transforms import clip_small_pixels, gaussian_blur, random_affine, tiles, untile

__all__ = ["Bound", "bind", "build_loop", "value_and_gradient", "value_and_gradient_function", "SETTING_NAMES"]

#: Names of the per-call numbers of a loop (a dict of float32 scalars, see `optimize.Settings`).
SETTING_NAMES = (
    "step_size", "jitter", "scale_low", "scale_high", "degrees", "blur_every", "blur_sigma",
    "clip_percentile", "contribution_percentile", "tile_size",
)


@dataclass(frozen=True)
class Bound:
    """An objective bound to a model: its FeatureModel and where images are resized to.

    Attributes:
        features: The FeatureModel (`None` for pixel-only objectives).
        resize_to: `(height, width)` the model needs, or `None` when it runs at any size.
        owner: The Keras model compiled functions are cached on.
    """

    features: Optional[FeatureModel]
    resize_to: Optional[Tuple[int, int]]
    owner: Any

    def outputs(self, images: tf.Tensor) -> Dict[str, tf.Tensor]:
        """What the objective reads: features of `images` (resized if needed) and `"pixels"`."""
        if self.features is None:
            return objective_outputs(None, images)
        model_images = images if self.resize_to is None else tf.image.resize(images, self.resize_to, "bilinear")
        outputs = dict(self.features(model_images))
        outputs["pixels"] = images
        return outputs


def bind(model: Any, objective: Objective, input_shape: Sequence[Optional[int]] = (None, None, 3)) -> Bound:
    """Build the objective's FeatureModel; fall back to the model's fixed input size.

    Args:
        model: A `Backbone` or a Keras model taking pixels.
        objective: The objective.
        input_shape: Input shape to run at; `(None, None, 3)` runs any size.

    Returns:
        A `Bound` (with `resize_to` set when the model needs its own input size).

    Raises:
        LayerNotFoundError, TargetError, ParameterError: From the objective's checks.
        ModelError: The model cannot run the objective's layers at any size.
    """
    backbone = as_backbone(model)
    if objective.needs_logits:  # a headless backbone (vgg16_hed, include_top=False) has no class scores
        backbone.require_classifier(f"the objective {objective.name}")
    try:
        features = objective.feature_model(backbone, input_shape=input_shape)
        resize_to = None
    except ModelError:
        if backbone.input_size is None:
            raise
        features = objective.feature_model(backbone, input_shape=None)
        resize_to = tuple(backbone.input_size)
    return Bound(features, resize_to, features.model if features is not None else backbone.model)


def _specs(arrays: Sequence[Any]) -> Tuple[tf.TensorSpec, ...]:
    return tuple(tf.TensorSpec([None] * np.ndim(a), tf.as_dtype(np.asarray(a).dtype)) for a in arrays)


def value_and_gradient(bound: Bound, objective: Objective, images: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
    """The objective's scores and their summed gradient with respect to the pixels, compiled.

    One `tf.function` per (model, objective structure), any image size and any values: what the
    L-BFGS path of style transfer and texture synthesis drives.

    Args:
        bound: From `bind(model, objective)`.
        objective: The objective (its `values` are fed as tensors).
        images: float32 `(N, H, W, 3)` pixels in `[0, 255]`.

    Returns:
        `(scores (N,), gradient (N, H, W, 3))` tensors.
    """
    function = value_and_gradient_function(bound, objective)
    return function(images, tuple(tf.constant(v) for v in objective.values))


def value_and_gradient_function(bound: Bound, objective: Objective):
    """The cached `tf.function(pixels, values) -> (scores, gradient)` behind `value_and_gradient`.

    Args:
        bound: From `bind(model, objective)`.
        objective: The objective.

    Returns:
        The `tf.function` (its tracing count shows it serves every size and value).
    """

    def build():
        @tf.function(input_signature=[tf.TensorSpec((None, None, None, 3), tf.float32), objective.value_specs])
        def run(pixels, values):
            with tf.GradientTape() as tape:
                tape.watch(pixels)
                scores = objective.apply(bound.outputs(pixels), values)
                total = tf.reduce_sum(scores)
            return scores, tape.gradient(total, pixels)

        return run

    return cached(bound.owner, ("value_and_gradient", objective.trace_key, bound.resize_to), build)


def _normalized(gradient: tf.Tensor, mode: str) -> tf.Tensor:
    if mode == "sign":
        return tf.sign(gradient)
    if mode == "mean":
        axes = tf.range(1, tf.rank(gradient))
        return gradient / (tf.reduce_mean(tf.abs(gradient), axis=axes, keepdims=True) + 1e-12)
    return gradient


def _mask(active: tf.Tensor, like: tf.Tensor) -> tf.Tensor:
    shape = tf.concat([tf.shape(active), tf.ones([tf.rank(like) - 1], tf.int32)], axis=0)
    return tf.reshape(active, shape)


def build_loop(
    bound: Bound, objective: Objective, param: Parameterization, optimizer: Optimizer, grad_mode: str,
    transformed: bool, tiled: bool, jit_compile: bool,
):
    """The cached compiled loop: `run(values, first, second, constants, objective_values, active,
    n_steps, t0, settings, optimizer_constants, seed) -> (values, first, second, history)`.

    Args:
        bound: The bound objective.
        objective: The objective to maximize.
        param: The parameterization (its `key` and variable ranks are structure).
        optimizer: The update rule (its class is structure).
        grad_mode: `"mean"` (divide by mean |gradient| per image), `"sign"` or `"none"`.
        transformed: Apply random jitter / zoom / rotation each step.
        tiled: Score a random roll of the image as tiles (DeepDream).
        jit_compile: Compile with XLA.

    Returns:
        The `tf.function`.
    """
    key = ("optimize", objective.trace_key, param.key, tuple(len(v.shape) for v in param.variables),
           tuple(np.ndim(c) for c in param.constants()),  # pixel bounds: scalars or per pixel
           optimizer.key, grad_mode, transformed, tiled, bool(jit_compile), bound.resize_to)
    return cached(bound.owner, key, lambda: _build(bound, objective, param, optimizer, grad_mode, transformed, tiled, jit_compile))


def _build(bound, objective, param, optimizer, grad_mode, transformed, tiled, jit_compile):
    var_specs = _specs([v.numpy() for v in param.variables])
    scalar = tf.TensorSpec([], tf.float32)
    signature = (
        var_specs, var_specs, var_specs, _specs(param.constants()), objective.value_specs,
        tf.TensorSpec([None], tf.float32),  # active mask (N,)
        tf.TensorSpec([], tf.int32),  # steps in this call
        tf.TensorSpec([], tf.int32),  # global step counter at the start
        {name: scalar for name in SETTING_NAMES},
        tf.TensorSpec([3], tf.float32),  # optimizer constants
        tf.TensorSpec([2], tf.int32),  # random seed
    )

    def scores(pixels, objective_values, settings, seed):
        images = pixels
        if transformed:
            ranges = tf.stack([settings[k] for k in ("jitter", "scale_low", "scale_high", "degrees")])
            images = random_affine(images, ranges, seed)
        if tiled:
            tile = tf.cast(settings["tile_size"], tf.int32)
            shift = tf.random.stateless_uniform([2], seed=seed + 1, maxval=tile, dtype=tf.int32)
            batch, count = tiles(tf.roll(images, shift, axis=[1, 2]), tile)
            return untile(objective.apply(bound.outputs(batch), objective_values), count)
        return objective.apply(bound.outputs(images), objective_values)

    def step(values, first, second, constants, objective_values, active, t, settings, hyper, seed):
        """One ascent step at global step `t` -> `(values, first, second, scores)`."""
        with tf.GradientTape() as tape:
            tape.watch(values)
            pixels = param.render(values, constants)
            value = scores(pixels, objective_values, settings, tf.stack([seed[0], seed[1] + t]))
            total = tf.reduce_sum(value * active)
        gradients = tape.gradient(total, list(values) + [pixels])
        pixel_gradient = gradients[-1]
        updated, new_first, new_second = [], [], []
        for var, grad, m, v in zip(values, gradients[:-1], first, second):
            grad = _normalized(tf.zeros_like(var) if grad is None else grad, grad_mode)
            mask = _mask(active, var)
            change, m_next, v_next = optimizer.update(grad, m, v, t, hyper)
            updated.append(var + settings["step_size"] * mask * change)  # ascent
            new_first.append(mask * m_next + (1.0 - mask) * m)
            new_second.append(mask * v_next + (1.0 - mask) * v)
        values = tuple(updated)

        blur_every = tf.cast(settings["blur_every"], tf.int32)
        do_blur = tf.logical_and(blur_every > 0, (t + 1) % tf.maximum(blur_every, 1) == 0)
        do_clip = tf.logical_or(settings["clip_percentile"] > 0, settings["contribution_percentile"] > 0)

        def postprocess():
            image = param.render(values, constants)
            blurred = tf.cond(do_blur, lambda: gaussian_blur(image, settings["blur_sigma"]), lambda: image)
            clipped = clip_small_pixels(
                blurred, pixel_gradient, settings["clip_percentile"], settings["contribution_percentile"]
            )
            return tuple(
                _mask(active, old) * new + (1.0 - _mask(active, old)) * old
                for old, new in zip(values, param.encode(clipped))
            )

        values = tf.cond(tf.logical_or(do_blur, do_clip), postprocess, lambda: values)
        return tuple(param.project(values, constants)), tuple(new_first), tuple(new_second), value

    def run(values, first, second, constants, objective_values, active, n_steps, t0, settings, hyper, seed):
        history = tf.TensorArray(tf.float32, size=n_steps)
        for i in tf.range(n_steps):  # the body is one call: AutoGraph carries only these four
            values, first, second, value = step(
                values, first, second, constants, objective_values, active, t0 + i, settings, hyper, seed
            )
            history = history.write(i, value)
        return values, first, second, history.stack()

    return tf.function(run, input_signature=signature, jit_compile=jit_compile, reduce_retracing=True)
