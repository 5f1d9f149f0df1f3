"""Texture synthesis: Gram-matrix matching through a CNN (Gatys et al. 2015), or image quilting.

`method="gram"` starts from noise and optimizes the pixels until their Gram matrices at the style
layers match the example's (computed once), with the same compiled loss and optimizers as style
transfer (`style_transfer.StyleProblem` with no content layer). `method="patch"` is the classical
non-parametric baseline (`patch_texture.quilt_texture`), which needs no network.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np

from ..backbones import as_backbone
from ..errors import ParameterError
from ..images import parse_size, as_image_batch, to_uint8
from .patch_texture import quilt_texture
from .style_transfer import (
    StyleProblem,
    _check_choice,
    _check_number,
    _check_side,
    _check_steps,
    _layer_list,
    noise_image,
    optimize_pixels,
    resolve_feature_transform,
)

__all__ = ["synthesize_texture"]

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
        feature_transform: `"auto"` (none for VGG, softmax otherwise), `"softmax"` or `None`;
            see `style_transfer`.
        temperature: Softmax temperature, > 0.
        patch_size: Patch side for `"patch"` (see `quilt_texture`).
        seed: Seed of the noise start (`"gram"`) or of the patch choices (`"patch"`).
        progress: Show a progress bar; `None` uses the global setting.

    Returns:
        uint8 `(height, width, 3)` texture.

    Raises:
        ImageError: `texture` is not a valid pixel image.
        ParameterError: More than one texture, unusable sizes, unknown method, options out of
            range, or a model given / missing for the method.
        LayerNotFoundError: A layer name is not in the model.
    """
    _check_choice(method, "method", ("gram", "patch"))
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
    _check_side(example.shape[:2], "texture")
    out_size = parse_size(size)
    _check_side(out_size, "size")
    style_layers = _layer_list(layers, backbone.style_layers, "layers")
    steps = _check_steps(steps)
    _check_choice(optimizer, "optimizer", ("lbfgs", "adam"))
    rate = _check_number(learning_rate, "learning_rate", 0.0, 255.0, open_low=True)
    tv = _check_number(tv_weight, "tv_weight", 0.0)
    temp = _check_number(temperature, "temperature", 0.0, 1e6, open_low=True)
    transform = resolve_feature_transform(backbone, feature_transform)

    problem = StyleProblem.get(backbone, (), style_layers, transform)
    parts = problem.targets(None, [example], np.ones(1), temp)
    result = optimize_pixels(
        problem, noise_image(out_size, seed), parts, (0.0, 1.0, tv), temperature=temp,
        steps=steps, optimizer=optimizer, learning_rate=rate, seed=seed, progress=progress,
        desc="texture",
    )
    return to_uint8(result)
