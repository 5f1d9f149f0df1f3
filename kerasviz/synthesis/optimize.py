"""The one gradient-ascent engine: maximize an objective over an image parameterization.

`optimize(model, objective, ...)` validates its settings into one `Settings` structure, binds the
objective to the model (`engine.bind`: one FeatureModel for every layer it reads, at any image
size, or at a fixed-size model's own size with a differentiable resize inside the step), then
runs the compiled loop of `engine.build_loop` `steps_per_call` steps per call; a progress bar
moves between calls. Each step: render the parameterization to pixels, apply random jitter /
zoom / rotation (and DeepDream's random roll + tiles) inside the tape, score, take the gradient,
normalize it per image, update with the optimizer (`optimizers.GradientAscent`, `Adam`), then
periodically blur, clip small pixels and project to the valid pixel range. Octaves run the same
loop on successively larger images.

The engine **maximizes**: the loss it descends is `-objective` (the one sign flip).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Tuple, Union

import numpy as np
import tensorflow as tf

from ..backbones import as_backbone
from ..checks import check_int, check_number
from ..errors import ModelError, ParameterError
from ..images import resize_image, to_uint8
from ..progress import progress_bar
from .ascent_options import MIN_SIZE, Ascent, Execution, Regularization
from .engine import bind, build_loop
from .keywords import moved_fields, moved_keywords
from .objective_type import Objective
from .parameterization import make_parameterization
from .parameterization_base import Parameterization
from .settings import Settings, image_size

__all__ = ["optimize", "OptimizeResult", "MOVED", "RECORDS"]

@dataclass
class OptimizeResult:
    """What `optimize` returns.

    Attributes:
        images: float32 `(N, H, W, 3)` in `[0, 255]` (the last octave's size).
        history: float32 `(steps, N)`: the objective of each image at each step (on the
            transformed image the step saw; all octaves, in order).
        steps: int `(N,)` steps each image ran (smaller than the total when `until` stopped it).
        param: The parameterization, holding the final variables.
        function: The compiled loop (a `tf.function`; `experimental_get_tracing_count()` tells
            how often it was traced).
    """

    images: np.ndarray
    history: np.ndarray
    steps: np.ndarray
    param: Parameterization
    function: Any

    def uint8(self) -> np.ndarray:
        """The images as `uint8` `(N, H, W, 3)`."""
        return to_uint8(self.images)


def _size_error(error: Exception, size: Tuple[int, ...], model: Any) -> ModelError:
    return ModelError(
        f"The model cannot run on images of size {size} ({type(error).__name__}). Use a larger size "
        f"(its input size is {as_backbone(model).input_size}). Received: size={size}"
    )


def _octave_size(size: Tuple[int, int], scale: float, power: int) -> Tuple[int, int]:
    return tuple(max(1, int(round(s / scale**power))) for s in size)  # type: ignore[return-value]


#: `optimize`'s option records by keyword.
RECORDS = {"ascent": Ascent, "regularization": Regularization, "execution": Execution}
#: Where the keywords `optimize` took before its option records went.
MOVED = moved_fields(RECORDS)


@moved_keywords(MOVED)
def optimize(
    model: Any,
    objective: Objective,
    *,
    param: Union[str, Parameterization] = "pixel",
    size: Union[int, Tuple[int, int]] = 128,
    batch: Optional[int] = None,
    images: Any = None,
    steps: int = 128,
    octaves: int = 1,
    steps_per_call: int = 16,
    ascent: Ascent = Ascent(),
    regularization: Regularization = Regularization(),
    execution: Execution = Execution(),
) -> OptimizeResult:
    """Maximize an objective over images by compiled, regularized gradient ascent.

    Args:
        model: A `Backbone` or a Keras model taking pixels in `[0, 255]`.
        objective: The `Objective` to maximize (subtract penalties / losses; see objectives).
        param: `"pixel"`, `"decorrelated"`, `"fourier"` or a `Parameterization` instance (then
            `size`, `batch` and `images` are taken from it).
        size: Image size of the last octave, an int or `(height, width)`, each >= 16.
        batch: Number of images N; defaults to the objective's per-image index count, the
            number of `images`, or 1.
        images: Optional pixels `(N, H, W, 3)` / `(H, W, 3)` in `[0, 255]` to start from
            (their size is used; `size` is ignored).
        steps: Steps per octave (>= 1).
        octaves: Number of scales in [1, 16]; octave k runs at
            `size / ascent.octave_scale^(octaves-1-k)`, the image upscaled between octaves.
        steps_per_call: Steps per compiled call (the progress bar moves between calls), >= 1.
        ascent: How the image climbs: `Ascent(optimizer, step_size, normalize_grad,
            octave_scale, tile_size)`. Tiles only work for objectives without per-image indices.
        regularization: What keeps it natural: `Regularization(transforms, blur_every,
            blur_sigma, clip_percentile, contribution_percentile)`; `PLAIN` (no transforms) for
            plain ascent.
        execution: How it runs: `Execution(seed, until, progress, jit_compile, input_shape, desc)`.

    Returns:
        An `OptimizeResult` (images float32 `(N, H, W, 3)` in `[0, 255]`, per-step history).

    Raises:
        ParameterError: An argument is out of range or of the wrong type (a keyword that moved
            into a record says which record).
        LayerNotFoundError: The objective names an unknown layer.
        TargetError: A class index is out of range.
        ModelError: The model cannot run at the requested size.
        ImageError: `images` are not valid pixel images.
    """
    if not isinstance(objective, Objective):
        raise ParameterError(
            "`objective` must be a kerasviz Objective (e.g. `class_score(285) - 1e-3 * l2()`). "
            f"Received: objective of type {type(objective).__name__}"
        )
    backbone = as_backbone(model)
    settings = Settings.validate(steps=steps, octaves=octaves, steps_per_call=steps_per_call, ascent=ascent,
                                 regularization=regularization, execution=execution)
    ascent, execution = settings.ascent, settings.execution
    if ascent.tile_size is not None and objective.n_images is not None:
        raise ParameterError(
            f"Tiled optimization needs an objective without per-image indices. Received: objective={objective.name}"
        )
    param, sizes = _parameterization(param, images, size, batch, objective, settings)
    n_images = param.shape[0]
    bound = bind(backbone, objective, execution.input_shape)
    rate = ascent.step_size if ascent.step_size is not None else ascent.optimizer.learning_rate
    rate = check_number(rate if rate is not None else param.default_step_size, "step_size", low=0.0, open_low=True)
    loop = build_loop(bound, objective, param, ascent.optimizer, ascent.grad_mode, settings.regularization.transformed,
                      ascent.tile_size is not None, execution.jit_compile)
    numbers = settings.tensors(rate)
    hyper = tf.constant(ascent.optimizer.constants())
    objective_values = tuple(tf.constant(v) for v in objective.values)
    seed_tensor = tf.constant([execution.seed or 0, 0], tf.int32)
    until = execution.until

    active = np.ones(n_images, np.float32)
    done_steps = np.zeros(n_images, np.int64)
    history = []
    t = 0
    with progress_bar(total=settings.steps * settings.octaves, desc=execution.desc, progress=execution.progress,
                      unit="step") as bar:
        for k, octave_size in enumerate(sizes):
            if k > 0:
                param.assign_image(resize_image(param.image().numpy(), octave_size))
            values = tuple(tf.convert_to_tensor(v) for v in param.variables)
            first = tuple(tf.zeros_like(v) for v in values)
            second = tuple(tf.zeros_like(v) for v in values)
            constants = tuple(tf.convert_to_tensor(c) for c in param.constants())
            remaining = settings.steps
            while remaining > 0 and active.any():
                n = min(settings.steps_per_call, remaining)
                try:
                    values, first, second, scores = loop(
                        values, first, second, constants, objective_values, tf.constant(active),
                        tf.constant(n, tf.int32), tf.constant(t, tf.int32), numbers, hyper, seed_tensor,
                    )
                except (tf.errors.InvalidArgumentError, tf.errors.AbortedError) as error:
                    # a feature map smaller than a kernel; oneDNN aborts on tiny pooling / depthwise maps
                    raise _size_error(error, octave_size, backbone) from None
                history.append(scores.numpy())
                done_steps += (active > 0) * n
                remaining -= n
                t += n
                bar.update(n)
                if until is not None:
                    active = _still_active(until, param.render(values, constants).numpy(), active)
                    if not active.any():
                        break
            param.assign(values)
    return OptimizeResult(
        images=np.clip(param.image().numpy().astype(np.float32), 0.0, 255.0),
        history=np.concatenate(history, axis=0) if history else np.zeros((0, n_images), np.float32),
        steps=done_steps,
        param=param,
        function=loop,
    )


def _still_active(until: Callable, current: np.ndarray, active: np.ndarray) -> np.ndarray:
    stopped = np.asarray(until(current), bool).reshape(-1)
    if stopped.shape != active.shape:
        raise ParameterError(f"`until` must return one bool per image ({len(active)}). Received: shape {stopped.shape}")
    return np.where(stopped, 0.0, active).astype(np.float32)


def _parameterization(param, images, size, batch, objective, settings: Settings):
    """The parameterization at the first octave's size, and every octave's size."""
    if isinstance(param, Parameterization):
        final_size, n_images = param.shape[1:], param.shape[0]
    elif images is not None:
        param = make_parameterization(param, images=images)
        n_images, final_size = param.shape[0], param.shape[1:]
    else:
        final_size = image_size(size)
        n_images = check_int(batch, "batch", low=1, high=4096) if batch is not None else (objective.n_images or 1)
        start_size = _octave_size(final_size, settings.ascent.octave_scale, settings.octaves - 1)
        param = make_parameterization(param, shape=(n_images,) + start_size, seed=settings.execution.seed)
    objective.check_batch(n_images)
    scale = settings.ascent.octave_scale
    sizes = [_octave_size(final_size, scale, settings.octaves - 1 - k) for k in range(settings.octaves)]
    if min(min(s) for s in sizes) < MIN_SIZE:
        raise ParameterError(
            f"The smallest octave would be {min(sizes)} pixels, below {MIN_SIZE}: use fewer octaves, a smaller "
            f"octave_scale or a larger image. Received: octaves={settings.octaves}, size={final_size}"
        )
    if tuple(param.shape[1:]) != sizes[0]:
        param.assign_image(resize_image(param.image().numpy(), sizes[0]))
    return param, sizes
