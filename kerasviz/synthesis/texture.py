"""Texture synthesis: Gram-matrix matching through a CNN (Gatys et al. 2015), or image quilting.

`method="gram"` starts from noise and optimizes the pixels until their Gram matrices at the style
layers match the example's (computed once), with the same losses (`style_losses`) and optimizers
(`pixel_descent`) as style transfer, without a content layer. `method="patch"` is the classical
non-parametric baseline (`patch_texture.quilt_texture`), which needs no network.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np

from ..backbones import as_backbone
from ..checks import check_choice, check_int, check_number, check_side
from ..errors import ParameterError
from ..images import as_image_batch, parse_size, to_uint8
from .patch_texture import quilt_texture
from .pixel_descent import minimize_pixels, noise_image
from .style_inputs import layer_list, refuse_hidden_defaults
from .style_losses import resolve_feature_transform
from .style_transfer import MAX_SIDE, MIN_SIDE, style_losses_for, weighted_loss

__all__ = ["synthesize_texture", "TEXTURE_NOISE"]

#: Spread (pixel levels) of the grey noise texture synthesis starts from. Measured on vgg16_hed
#: (brick, gravel, 128 px, 60 L-BFGS steps): a spread of 8 gives bricks and pebbles with the
#: example's grey colours; 40 left high-frequency colour noise that 40-60 steps never removed.
TEXTURE_NOISE = 8.0

Size = Union[int, Tuple[int, int]]


def synthesize_texture(
    model: Any,
    texture: Any,
    size: Size = 224,
    *,
    method: str = "gram",
    layers: Optional[Sequence[str]] = None,
    steps: int = 100,
    optimizer: str = "lbfgs",
    learning_rate: float = 4.0,
    tv_weight: float = 0.0,
    feature_transform: Optional[str] = "auto",
    temperature: float = 3.0,
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
        method: `"gram"` (match Gram matrices of `layers`, Gatys et al.) or `"patch"` (image
            quilting, Efros & Freeman; no network).
        layers: Style layers whose Gram matrices are matched; default the backbone's
            `style_layers`.
        steps: L-BFGS iterations or Adam steps, in [1, 100000] (`"gram"`).
        optimizer: `"lbfgs"` or `"adam"` (`"gram"`).
        learning_rate: Adam's step in pixel units, > 0.
        tv_weight: Weight of a total-variation smoothness term (0 = pure Gram matching), >= 0.
        feature_transform: `"auto"` (the backbone's `feature_transform`), `"softmax"` or `None`;
            see `style_losses`.
        temperature: Softmax temperature, > 0.
        patch_size: Patch side for `"patch"` (see `quilt_texture`).
        seed: Seed of the noise start (`"gram"`) or of the patch choices (`"patch"`).
        progress: Show a progress bar; `None` uses the global setting.

    Returns:
        uint8 `(height, width, 3)` texture; grey (equal channels) when the example is grey.

    Raises:
        ImageError: `texture` is not a valid pixel image.
        ParameterError: More than one texture, unusable sizes, unknown method, options out of
            range, or a model given / missing for the method.
        LayerNotFoundError: A layer name is not in the model.
        ModelError: A subclassed model and no `layers` named (its layers are hidden).
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
    refuse_hidden_defaults(backbone, layers, backbone.style_layers, "layers")
    style_layers = layer_list(layers, "layers", backbone.style_layers)
    steps = check_int(steps, "steps", low=1, high=100_000)
    check_choice(optimizer, "optimizer", ("lbfgs", "adam"))
    rate = check_number(learning_rate, "learning_rate", low=0.0, high=255.0, open_low=True)
    tv = check_number(tv_weight, "tv_weight", low=0.0)
    temp = check_number(temperature, "temperature", low=0.0, high=1e6, open_low=True)
    transform = resolve_feature_transform(backbone, feature_transform)
    parts = style_losses_for(backbone, None, [example], np.ones(1), (), style_layers, transform, temp)
    result = minimize_pixels(
        backbone, noise_image(out_size, seed, TEXTURE_NOISE), weighted_loss(parts, (0.0, 1.0, tv), transform, temp),
        steps=steps, optimizer=optimizer, learning_rate=rate, seed=seed, progress=progress, desc="texture",
    )
    if _is_grey(example):  # a grey example has no colour statistics: the colour left is noise
        result = np.repeat(result.mean(axis=-1, keepdims=True), 3, axis=-1)
    return to_uint8(result)


def _is_grey(image: np.ndarray) -> bool:
    """Whether all three channels agree to within one pixel level."""
    return bool(np.abs(image - image.mean(axis=-1, keepdims=True)).max() <= 1.0)
