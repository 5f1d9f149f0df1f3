"""Sanity checks for saliency maps (Adebayo et al. 2018): does a map depend on the model at all?

`randomization_check` re-draws a model's weights layer by layer, from the output towards the
input (cascading randomization), on a *clone* of the model (the user's model is never touched),
recomputes the maps with the same attribution function after every layer, and measures how
similar each map stays to the original one (Spearman rank correlation). A method that explains
the model decorrelates; one that only echoes the image (an edge detector) does not, and fails.
A model retrained on shuffled labels (data randomization) can be compared in the same call.
`cascade_picture` draws the maps along the cascade, like the paper's figure 2.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..backbones import as_backbone
from ..checks import check_bool, check_choice, check_int, check_names, check_number
from ..compiled import forward_logits
from ..images import as_image_batch, colorize_map, image_grid, normalize_map, resize_map
from ..metrics.deletion import attribution_maps
from ..metrics.model_randomisation import (
    randomised_models,
    rank_correlation,
    weight_layers,
)
from ..targets import resolve_target

__all__ = ["RandomizationCheck", "cascade_picture", "randomization_check"]

_MODES = ("cascade", "independent")


class RandomizationCheck(NamedTuple):
    """Outcome of a model-parameter (and optionally data) randomization check.

    Attributes:
        layers: Randomized layers, in order (output side first for a cascade).
        correlations: `(L, N)` Spearman rank correlation of each image's map after step `l`
            with its original map (a constant map counts as 0: it keeps no ranking).
        original: `(N, H, W)` maps of the unchanged model (absolute values if `absolute`).
        randomized: `(L, N, H, W)` maps after each step.
        passed: The method is sensitive to the model: the mean correlation fell below
            `threshold` at some step.
        threshold: The threshold used.
        data_correlations: `(N,)` correlation with the maps of the `retrained` model (data
            randomization), or `None` when none was given.
    """

    layers: list[str]
    correlations: np.ndarray
    original: np.ndarray
    randomized: np.ndarray
    passed: bool
    threshold: float
    data_correlations: np.ndarray | None

    def first_below(self) -> str | None:
        """The first layer after which the mean correlation is below the threshold (or `None`)."""
        below = np.flatnonzero(self.correlations.mean(axis=1) < self.threshold)
        return self.layers[int(below[0])] if len(below) else None


def randomization_check(
    model: Any,
    images: Any,
    method: Callable[..., Any],
    target: Any = None,
    *,
    layers: Sequence[str] | None = None,
    mode: str = "cascade",
    retrained: Any = None,
    threshold: float = 0.5,
    absolute: bool = True,
    seed: int = 0,
) -> RandomizationCheck:
    """Model-parameter randomization test (Adebayo et al. 2018) for any attribution function.

    The model is cloned once; in `"cascade"` mode its layers are re-drawn one after another
    (output side first, each step keeping the earlier ones random), in `"independent"` mode one
    at a time (the others restored). After every step `method(clone, images, target)` is called
    again and each map is compared with the original by Spearman rank correlation. Compiled
    functions of the clone are built once and reused: weights change, structure does not.

    Args:
        model: A `Backbone` or a `keras.Model` taking pixels in `[0, 255]`. Never modified.
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`.
        method: `fn(model, images, target) -> maps` (e.g. `kerasviz.gradcam`, `saliency`,
            `integrated_gradients`), returning maps `(N, H, W)`, per-colour attributions
            (summed over colours) or an `IntegratedGradients` result.
        target: Class index, one per image, callable, or `None` for each image's class as
            predicted by the *original* model (kept for every randomized copy).
        layers: Layer names to randomize, in order; default every layer with weights, output
            side first (pass a few for large networks: each step costs one `method` call).
        mode: `"cascade"` or `"independent"`.
        retrained: Optional model of the same architecture trained on randomized labels (data
            randomization test): its maps are compared with the original ones too.
        threshold: A mean correlation below this counts as "the map changed", in `[-1, 1]`.
        absolute: Compare absolute values of the maps (the paper's main setting).
        seed: Seed of the re-drawn weights.

    Returns:
        A `RandomizationCheck`; for a single image, arrays keep their batch axis of 1.

    Raises:
        ImageError: Invalid images or maps.
        TargetError: Invalid target.
        LayerNotFoundError: Unknown layer in `layers`.
        ModelError: The model cannot be cloned or used; `layers` holds a layer without weights.
        ParameterError: Bad `mode`, `threshold`, `absolute` or `seed`.
    """
    check_choice(mode, "mode", _MODES)
    threshold = check_number(threshold, "threshold", low=-1.0, high=1.0)
    absolute = check_bool(absolute, "absolute")
    seed = check_int(seed, "seed", low=0)
    original_backbone = as_backbone(model)
    batch, _ = as_image_batch(images)
    original_backbone.check_size(batch.shape[1:3])
    resolved = resolve_target(target, len(batch), original_backbone.num_classes, allow_none=True)
    if resolved is None:
        chosen: Any = forward_logits(original_backbone.model, batch).argmax(axis=1)
    else:
        chosen = resolved.fn if resolved.fn is not None else resolved.indices

    def maps_of(backbone: Any) -> np.ndarray:
        result = attribution_maps(method(backbone, batch, chosen))
        result = result[None] if result.ndim == 2 else result
        if result.shape[1:] != batch.shape[1:3]:
            result = resize_map(result, batch.shape[1:3])
        return np.abs(result) if absolute else result

    original = maps_of(original_backbone)
    if layers is None:  # output side first in both modes
        names = weight_layers(original_backbone.model)[::-1]
    else:
        names = list(check_names(layers, "layers"))
    order = "top_down" if mode == "cascade" else "independent"
    randomized, correlations, done = [], [], []
    for name, clone in randomised_models(model, order=order, layers=names, seed=seed):
        maps = maps_of(clone)
        done.append(name)
        randomized.append(maps)
        correlations.append(rank_correlation(original, maps))
    names = done
    correlations_array = np.array(correlations).reshape(len(names), len(batch))
    data = None if retrained is None else rank_correlation(original, maps_of(as_backbone(retrained)))
    passed = bool(len(names)) and bool(correlations_array.mean(axis=1).min() < threshold)
    return RandomizationCheck(
        names,
        correlations_array,
        original,
        np.array(randomized).reshape(len(names), *original.shape),
        passed,
        threshold,
        data,
    )


def cascade_picture(
    check: RandomizationCheck,
    images: Any = None,
    *,
    tile_size: int = 96,
    colormap: str = "gray",
) -> np.ndarray:
    """The cascade as one picture: one row per image, the original map then one per step.

    Args:
        check: A `RandomizationCheck`.
        images: The checked images `(N, H, W, 3)` (or one image), shown first in each row; or
            `None` to show maps only.
        tile_size: Side of each tile in pixels (small images are enlarged).
        colormap: Colormap of the maps (`"gray"`, as in the paper, `"jet"`, ...).

    Returns:
        uint8 `(H, W, 3)` grid; each map tile is labelled with its layer and correlation.

    Raises:
        ImageError: Invalid images.
        ParameterError: Bad `tile_size` or `colormap`.
    """
    tile_size = check_int(tile_size, "tile_size", low=8, high=2048)
    tiles, labels = [], []
    shown = None if images is None else as_image_batch(images)[0]
    columns = [("original", check.original, None)] + [
        (name, check.randomized[i], check.correlations[i]) for i, name in enumerate(check.layers)
    ]
    for n in range(check.original.shape[0]):
        if shown is not None:
            tiles.append(shown[n])
            labels.append("input")
        for name, maps, rho in columns:
            tiles.append(colorize_map(normalize_map(maps[n]), colormap))
            labels.append(name if rho is None else f"{name} rho={rho[n]:.2f}")
    ncols = len(columns) + (shown is not None)
    return image_grid(tiles, ncols=ncols, labels=labels, tile_size=tile_size)
