"""Gatys neural style transfer: pixels optimized so their features match a content image and the
Gram statistics of one or several style images.

The targets (content features, blended style Grams) are computed once (`style_losses`). The loss
is `style_losses.normalized_losses` (content, style and TV objectives, each layer's error divided
by its target's mean square) weighted and wrapped in the backbone's feature transform. It is
minimized over the pixels either by SciPy's L-BFGS-B (box constraint [0, 255], the classic
choice), which drives the engine's compiled `value_and_gradient`, or by Adam on the synthesis
engine (`optimize`, several steps per compiled call). Either way each step runs the backbone once,
on the one image being optimized (the keras-io recipe runs content, style and result: three).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from ..backbones import as_backbone
from ..checks import check_int, check_number, check_side
from ..errors import ParameterError
from ..images import as_image_batch, to_uint8
from . import style_inputs
from .engine import bind
from .feature_transform import resolve_feature_transform, transformed
from .keywords import check_record, moved_keywords
from .objective_type import Objective
from .pixel_descent import minimize_pixels, noise_image
from .style_inputs import rescale_style, style_images
from .style_losses import content_targets, gram_targets, normalized_losses
from .style_options import Descent, LossFeatures, LossWeights, loss_layers

__all__ = [
    "style_transfer", "style_transfer_losses", "style_losses_for", "weighted_loss",
    "MIN_SIDE", "MAX_SIDE", "MOVED", "DEFAULT_WEIGHTS",
]

#: Smallest and largest image side style transfer accepts, in pixels.
MIN_SIDE, MAX_SIDE = 32, 2048

Parts = Tuple[Optional[Objective], Optional[Objective], Objective]


def _side(shape: Tuple[int, ...], name: str) -> None:
    check_side(tuple(int(s) for s in shape[:2]), name, low=MIN_SIDE, high=MAX_SIDE)


def style_losses_for(
    backbone: Any, content: Optional[np.ndarray], styles: Sequence[np.ndarray], blend: np.ndarray,
    content_layers: Sequence[str], style_layers: Sequence[str], transform: Optional[str], temperature: float,
) -> Parts:
    """The `(content, style, tv)` losses with their targets computed once (in the transform).

    Args:
        backbone: The backbone.
        content: `(H, W, 3)` content pixels, or `None` (texture synthesis).
        styles: Style images `(h, w, 3)` (sizes may differ); may be empty.
        blend: One weight per style, summing to 1.
        content_layers: Content layers (ignored without content).
        style_layers: Style layers.
        transform: `"softmax"` or `None` (resolved).
        temperature: Softmax temperature.

    Returns:
        `normalized_losses` of the targets (untransformed objectives: wrap them in `transformed`).
    """
    options = dict(feature_transform=transform, temperature=temperature)
    contents = content_targets(backbone, content, content_layers, **options) if content is not None else {}
    grams = gram_targets(backbone, list(styles), style_layers, blend, **options) if len(styles) else {}
    return normalized_losses(contents, grams)


def weighted_loss(parts: Parts, weights: Sequence[float], transform: Optional[str], temperature: float) -> Objective:
    """`Σ weight · part` over the parts with a positive weight, read through the feature transform.

    Args:
        parts: `(content, style, tv)` from `style_losses_for`.
        weights: `(content, style, tv)` weights, >= 0.
        transform: `"softmax"` or `None`.
        temperature: Softmax temperature.

    Returns:
        The loss objective (to minimize).
    """
    loss = sum(w * o for w, o in zip(weights, parts) if o is not None and w > 0)
    return transformed(loss, transform, temperature)


#: `style_transfer`'s content, style and TV loss factors where `LossWeights` leaves them `None`.
DEFAULT_WEIGHTS = (1.0, 1000.0, 30.0)

#: Where `style_transfer`'s keywords went when its options became records.
MOVED = {
    **{name: ("features", name) for name in ("content_layers", "style_layers", "feature_transform", "temperature")},
    **{f"{part}_weight": ("weights", part) for part in ("content", "style", "tv")},
    "style_weights": ("style_blend", None),  # the blend of several style images (not a loss factor)
    **{name: ("descent", name) for name in ("optimizer", "learning_rate", "init")},
}
#: The keywords of `style_transfer_losses` that moved.
MOVED_LOSSES = {name: where for name, where in MOVED.items() if where[0] in ("features", "style_blend")}


@moved_keywords(MOVED)
def style_transfer(
    model: Any,
    content: Any,
    style: Any,
    *,
    style_blend: Optional[Sequence[float]] = None,
    steps: int = 100,
    weights: LossWeights = LossWeights(),
    features: LossFeatures = LossFeatures(),
    descent: Descent = Descent(),
    preserve_color: bool = False,
    style_scale: float = 1.0,
    seed: Optional[int] = None,
    progress: Optional[bool] = None,
) -> np.ndarray:
    """Repaint a content image in the style of one or several style images (Gatys et al.).

    Args:
        model: A `Backbone` or a Keras model taking pixels. VGG16 / VGG19 are the classic choice;
            offline, `load_backbone("vgg16_hed")` (VGG16 convolutions) gives the classic look.
        content: Content image `(H, W, 3)`, or a batch `(N, H, W, 3)` stylized one by one,
            uint8 or float in [0, 255], each side in [32, 2048].
        style: A style image `(h, w, 3)` or a list of them (sizes may differ), [0, 255].
        style_blend: With several style images, one weight per image, non-negative and summing
            to 1, blending their Gram targets; default equal weights.
        steps: L-BFGS iterations or Adam steps, in [1, 100000].
        weights: `LossWeights(content, style, tv)`, default `(1, 1000, 30)` (`DEFAULT_WEIGHTS`,
            for each field left `None`): factors of the content loss
            (relative squared feature error), the style loss (relative squared Gram error; not
            both 0) and the total variation (mean |neighbour difference| / 255).
        features: `LossFeatures(content_layers, style_layers, feature_transform, temperature)`:
            where the losses are measured (default the backbone's layers and transform).
        descent: `Descent(optimizer="lbfgs", learning_rate=4.0, init=None)`: SciPy L-BFGS-B or
            Adam, Adam's step, and the start (`"content"`, the default, or `"noise"`).
        preserve_color: Keep the content's colours (luminance-only transfer): the result keeps
            only its luminance, matched to the content's luminance mean and spread, on the
            content's chrominance (YIQ).
        style_scale: The style image is resized so its longer side is `style_scale` times the
            content's longer side, in (0, 16]; bigger values give bigger brush strokes. Its
            shorter side is never made smaller than 32 px (a wide painting for a small content).
        seed: Seed of the noise start.
        progress: Show a progress bar; `None` uses the global setting.

    Returns:
        uint8 `(H, W, 3)` (or `(N, H, W, 3)` for a batch) stylized image(s).

    Raises:
        ImageError: `content` or a style image is not a valid pixel image.
        ParameterError: Unusable sizes, no style image, bad `style_blend`, an option out of
            range, or a keyword that moved into a record (the message names the record).
        LayerNotFoundError: A layer name is not in the model.
        ModelError: `model` is not a Backbone or Keras model, or is subclassed and no layers
            were named.
    """
    backbone = as_backbone(model)
    contents_batch, single = as_image_batch(content, name="content")
    styles = style_images(style)
    blend = style_inputs.style_weights(style_blend, len(styles), "style_blend")
    for value, kind, name in ((weights, LossWeights, "weights"), (features, LossFeatures, "features"),
                              (descent, Descent, "descent")):
        check_record(value, kind, name)
    c_layers, s_layers = loss_layers(backbone, features)
    loss_weights = weights.resolve(*DEFAULT_WEIGHTS).as_tuple()
    if loss_weights[0] + loss_weights[1] == 0.0:
        raise ParameterError(
            "`LossWeights.content` and `LossWeights.style` are both 0: there is nothing to optimize. "
            f"Received: weights={weights!r}"
        )
    steps = check_int(steps, "steps", low=1, high=100_000)
    scale = check_number(style_scale, "style_scale", low=0.0, high=16.0, open_low=True)
    transform, temp = resolve_feature_transform(backbone, features.feature_transform), features.temperature
    for image in contents_batch:
        _side(image.shape, "content")
    scaled = [rescale_style(s, contents_batch.shape[1:3], scale) for s in styles]
    for index, image in enumerate(scaled):
        _side(image.shape, "style" if len(scaled) == 1 else f"style[{index}] (after style_scale)")

    results = []
    for image in contents_batch:
        parts = style_losses_for(backbone, image, scaled, blend, c_layers, s_layers, transform, temp)
        start = noise_image(image.shape[:2], seed) if descent.init == "noise" else image
        out = minimize_pixels(
            backbone, start, weighted_loss(parts, loss_weights, transform, temp), steps=steps,
            optimizer=descent.optimizer, learning_rate=descent.learning_rate, seed=seed, progress=progress,
            desc="style transfer",
        )
        results.append(_with_content_colour(out, image) if preserve_color else out)
    stacked = to_uint8(np.stack(results))
    return stacked[0] if single else stacked


@moved_keywords(MOVED_LOSSES)
def style_transfer_losses(
    model: Any,
    image: Any,
    *,
    content: Any = None,
    style: Any = None,
    style_blend: Optional[Sequence[float]] = None,
    style_scale: Optional[float] = None,
    features: LossFeatures = LossFeatures(),
) -> Dict[str, float]:
    """The unweighted content, style and TV losses of an image, as `style_transfer` measures them.

    Args:
        model: A `Backbone` or a Keras classifier taking pixels.
        image: The image to score, `(H, W, 3)` in [0, 255], each side in [32, 2048].
        content: Content image of the same size, or `None` to skip the content loss.
        style: A style image or a list of them, or `None` to skip the style loss.
        style_blend: Blend of several styles (non-negative, summing to 1).
        style_scale: Resize the styles as `style_transfer` does (`None`: keep their size, as
            texture synthesis does).
        features: Where the losses are measured (`LossFeatures`; default the backbone's).

    Returns:
        `{"content": float, "style": float, "tv": float}` (0 for a part that was skipped).

    Raises:
        ImageError: An image is not valid.
        ParameterError: Sizes that differ or are unusable, bad weights or options.
        LayerNotFoundError: A layer name is not in the model.
    """
    backbone = as_backbone(model)
    batch, _ = as_image_batch(image, name="image")
    if batch.shape[0] != 1:
        raise ParameterError(f"Score one image at a time. Received: image with {batch.shape[0]} images")
    scored = batch[0]
    _side(scored.shape, "image")
    check_record(features, LossFeatures, "features")
    transform, temp = resolve_feature_transform(backbone, features.feature_transform), features.temperature
    c_layers: Tuple[str, ...] = ()
    content_image = None
    if content is not None:
        content_image = as_image_batch(content, name="content")[0][0]
        if content_image.shape != scored.shape:
            raise ParameterError(
                f"`content` must have the image's shape {scored.shape}. Received: content with shape {content_image.shape}"
            )
        c_layers = loss_layers(backbone, features)[0]
    s_layers: Tuple[str, ...] = ()
    styles: List[np.ndarray] = []
    blend = np.ones(0)
    if style is not None:
        styles = style_images(style)
        blend = style_inputs.style_weights(style_blend, len(styles), "style_blend")
        if style_scale is not None:
            scale = check_number(style_scale, "style_scale", low=0.0, high=16.0, open_low=True)
            styles = [rescale_style(s, scored.shape[:2], scale) for s in styles]
        for s in styles:
            _side(s.shape, "style")
        s_layers = loss_layers(backbone, features, content=False)[1]
    parts = style_losses_for(backbone, content_image, styles, blend, c_layers, s_layers, transform, temp)
    pixels = tf.constant(scored[None])
    losses = []
    for part in parts:
        if part is None:
            losses.append(0.0)
            continue
        loss = transformed(part, transform, temp)
        losses.append(float(loss.apply(bind(backbone, loss).outputs(pixels), [tf.constant(v) for v in loss.values])[0]))
    return {"content": losses[0], "style": losses[1], "tv": losses[2]}


# ---------------------------------------------------------------------------------------------
# Colour preservation (Gatys et al. 2017, "Controlling perceptual factors in neural style
# transfer", luminance-only transfer): the styles are transferred as they are, then the result
# keeps only its luminance, shifted and scaled to the content's luminance mean and spread, on the
# content's chrominance (YIQ). Two other recipes were measured through Lite0 and rejected: optimizing
# grey images barely stylized (grey Grams are so alike that the style loss starts 10x lower), and
# recolouring the style to the content's colour statistics first left almost no strokes (a
# cat-coloured style is low in contrast, so its Gram targets are close to the content's own).
# ---------------------------------------------------------------------------------------------

# ITU-R BT.601 RGB -> YIQ.
_RGB_TO_YIQ = np.array(
    [[0.299, 0.587, 0.114], [0.5959, -0.2746, -0.3213], [0.2115, -0.5227, 0.3112]], np.float32
)
_YIQ_TO_RGB = np.linalg.inv(_RGB_TO_YIQ).astype(np.float32)


def _with_content_colour(result: np.ndarray, content: np.ndarray) -> np.ndarray:
    """The result's luminance, matched to the content's mean and spread, on the content's I and Q."""
    yiq = np.asarray(content, np.float32) @ _RGB_TO_YIQ.T
    luminance = np.asarray(result, np.float32) @ _RGB_TO_YIQ[0]
    content_luminance = yiq[..., 0]
    spread = content_luminance.std() / max(float(luminance.std()), 1e-6)
    yiq[..., 0] = (luminance - luminance.mean()) * spread + content_luminance.mean()
    return np.clip(yiq @ _YIQ_TO_RGB.T, 0.0, 255.0)


