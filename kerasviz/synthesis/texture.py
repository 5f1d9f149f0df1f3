"""Texture synthesis: Gram-matrix matching through a CNN (Gatys et al. 2015), or image quilting.

`method="gram"` starts from noise and optimizes the pixels until their Gram matrices at the style
layers match the example's (computed once), with the same losses (`style_losses`) and optimizers
(`pixel_descent`) as style transfer, without a content layer. `method="patch"` is the classical
non-parametric baseline (`patch_texture.quilt_texture`), which needs no network.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple, Union

import numpy as np

from ..backbones import as_backbone
from ..checks import check_choice, check_int, check_number, check_side
from ..errors import ParameterError
from ..images import as_image_batch, parse_size, to_uint8
from .feature_transform import resolve_feature_transform
from .keywords import check_record, moved_keywords
from .patch_texture import quilt_texture
from .pixel_descent import minimize_pixels, noise_image
from .style_options import Descent, LossFeatures, loss_layers
from .style_transfer import MAX_SIDE, MIN_SIDE, style_losses_for, weighted_loss

__all__ = ["synthesize_texture", "TEXTURE_NOISE", "MOVED"]

#: Spread (pixel levels) of the grey noise texture synthesis starts from. Measured on vgg16_hed
#: (brick, gravel, 128 px, 60 L-BFGS steps): a spread of 8 gives bricks and pebbles with the
#: example's grey colours; 40 left high-frequency colour noise that 40-60 steps never removed.
TEXTURE_NOISE = 8.0

Size = Union[int, Tuple[int, int]]


#: Where `synthesize_texture`'s keywords went when its options became records.
MOVED = {
    "layers": ("features", "style_layers"),
    **{name: ("features", name) for name in ("feature_transform", "temperature")},
    **{name: ("descent", name) for name in ("optimizer", "learning_rate")},
}


@moved_keywords(MOVED)
def synthesize_texture(
    model: Any,
    texture: Any,
    size: Size = 224,
    *,
    method: str = "gram",
    steps: int = 100,
    tv_weight: float = 0.0,
    features: LossFeatures = LossFeatures(),
    descent: Descent = Descent(),
    patch_size: Optional[int] = None,
    seed: Optional[int] = None,
    progress: Optional[bool] = None,
) -> np.ndarray:
    """Synthesize a new texture with the statistics of an example texture.

    Args:
        model: A `Backbone` or Keras classifier taking pixels (`method="gram"`), or `None` for
            `method="patch"`.
        texture: The example, `(H, W, 3)` uint8 or float in [0, 255]; for `"gram"` each side in
            [32, 2048].
        size: Output size, an int `s` for `s x s` or `(height, width)`; for `"gram"` each side
            in [32, 2048], for `"patch"` at least one patch.
        method: `"gram"` (match Gram matrices of the style layers, Gatys et al.) or `"patch"`
            (image quilting, Efros & Freeman; no network).
        steps: L-BFGS iterations or Adam steps, in [1, 100000] (`"gram"`).
        tv_weight: Weight of a total-variation smoothness term (0 = pure Gram matching), >= 0.
        features: `LossFeatures(style_layers=..., feature_transform=..., temperature=...)`:
            the layers whose Gram matrices are matched (default the backbone's `style_layers`);
            no content layers.
        descent: `Descent(optimizer="lbfgs", learning_rate=4.0)`; it always starts from noise.
        patch_size: Patch side for `"patch"` (see `quilt_texture`).
        seed: Seed of the noise start (`"gram"`) or of the patch choices (`"patch"`).
        progress: Show a progress bar; `None` uses the global setting.

    Returns:
        uint8 `(height, width, 3)` texture; grey (equal channels) when the example is grey.

    Raises:
        ImageError: `texture` is not a valid pixel image.
        ParameterError: More than one texture, unusable sizes, unknown method, options out of
            range, a model given / missing for the method, or a keyword that moved into a record.
        LayerNotFoundError: A layer name is not in the model.
        ModelError: A subclassed model and no style layers named (its layers are hidden).
    """
    check_choice(method, "method", ("gram", "patch"))
    if method == "patch":
        if model is not None:
            raise ParameterError(
                "method='patch' copies pixels and uses no network; pass model=None. "
                f"Received: model of type {type(model).__name__}"
            )
        return quilt_texture(texture, size, patch_size=patch_size, seed=seed)
    if model is None:
        raise ParameterError(
            "method='gram' needs a model (e.g. `load_backbone('efficientnet_lite0')`); use "
            "method='patch' for the network-free baseline. Received: model=None"
        )
    backbone = as_backbone(model)
    batch, _ = as_image_batch(texture, name="texture")
    if batch.shape[0] != 1:
        raise ParameterError(
            f"synthesize_texture takes one example texture. Received: texture with {batch.shape[0]} images"
        )
    example = batch[0]
    check_side(example.shape[:2], "texture", low=MIN_SIDE, high=MAX_SIDE)
    out_size = check_side(parse_size(size), "size", low=MIN_SIDE, high=MAX_SIDE)
    check_record(features, LossFeatures, "features")
    check_record(descent, Descent, "descent")
    if features.content_layers is not None or descent.init == "content":
        raise ParameterError(
            "A texture has no content: leave LossFeatures.content_layers and Descent.init unset. "
            f"Received: features={features!r}, descent={descent!r}"
        )
    style_layers = loss_layers(backbone, features, content=False)[1]
    steps = check_int(steps, "steps", low=1, high=100_000)
    tv = check_number(tv_weight, "tv_weight", low=0.0)
    transform, temp = resolve_feature_transform(backbone, features.feature_transform), features.temperature
    parts = style_losses_for(backbone, None, [example], np.ones(1), (), style_layers, transform, temp)
    result = minimize_pixels(
        backbone, noise_image(out_size, seed, TEXTURE_NOISE), weighted_loss(parts, (0.0, 1.0, tv), transform, temp),
        steps=steps, optimizer=descent.optimizer, learning_rate=descent.learning_rate, seed=seed, progress=progress,
        desc="texture",
    )
    if _is_grey(example):  # a grey example has no colour statistics: the colour left is noise
        result = np.repeat(result.mean(axis=-1, keepdims=True), 3, axis=-1)
    return to_uint8(result)


def _is_grey(image: np.ndarray) -> bool:
    """Whether all three channels agree to within one pixel level."""
    return bool(np.abs(image - image.mean(axis=-1, keepdims=True)).max() <= 1.0)
