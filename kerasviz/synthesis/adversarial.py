"""Fooling images and adversarial examples: tiny pixel changes that change the class.

Both run the synthesis engine on a `PixelImage` starting at the photo, with no random
transforms: `fooling_image` takes small normalized gradient steps on the target class's
log-probability until the model says the target (Szegedy et al. 2014, the lecture's "fooling
images"); `adversarial_example` runs FGSM (one signed step of size eps, Goodfellow et al. 2015)
or PGD (signed steps projected onto the L∞ ball, Madry et al. 2018), untargeted (away from the
predicted class) or targeted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import tensorflow as tf

from ..backbones import as_backbone
from ..checks import check_int, check_number
from ..errors import ModelError, ParameterError
from ..features import FeatureModel
from ..images import as_image_batch
from ..targets import resolve_target
from .activation_objectives import class_score
from .ascent_options import PLAIN, Ascent, Execution
from .optimize import optimize
from .pixel_image import PixelImage

__all__ = ["fooling_image", "FoolingReport", "adversarial_example"]


@dataclass(frozen=True)
class FoolingReport:
    """How a fooling image was made.

    Attributes:
        steps: Gradient steps run, per image `(N,)`.
        fooled: Whether the model now predicts the target, per image `(N,)`.
        original_class: The model's class for the original images `(N,)`.
        predicted_class: The model's class for the fooling images `(N,)`.
        target_probability: Softmax probability of the target on the fooling images `(N,)`.
        mean_abs_change: Mean |fooling - original| in pixel levels, per image `(N,)`.
        linf: Largest |fooling - original| in pixel levels, per image `(N,)`.
    """

    steps: np.ndarray
    fooled: np.ndarray
    original_class: np.ndarray
    predicted_class: np.ndarray
    target_probability: np.ndarray
    mean_abs_change: np.ndarray
    linf: np.ndarray


def _logits(model: Any, images: np.ndarray) -> np.ndarray:
    """Logits at the images' own size, or resized to a fixed-size classifier's (as the engine does)."""
    backbone = as_backbone(model)
    batch = tf.constant(images, tf.float32)
    shape = None if backbone.input_size == tuple(images.shape[1:3]) else (None, None, 3)
    try:
        features = FeatureModel(backbone, [], logits=True, input_shape=shape)
    except ModelError:
        if backbone.input_size is None:
            raise
        features = FeatureModel(backbone, [], logits=True, input_shape=None)
        batch = tf.image.resize(batch, backbone.input_size, "bilinear")
    return np.asarray(features(batch)["logits"], np.float32)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def fooling_image(
    model: Any,
    image: Any,
    target_class: Any,
    *,
    step_size: float = 0.25,
    max_steps: int = 200,
    confidence: float = 0.5,
    steps_per_call: int = 4,
    progress: Optional[bool] = None,
):
    """Change an image, as little as possible, until the model classifies it as `target_class`.

    Args:
        model: A `Backbone` or a Keras classifier taking pixels in `[0, 255]`.
        image: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]` (the classifier's size for
            fixed-size models).
        target_class: The class to reach, or one per image.
        step_size: Mean |change| of one step in pixel levels (> 0): the gradient of the target's
            log-probability, normalized per image.
        max_steps: Give up after this many steps.
        confidence: Stop an image once the target is the top class with at least this
            probability (0 < confidence < 1).
        steps_per_call: Steps per compiled call (the stop test runs between calls).
        progress: Show a progress bar (`None`: global setting).

    Returns:
        `(images, report)`: float32 pixels in `[0, 255]` of the input's shape (float so that
        sub-level changes survive; `to_uint8` may round them away), and a `FoolingReport`.

    Raises:
        ImageError: The image is invalid.
        TargetError: The target class is out of range.
        ParameterError: Another argument is invalid.
        ModelError: The model cannot run at the image's size.
    """
    batch, single = as_image_batch(image, name="image")
    backbone = as_backbone(model)
    target = resolve_target(target_class, len(batch), backbone.num_classes)
    step_size = check_number(step_size, "step_size", low=0.0, high=255.0, open_low=True)
    max_steps = check_int(max_steps, "max_steps", low=1)
    confidence = check_number(confidence, "confidence", low=0.0, high=1.0, open_low=True)
    if confidence >= 1.0:
        raise ParameterError(f"`confidence` must be below 1. Received: confidence={confidence!r}")
    original = _logits(backbone, batch).argmax(axis=1)
    goal = target.indices

    def reached(images: np.ndarray) -> np.ndarray:
        probabilities = _softmax(_logits(backbone, images))
        rows = np.arange(len(images))
        return (probabilities.argmax(axis=1) == goal) & (probabilities[rows, goal] >= confidence)

    start = reached(batch)
    result = optimize(
        backbone,
        class_score(goal, logits=False),
        param=PixelImage(batch),
        steps=max_steps,
        steps_per_call=steps_per_call,
        ascent=Ascent(step_size=step_size),
        regularization=PLAIN,
        execution=Execution(until=lambda images: reached(images) | start, input_shape=_input_shape(backbone, batch),
                            progress=progress, desc="fooling image"),
    )
    images = np.where(start[:, None, None, None], batch, result.images)
    probabilities = _softmax(_logits(backbone, images))
    change = np.abs(images - batch)
    report = FoolingReport(
        steps=np.where(start, 0, result.steps),
        fooled=reached(images),
        original_class=original,
        predicted_class=probabilities.argmax(axis=1),
        target_probability=probabilities[np.arange(len(images)), goal],
        mean_abs_change=change.mean(axis=(1, 2, 3)),
        linf=change.max(axis=(1, 2, 3)),
    )
    return (images[0] if single else images), report


def _input_shape(backbone: Any, batch: np.ndarray):
    return None if backbone.input_size == tuple(batch.shape[1:3]) else (None, None, 3)


def adversarial_example(
    model: Any,
    images: Any,
    eps: float,
    *,
    method: str = "pgd",
    target: Any = None,
    steps: int = 10,
    step_size: Optional[float] = None,
    random_start: bool = False,
    seed: int = 0,
    progress: Optional[bool] = None,
) -> np.ndarray:
    """FGSM or PGD adversarial examples within an L∞ budget of `eps` pixel levels.

    Args:
        model: A `Backbone` or a Keras classifier taking pixels in `[0, 255]`.
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`.
        eps: L∞ budget in pixel levels (e.g. 2 = 2/255 of the range), > 0.
        method: `"fgsm"` (one signed step of size eps) or `"pgd"` (`steps` signed steps of
            `step_size`, each projected onto the eps-ball and `[0, 255]`).
        target: `None` for untargeted (increase the loss of the model's predicted class), or a
            class index / one per image to move towards.
        steps: PGD steps (ignored by FGSM).
        step_size: PGD step in pixel levels; default `eps / 4`.
        random_start: PGD starts from a uniform random point of the eps-ball.
        seed: Seed of the random start.
        progress: Show a progress bar (`None`: global setting).

    Returns:
        float32 adversarial images in `[0, 255]`, input's shape, with |x_adv - x| <= eps.

    Raises:
        ImageError: The images are invalid.
        TargetError: The target is out of range.
        ParameterError: Another argument is invalid.
    """
    batch, single = as_image_batch(images)
    backbone = as_backbone(model)
    eps = check_number(eps, "eps", low=0.0, high=255.0, open_low=True)
    if method not in ("fgsm", "pgd"):
        raise ParameterError(f"`method` must be 'fgsm' or 'pgd'. Received: method={method!r}")
    if method == "fgsm":
        steps, step_size = 1, eps
    else:
        steps = check_int(steps, "steps", low=1)
        step_size = eps / 4.0 if step_size is None else check_number(step_size, "step_size", low=0.0, high=255.0, open_low=True)
    seed = check_int(seed, "seed", low=0, high=2**31 - 1)
    resolved = resolve_target(target, len(batch), backbone.num_classes, allow_none=True)
    if resolved is None:  # untargeted: lower the log-probability of the current prediction
        objective = -class_score(_logits(backbone, batch).argmax(axis=1), logits=False)
    else:
        objective = class_score(resolved.indices, logits=False)
    low, high = np.clip(batch - eps, 0.0, 255.0), np.clip(batch + eps, 0.0, 255.0)
    start = batch
    if random_start and method == "pgd":
        start = np.random.default_rng(seed).uniform(low, high).astype(np.float32)
    result = optimize(
        backbone,
        objective,
        param=PixelImage(start, low=low, high=high),
        steps=steps,
        steps_per_call=steps,
        ascent=Ascent(step_size=step_size, normalize_grad="sign"),
        regularization=PLAIN,
        execution=Execution(input_shape=_input_shape(backbone, batch), progress=progress, desc=method),
    )
    adversarial = np.clip(result.images, low, high)
    return adversarial[0] if single else adversarial
