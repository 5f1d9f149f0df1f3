"""SmoothGrad (Smilkov et al. 2017) as a noise tunnel: average ANY attribution over noisy copies.

As Captum's `NoiseTunnel`, the wrapper knows nothing about the method it wraps: it draws the
noisy copies of every image, streams them through the method in batches, and averages the
results per image. Built-in methods are named by a string; any callable
`method(model, images, target) -> (N, ...)` (e.g. `kerasviz.gradient_x_input`) works too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

import numpy as np

from ..checks import check_choice, check_fraction, check_int
from ..compiled import batch_slices
from ..errors import ParameterError
from ..progress import progress_bar
from ..registry import technique_names
from ..targets import TargetLike
from .guided_backprop import guided_attributions
from .guided_clone import guided_model, warn_unguided
from .inputs import AttributionInputs, prepare_inputs, scale_to_unit, squeeze, sum_by_image
from .integrated_gradients import integrate
from .saliency import saliency_attributions

__all__ = ["NoiseTunnelMethod", "smoothgrad"]

#: Methods named by a string (any callable is accepted too).
SMOOTHGRAD_METHODS = technique_names(noise_tunnel=True)

AttributionFunction = Callable[..., Any]


@dataclass(frozen=True)
class NoiseTunnelMethod:
    """What the noise tunnel needs to know about a wrapped method.

    Attributes:
        attribute: `attribute(chunk, bar) -> (M, ...)` raw attributions of a chunk of noisy
            images (an `AttributionInputs`), advancing `bar` by the model passes done.
        cost: Model passes per noisy image (sizes the chunks and the progress bar).
        finish: Turns the per-image mean `(N, ...)` into the result.
    """

    attribute: Callable[[AttributionInputs, Any], np.ndarray]
    cost: int = 1
    finish: Callable[[np.ndarray], np.ndarray] = lambda mean: mean


def _wrap_callable(fn: AttributionFunction, model: Any) -> NoiseTunnelMethod:
    """A user's `fn(model, images, target) -> (M, ...)` as a noise-tunnel method (the noisy
    copies are clipped to `[0, 255]`, the pixel range every public technique accepts)."""

    def attribute(chunk: AttributionInputs, bar: Any) -> np.ndarray:
        pixels = np.clip(chunk.images, 0.0, 255.0)
        values = np.asarray(fn(model, pixels, chunk.target_argument()), np.float32)
        if values.ndim < 1 or len(values) != len(chunk.images) or not np.isfinite(values).all():
            raise ParameterError(
                f"`method` must return finite attributions, one per image ({len(chunk.images)} "
                f"here). Received: method={fn!r} returning shape {values.shape}"
            )
        bar.update(len(chunk.images))
        return values

    return NoiseTunnelMethod(attribute)


def _builtin(name: str, steps: int, batch_size: int, jit_compile: bool) -> NoiseTunnelMethod:
    options = dict(batch_size=batch_size, jit_compile=jit_compile)
    if name == "saliency":
        return NoiseTunnelMethod(
            lambda c, bar: saliency_attributions(c, bar=bar, **options), finish=scale_to_unit
        )
    if name == "guided_backprop":
        return NoiseTunnelMethod(lambda c, bar: guided_attributions(c, bar=bar, **options))
    return NoiseTunnelMethod(  # noise is added to the image, not to the black baseline
        lambda c, bar: integrate(c, np.zeros_like(c.images), steps=steps, bar=bar, **options)
        .attributions,
        cost=steps + 1,
    )


def smoothgrad(
    model: Any,
    images: Any,
    target: Optional[TargetLike] = None,
    *,
    samples: int = 50,
    noise: float = 0.15,
    method: Union[str, AttributionFunction] = "saliency",
    steps: int = 16,
    seed: Optional[int] = None,
    batch_size: int = 32,
    progress: Optional[bool] = None,
    jit_compile: bool = False,
) -> np.ndarray:
    """SmoothGrad (Smilkov et al.): average an attribution over noisy copies of each image.

    Gaussian noise with standard deviation `noise * (max(x) - min(x))` (per image, pixel
    units) is added to `samples` copies; the copies of all images go through the wrapped method
    in chunks (of at most `batch_size` model inputs for the built-in methods), and the
    attributions are averaged per image: a noise tunnel, as in Captum, around any method.

    Args:
        model: A `Backbone` or a `keras.Model` taking pixels in `[0, 255]`.
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`.
        target: Class index, one per image, callable on logits, or `None` (predicted class).
        samples: Noisy copies per image, `>= 1`.
        noise: Noise level relative to the image's value range, in `[0, 1]` (0.1-0.2 works
            best in the paper).
        method: `"saliency"` (average of max-|gradient| maps), `"guided_backprop"` or
            `"integrated_gradients"` (black baseline, `steps` intervals, the defaults of
            `integrated_gradients`; noise is added to the image, not the baseline); or any
            callable `method(model, images (M, H, W, 3), target) -> (M, ...)` returning one
            attribution per image, called with chunks of at most `batch_size` noisy copies and
            their class indices `(M,)` (or the callable target), e.g. `kerasviz.gradient_x_input`
            (copies handed to a callable are clipped to `[0, 255]`, the range public techniques
            accept; built-in methods see them unclipped).
        steps: Path intervals for `method="integrated_gradients"`.
        seed: Seed of the noise, for reproducible maps.
        batch_size: Largest batch per compiled call (noisy copies per call of a callable).
        progress: Show a progress bar (`None`: global setting).
        jit_compile: Compile the gradient with XLA (built-in methods).

    Returns:
        For `"saliency"`: float32 `(N, H, W)` in `[0, 1]` (divided by its maximum). For the
        other methods: float32 `(N, ...)` averaged raw attributions (`(N, H, W, 3)` for the
        built-in ones). A single image gives a result without the batch axis.

    Raises:
        ImageError: Invalid images.
        TargetError: Invalid target.
        ModelError: Unusable model or image size.
        ParameterError: Bad `samples`, `noise`, `method`, `steps`, `seed` or `batch_size`, or
            a callable method that does not return one finite attribution per image.
    """
    samples = check_int(samples, "samples", low=1)
    noise = check_fraction(noise, "noise")
    if not callable(method):
        check_choice(method, "method", SMOOTHGRAD_METHODS)
    steps = check_int(steps, "steps", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    if seed is not None:
        seed = check_int(seed, "seed", low=0)
    inputs = prepare_inputs(model, images, target, batch_size, technique="smoothgrad")
    if callable(method):
        tunnel = _wrap_callable(method, model)
    else:
        if method == "guided_backprop":
            warn_unguided(guided_model(inputs.backbone.model))
        tunnel = _builtin(method, steps, batch_size, jit_compile)
    batch = inputs.images
    sigma = noise * (batch.max(axis=(1, 2, 3)) - batch.min(axis=(1, 2, 3)))
    rng = np.random.default_rng(seed)
    image_of = np.repeat(np.arange(len(batch)), samples)
    per_call = max(1, batch_size // tunnel.cost)
    summed: Optional[np.ndarray] = None
    with progress_bar(total=len(image_of) * tunnel.cost, desc="smoothgrad", progress=progress) as bar:
        for part in batch_slices(len(image_of), per_call):
            who = image_of[part]
            noisy = batch[who] + rng.standard_normal(batch[who].shape, np.float32) * sigma[
                who, None, None, None
            ].astype(np.float32)
            attributions = tunnel.attribute(inputs.select(who, noisy), bar)
            if summed is None:
                summed = np.zeros((len(batch),) + attributions.shape[1:], np.float64)
            sum_by_image(summed, who, attributions)
    mean = tunnel.finish((summed / samples).astype(np.float32))
    return squeeze(mean, inputs.single)
