"""The one gradient-ascent engine: maximize an objective over an image parameterization.

`optimize(model, objective, ...)` builds ONE `FeatureModel` with every layer the objective reads
(at any image size), then runs a compiled `tf.function` (fixed input signature, cached per
model / objective structure / parameterization / options) that does `steps_per_call` steps in a
`tf.range` loop; a progress bar moves between calls. Each step: render the parameterization to
pixels, apply random jitter / zoom / rotation (and DeepDream's random roll + tiles) inside the
tape, score, take the gradient, normalize it per image, update (normalized gradient ascent,
momentum SGD or Adam), then periodically blur, clip small pixels and project to the valid pixel
range. Octaves run the same loop on successively larger images.

Everything that changes between calls — objective values (class / channel indices, targets),
step size, transform ranges, blur and clipping settings, optimizer constants, the active mask —
is a tensor input, so the function is traced once per structure, whatever the numbers or the
image size.

The engine **maximizes**: the loss it descends is `-objective` (the one sign flip).
"""

from __future__ import annotations

import math
import numbers
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, Union

import keras
import numpy as np
import tensorflow as tf

from ..backbones import as_backbone
from ..errors import KerasvizError, ModelError, ParameterError
from ..images import resize_image, to_uint8
from ..progress import progress_bar
from .objectives import Objective, objective_outputs
from .parameterization import Parameterization, make_parameterization
from .transforms import Transforms, clip_small_pixels, gaussian_blur, random_affine, tiles, untile

__all__ = ["optimize", "OptimizeResult", "Transforms", "MIN_SIZE"]

#: Smallest image side the engine optimizes (feature maps of deep layers vanish below it).
MIN_SIZE = 16

_SETTINGS = (
    "step_size",
    "jitter",
    "scale_low",
    "scale_high",
    "degrees",
    "blur_every",
    "blur_sigma",
    "norm_percentile",
    "contribution_percentile",
    "beta_1",
    "beta_2",
    "epsilon",
    "tile_size",
)
_S = {name: i for i, name in enumerate(_SETTINGS)}


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


# -- validation ------------------------------------------------------------------------------------
def _number(value: Any, name: str, low: float = -math.inf, high: float = math.inf, *, open_low: bool = False) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ParameterError(f"`{name}` must be a finite number. Received: {name}={value!r}")
    value = float(value)
    if value < low or value > high or (open_low and value == low):
        bound = f"({low:g}, {high:g}]" if open_low else f"[{low:g}, {high:g}]"
        raise ParameterError(f"`{name}` must be in {bound}. Received: {name}={value!r}")
    return value


def _integer(value: Any, name: str, low: int, high: float = math.inf) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or not low <= value <= high:
        raise ParameterError(f"`{name}` must be an integer in [{low}, {high:g}]. Received: {name}={value!r}")
    return int(value)


def image_size(size: Any, name: str = "size") -> Tuple[int, int]:
    """Validate an image size: an int `s` (square) or `(height, width)`, each at least `MIN_SIZE`.

    Args:
        size: The size.
        name: Argument name for messages.

    Returns:
        `(height, width)`.

    Raises:
        ParameterError: Not a positive integer pair, or smaller than `MIN_SIZE`.
    """
    pair = (size, size) if isinstance(size, numbers.Integral) and not isinstance(size, bool) else size
    try:
        height, width = (int(v) for v in pair)
        valid = all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in pair)
    except (TypeError, ValueError):
        valid = False
    if not valid or height < MIN_SIZE or width < MIN_SIZE:
        raise ParameterError(
            f"`{name}` must be an integer or (height, width), each at least {MIN_SIZE} pixels. "
            f"Received: {name}={size!r}"
        )
    return height, width


@dataclass(frozen=True)
class _Optimizer:
    kind: str  # "sgd" (momentum, 0 = plain) or "adam"
    beta_1: float
    beta_2: float
    epsilon: float
    learning_rate: Optional[float]


def _optimizer(optimizer: Any) -> _Optimizer:
    if optimizer is None or optimizer == "sgd":
        return _Optimizer("sgd", 0.0, 0.0, 1e-8, None)
    if optimizer == "adam":
        return _Optimizer("adam", 0.9, 0.999, 1e-7, None)
    if isinstance(optimizer, keras.optimizers.Optimizer):
        config = optimizer.get_config()
        rate = config.get("learning_rate")
        rate = float(rate) if isinstance(rate, numbers.Real) else None
        if isinstance(optimizer, keras.optimizers.Adam) and not config.get("amsgrad"):
            return _Optimizer("adam", float(config["beta_1"]), float(config["beta_2"]), float(config["epsilon"]), rate)
        if isinstance(optimizer, keras.optimizers.SGD) and not config.get("nesterov"):
            return _Optimizer("sgd", float(config["momentum"]), 0.0, 1e-8, rate)
    raise ParameterError(
        "`optimizer` must be None (normalized gradient ascent), 'sgd', 'adam', or a "
        "keras.optimizers.Adam (without amsgrad) / SGD (without nesterov) instance, whose "
        f"hyper-parameters the compiled loop uses. Received: optimizer={optimizer!r}"
    )


# -- the compiled loop -----------------------------------------------------------------------------
_LOOPS: "weakref.WeakKeyDictionary[keras.Model, Dict[tuple, Any]]" = weakref.WeakKeyDictionary()


def _specs(arrays: Sequence[Any]) -> Tuple[tf.TensorSpec, ...]:
    specs = []
    for array in arrays:
        tensor = tf.convert_to_tensor(array)
        specs.append(tf.TensorSpec([None] * tensor.shape.rank, tensor.dtype))
    return tuple(specs)


def _per_image_normalized(gradient: tf.Tensor, mode: str) -> tf.Tensor:
    if mode == "sign":
        return tf.sign(gradient)
    if mode == "mean":
        axes = tf.range(1, tf.rank(gradient))
        return gradient / (tf.reduce_mean(tf.abs(gradient), axis=axes, keepdims=True) + 1e-12)
    return gradient


def _mask(active: tf.Tensor, like: tf.Tensor) -> tf.Tensor:
    """`(N,)` active mask broadcast against a batch-first tensor."""
    shape = tf.concat([tf.shape(active), tf.ones([tf.rank(like) - 1], tf.int32)], axis=0)
    return tf.reshape(active, shape)


def _build_loop(
    features: Any,
    objective: Objective,
    param: Parameterization,
    optimizer: _Optimizer,
    grad_mode: str,
    transformed: bool,
    tiled: bool,
    jit_compile: bool,
):
    var_specs = _specs([v.numpy() for v in param.variables])
    signature = (
        var_specs,  # variable values
        var_specs,  # first moments (momentum / Adam m)
        var_specs,  # second moments (Adam v)
        _specs(param.constants()),
        objective.value_specs,
        tf.TensorSpec([None], tf.float32),  # active mask (N,)
        tf.TensorSpec([], tf.int32),  # steps in this call
        tf.TensorSpec([], tf.int32),  # global step counter at the start
        tf.TensorSpec([len(_SETTINGS)], tf.float32),
        tf.TensorSpec([2], tf.int32),  # random seed
    )

    def scores(pixels, objective_values, settings, seed):
        images = pixels
        if transformed:
            images = random_affine(images, settings[_S["jitter"] : _S["degrees"] + 1], seed)
        if tiled:
            tile = tf.cast(settings[_S["tile_size"]], tf.int32)
            shift = tf.random.stateless_uniform([2], seed=seed + 1, maxval=tile, dtype=tf.int32)
            batch, count = tiles(tf.roll(images, shift, axis=[1, 2]), tile)
            return untile(objective.apply(objective_outputs(features, batch), objective_values), count)
        return objective.apply(objective_outputs(features, images), objective_values)

    def run(values, first, second, constants, objective_values, active, n_steps, t0, settings, seed):
        history = tf.TensorArray(tf.float32, size=n_steps)
        for i in tf.range(n_steps):
            t = t0 + i
            step_seed = tf.stack([seed[0], seed[1] + t])
            with tf.GradientTape() as tape:
                tape.watch(values)
                pixels = param.render(values, constants)
                value = scores(pixels, objective_values, settings, step_seed)
                total = tf.reduce_sum(value * active)
            gradients = tape.gradient(total, list(values) + [pixels])
            pixel_gradient = gradients[-1]
            updated, new_first, new_second = [], [], []
            for var, grad, m, v in zip(values, gradients[:-1], first, second):
                grad = _per_image_normalized(tf.zeros_like(var) if grad is None else grad, grad_mode)
                mask = _mask(active, var)
                rate = settings[_S["step_size"]]
                if optimizer.kind == "adam":
                    b1, b2 = settings[_S["beta_1"]], settings[_S["beta_2"]]
                    m_next = b1 * m + (1.0 - b1) * grad
                    v_next = b2 * v + (1.0 - b2) * tf.square(grad)
                    count = tf.cast(t + 1, tf.float32)
                    step = (m_next / (1.0 - tf.pow(b1, count))) / (
                        tf.sqrt(v_next / (1.0 - tf.pow(b2, count))) + settings[_S["epsilon"]]
                    )
                else:
                    m_next = settings[_S["beta_1"]] * m + grad
                    v_next = v
                    step = m_next
                updated.append(var + rate * mask * step)  # ascent: the loss is -objective
                new_first.append(mask * m_next + (1.0 - mask) * m)
                new_second.append(mask * v_next + (1.0 - mask) * v)
            values = tuple(updated)
            first, second = tuple(new_first), tuple(new_second)

            blur_every = tf.cast(settings[_S["blur_every"]], tf.int32)
            do_blur = tf.logical_and(blur_every > 0, (t + 1) % tf.maximum(blur_every, 1) == 0)
            do_clip = tf.logical_or(settings[_S["norm_percentile"]] > 0, settings[_S["contribution_percentile"]] > 0)

            def postprocess(values=values):
                image = param.render(values, constants)
                blurred = tf.cond(
                    do_blur, lambda: gaussian_blur(image, settings[_S["blur_sigma"]]), lambda: image
                )
                clipped = clip_small_pixels(
                    blurred,
                    pixel_gradient,
                    settings[_S["norm_percentile"]],
                    settings[_S["contribution_percentile"]],
                )
                encoded = param.encode(clipped)
                return tuple(
                    _mask(active, old) * new + (1.0 - _mask(active, old)) * old for old, new in zip(values, encoded)
                )

            values = tf.cond(tf.logical_or(do_blur, do_clip), postprocess, lambda: values)
            values = tuple(param.project(values, constants))
            history = history.write(i, value)
        return values, first, second, history.stack()

    return tf.function(run, input_signature=signature, jit_compile=jit_compile, reduce_retracing=True)


def _loop(model, features, objective, param, optimizer, grad_mode, transformed, tiled, jit_compile):
    source = features.model if features is not None else as_backbone(model).model
    per_model = _LOOPS.setdefault(source, {})
    key = (
        objective.key,
        tuple(s.dtype for s in objective.value_specs),
        tuple(s.shape.rank for s in objective.value_specs),
        param.key,
        tuple(len(v.shape) for v in param.variables),
        optimizer.kind,
        grad_mode,
        transformed,
        tiled,
        bool(jit_compile),
    )
    if key not in per_model:
        per_model[key] = _build_loop(features, objective, param, optimizer, grad_mode, transformed, tiled, jit_compile)
    return per_model[key]


# -- the public entry point ---------------------------------------------------------------------------
def _size_error(error: Exception, size: Tuple[int, ...], model: Any) -> ModelError:
    return ModelError(
        f"The model cannot run on images of size {size} ({type(error).__name__}). Use a larger size "
        f"(its input size is {as_backbone(model).input_size}). Received: size={size}"
    )


def optimize(
    model: Any,
    objective: Objective,
    *,
    param: Union[str, Parameterization] = "pixel",
    size: Union[int, Tuple[int, int]] = 128,
    batch: Optional[int] = None,
    images: Any = None,
    steps: int = 128,
    step_size: Optional[float] = None,
    transforms: Optional[Transforms] = Transforms(),
    octaves: int = 1,
    octave_scale: float = 1.4,
    blur_every: int = 0,
    blur_sigma: float = 0.5,
    clip_percentile: float = 0.0,
    contribution_percentile: float = 0.0,
    normalize_grad: Union[bool, str] = True,
    steps_per_call: int = 16,
    optimizer: Any = None,
    tile_size: Optional[int] = None,
    until: Optional[Callable[[np.ndarray], np.ndarray]] = None,
    seed: Optional[int] = 0,
    progress: Optional[bool] = None,
    jit_compile: bool = False,
    input_shape: Sequence[Optional[int]] = (None, None, 3),
    desc: str = "optimize",
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
        step_size: Step length: in pixel levels per step of mean |change| for `"pixel"` with
            normalized gradients, or the learning rate in the parameterization's units.
            Defaults to the optimizer's learning rate, else 1.0 for pixels and 0.05 otherwise.
        transforms: Random jitter / zoom / rotation applied inside the tape each step, or `None`.
        octaves: Number of scales (>= 1); octave k runs at `size / octave_scale^(octaves-1-k)`,
            the image upscaled between octaves.
        octave_scale: Size ratio between octaves (> 1).
        blur_every: Blur the image every this many steps (0 = never).
        blur_sigma: Standard deviation of that blur in pixels (> 0).
        clip_percentile: Each step, set pixels whose distance from grey is below this
            percentile (0..100) to grey (Yosinski et al.); 0 disables.
        contribution_percentile: Each step, set pixels whose |(pixel - grey) · gradient| is below
            this percentile to grey; 0 disables.
        normalize_grad: `True`: divide each image's gradient by its mean absolute value;
            `"sign"`: use its sign (FGSM / PGD); `False`: raw gradient.
        steps_per_call: Steps per compiled call (the progress bar moves between calls).
        optimizer: `None` / `"sgd"` (gradient ascent), `"adam"`, or a `keras.optimizers.Adam` /
            `SGD` instance whose hyper-parameters (learning rate, betas / momentum, epsilon) the
            compiled loop uses (its own variables are not touched).
        tile_size: Score the image as a batch of tiles of this size after a random roll
            (DeepDream on large images); `None` scores whole images. Only for objectives without
            per-image indices.
        until: Optional `until(images) -> (N,) bool`, called between compiled calls with the
            current float pixels; images marked `True` stop changing, and the run ends when all
            have stopped.
        seed: Seed of the starting noise and of the random transforms.
        progress: Show a progress bar (`None`: global setting).
        jit_compile: Compile the loop with XLA.
        input_shape: FeatureModel input shape; `(None, None, 3)` runs any image size.
        desc: Label of the progress bar.

    Returns:
        An `OptimizeResult` (images float32 `(N, H, W, 3)` in `[0, 255]`, per-step history).

    Raises:
        ParameterError: An argument is out of range or of the wrong type.
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
    steps = _integer(steps, "steps", 1)
    octaves = _integer(octaves, "octaves", 1, 16)
    octave_scale = _number(octave_scale, "octave_scale", 1.0, 8.0, open_low=True)
    blur_every = _integer(blur_every, "blur_every", 0)
    blur_sigma = _number(blur_sigma, "blur_sigma", 0.0, 50.0, open_low=True)
    clip_percentile = _number(clip_percentile, "clip_percentile", 0.0, 100.0)
    contribution_percentile = _number(contribution_percentile, "contribution_percentile", 0.0, 100.0)
    steps_per_call = _integer(steps_per_call, "steps_per_call", 1)
    if transforms is not None and not isinstance(transforms, Transforms):
        raise ParameterError(
            f"`transforms` must be a Transforms(...) or None. Received: transforms={transforms!r}"
        )
    if normalize_grad is True:
        grad_mode = "mean"
    elif normalize_grad is False:
        grad_mode = "none"
    elif normalize_grad == "sign":
        grad_mode = "sign"
    else:
        raise ParameterError(f"`normalize_grad` must be True, False or 'sign'. Received: normalize_grad={normalize_grad!r}")
    if until is not None and not callable(until):
        raise ParameterError(f"`until` must be callable or None. Received: until={until!r}")
    if tile_size is not None:
        tile_size = _integer(tile_size, "tile_size", MIN_SIZE)
        if objective.n_images is not None:
            raise ParameterError(
                "Tiled optimization needs an objective without per-image indices. Received: "
                f"objective={objective.name}"
            )
    settings_optimizer = _optimizer(optimizer)
    if seed is not None:
        seed = _integer(seed, "seed", 0, 2**31 - 1)

    # the parameterization and the sizes of the octaves
    if isinstance(param, Parameterization):
        final_size = param.shape[1:]
        n_images = param.shape[0]
    elif images is not None:
        param = make_parameterization(param, images=images)
        n_images, final_size = param.shape[0], param.shape[1:]
    else:
        final_size = image_size(size)
        n_images = _integer(batch, "batch", 1, 4096) if batch is not None else (objective.n_images or 1)
        start_size = _octave_size(final_size, octave_scale, octaves - 1)
        param = make_parameterization(param, shape=(n_images,) + start_size, seed=seed)
    objective.check_batch(n_images)
    sizes = [_octave_size(final_size, octave_scale, octaves - 1 - k) for k in range(octaves)]
    if min(min(s) for s in sizes) < MIN_SIZE:
        raise ParameterError(
            f"The smallest octave would be {min(sizes)} pixels, below {MIN_SIZE}: use fewer octaves, "
            f"a smaller octave_scale or a larger image. Received: octaves={octaves}, size={final_size}"
        )
    if tuple(param.shape[1:]) != sizes[0]:
        param.assign_image(resize_image(param.image().numpy(), sizes[0]))

    features = objective.feature_model(backbone, input_shape=input_shape)
    if step_size is None:
        step_size = settings_optimizer.learning_rate
    if step_size is None:
        step_size = 1.0 if type(param).__name__ == "PixelImage" else 0.05
    step_size = _number(step_size, "step_size", 0.0, math.inf, open_low=True)
    loop = _loop(
        backbone,
        features,
        objective,
        param,
        settings_optimizer,
        grad_mode,
        transforms is not None and not transforms.is_identity,
        tile_size is not None,
        jit_compile,
    )
    jitter = transforms.values() if transforms is not None else np.array([0, 1, 1, 0], np.float32)
    settings = np.zeros(len(_SETTINGS), np.float32)
    settings[[_S[k] for k in ("jitter", "scale_low", "scale_high", "degrees")]] = jitter
    for name, value in (
        ("step_size", step_size),
        ("blur_every", blur_every),
        ("blur_sigma", blur_sigma),
        ("norm_percentile", clip_percentile),
        ("contribution_percentile", contribution_percentile),
        ("beta_1", settings_optimizer.beta_1),
        ("beta_2", settings_optimizer.beta_2),
        ("epsilon", settings_optimizer.epsilon),
        ("tile_size", tile_size or 0),
    ):
        settings[_S[name]] = value
    objective_values = tuple(tf.constant(v) for v in objective.values)
    seed_tensor = tf.constant([seed or 0, 0], tf.int32)

    active = np.ones(n_images, np.float32)
    done_steps = np.zeros(n_images, np.int64)
    history = []
    t = 0
    with progress_bar(total=steps * octaves, desc=desc, progress=progress, unit="step") as bar:
        for k, octave_size in enumerate(sizes):
            if k > 0:
                param.assign_image(resize_image(param.image().numpy(), octave_size))
            values = tuple(tf.convert_to_tensor(v) for v in param.variables)
            first = tuple(tf.zeros_like(v) for v in values)
            second = tuple(tf.zeros_like(v) for v in values)
            constants = tuple(tf.convert_to_tensor(c) for c in param.constants())
            remaining = steps
            while remaining > 0 and active.any():
                n = min(steps_per_call, remaining)
                try:
                    values, first, second, scores = loop(
                        values,
                        first,
                        second,
                        constants,
                        objective_values,
                        tf.constant(active),
                        tf.constant(n, tf.int32),
                        tf.constant(t, tf.int32),
                        tf.constant(settings),
                        seed_tensor,
                    )
                except tf.errors.InvalidArgumentError as error:  # e.g. a feature map smaller than a kernel
                    raise _size_error(error, octave_size, backbone) from None
                history.append(scores.numpy())
                done_steps += (active > 0) * n
                remaining -= n
                t += n
                bar.update(n)
                if until is not None:
                    current = param.render(values, constants).numpy()
                    stopped = np.asarray(until(current), bool).reshape(-1)
                    if stopped.shape != (n_images,):
                        raise ParameterError(
                            f"`until` must return one bool per image ({n_images}). Received: "
                            f"shape {stopped.shape}"
                        )
                    active = np.where(stopped, 0.0, active).astype(np.float32)
                    if not active.any():
                        break
            param.assign(values)
    images_out = param.image().numpy().astype(np.float32)
    return OptimizeResult(
        images=np.clip(images_out, 0.0, 255.0),
        history=np.concatenate(history, axis=0) if history else np.zeros((0, n_images), np.float32),
        steps=done_steps,
        param=param,
        function=loop,
    )


def _octave_size(size: Tuple[int, int], scale: float, power: int) -> Tuple[int, int]:
    return tuple(max(1, int(round(s / scale**power))) for s in size)  # type: ignore[return-value]
