"""CRAFT (Fel et al. 2023): concepts of a class from crops, ranked by Sobol importance.

1. The images (of one class) are cut into overlapping square crops, each resized to the model's
   input size; their activations at `layer`, averaged over positions and set >= 0, form
   `A (n_crops, C)`.
2. NMF (scikit-learn) factorizes `A = U W`: the `k` rows of `W` are the concepts, `U` says how much
   of each concept every crop holds; a concept's *most typical crops* are those with the largest
   `U`.
3. Importance: every image's activation map is written in the concept basis (NMF transform of
   each position), the concept coefficients are multiplied by random masks (quasi-random in
   `[0, 1]^k`), the part of the model after `layer` turns the masked activations back into the
   target's logit, and the total Sobol index of each concept (Jansen's estimator) measures how
   much of the logit's variance it explains, alone or with others. Needs a model whose layers
   after `layer` form a head of their own (no skip connection crosses it).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..checks import check_int
from ..errors import ModelError
from ..images import as_image_batch

__all__ = ["CraftResult", "craft", "image_crops", "total_sobol_indices"]


class CraftResult(NamedTuple):
    """What `craft` returns.

    Attributes:
        concepts: float32 `(k, C)` concept vectors (NMF's `W`).
        importance: float32 `(k,)` total Sobol index of each concept for the target.
        crops: uint8 `(k, top, h, w, 3)` each concept's most typical crops (at the model size).
        crop_coefficients: float32 `(n_crops, k)` concept amounts of every crop (NMF's `U`).
        crop_sources: int `(n_crops, 3)` `(image, y, x)` of each crop's top-left corner.
    """

    concepts: np.ndarray
    importance: np.ndarray
    crops: np.ndarray
    crop_coefficients: np.ndarray
    crop_sources: np.ndarray


def image_crops(images: np.ndarray, crop: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping square crops of every image.

    Args:
        images: float32 `(N, H, W, 3)`.
        crop: Crop side in pixels.
        stride: Step between crops.

    Returns:
        `(crops (n, crop, crop, 3), sources (n, 3) as (image, y, x))`.
    """
    count, height, width, _ = images.shape
    ys = range(0, height - crop + 1, stride)
    xs = range(0, width - crop + 1, stride)
    sources = np.array([(i, y, x) for i in range(count) for y in ys for x in xs], np.int64)
    crops = np.stack([images[i, y : y + crop, x : x + crop] for i, y, x in sources])
    return crops, sources


def total_sobol_indices(evaluate, dimension: int, samples: int, rng: np.random.Generator) -> np.ndarray:
    """Total Sobol indices of a function of `dimension` inputs in `[0, 1]` (Jansen's estimator).

    Args:
        evaluate: `evaluate(points (m, d)) -> (m,)`, called once on all points.
        dimension: d.
        samples: Base sample size n (the function is evaluated `n * (d + 2)` times).
        rng: Random generator.

    Returns:
        float32 `(d,)` total indices, >= 0.
    """
    from scipy.stats import qmc

    base = qmc.Sobol(2 * dimension, scramble=True, seed=rng).random(samples)
    first, second = base[:, :dimension], base[:, dimension:]
    mixed = [np.where(np.arange(dimension) == i, second, first) for i in range(dimension)]
    values = evaluate(np.concatenate([first, second, *mixed]))
    f_first, f_second = values[:samples], values[samples : 2 * samples]
    variance = np.var(np.concatenate([f_first, f_second]))
    if variance <= 0:
        return np.zeros(dimension, np.float32)
    totals = [
        np.mean((f_first - values[(2 + i) * samples : (3 + i) * samples]) ** 2) / (2 * variance)
        for i in range(dimension)
    ]
    return np.asarray(totals, np.float32)


def craft(
    model: Any,
    images: Any,
    target: int,
    layer: str | None,
    n_concepts: int,
    *,
    crop_fraction: float = 0.35,
    top: int = 6,
    sobol_samples: int = 32,
    batch_size: int = 32,
    seed: int = 0,
) -> CraftResult:
    """CRAFT concepts of a class: NMF of crop activations, Sobol importance, typical crops.

    Args:
        model: A classifier `Backbone` or Keras model taking pixels in `[0, 255]`.
        images: `(N, H, W, 3)` pixels of (mostly) the class `target`, at the model's input size.
        target: The class explained.
        layer: A feature-map layer whose later layers form a head (e.g. the last feature map);
            `None` uses the backbone's `gradcam_layer`.
        n_concepts: Number of concepts k.
        crop_fraction: Crop side as a fraction of the image side (crops overlap by half).
        top: Typical crops returned per concept.
        sobol_samples: Base sample size of the Sobol estimator (cost: `n * (k + 2)` head calls
            per image, batched).
        batch_size: Images per forward call.
        seed: Seed of NMF and of the Sobol sampling.

    Returns:
        A `CraftResult` `(concepts, importance, crops, crop_coefficients, crop_sources)`.

    Raises:
        ModelError: A headless model, a layer without a separable head, or no activation.
        ParameterError / ImageError: Bad arguments or images.
    """
    import tensorflow as tf
    from sklearn.decomposition import NMF

    from ..attribution.ablation_cam import head_model
    from ..backbones import as_backbone
    from ..checks import check_fraction
    from ..images import resize_image, to_uint8
    from .dff import layer_activations

    backbone = as_backbone(model)
    backbone.require_classifier("craft")
    target = check_int(target, "target", low=0, high=backbone.num_classes - 1)
    n_concepts = check_int(n_concepts, "n_concepts", low=1)
    top = check_int(top, "top", low=1)
    sobol_samples = check_int(sobol_samples, "sobol_samples", low=2)
    crop_fraction = check_fraction(crop_fraction, "crop_fraction", low=0.05, high=1.0)
    batch, _ = as_image_batch(images, name="images")
    layer = layer or backbone.gradcam_layer
    if layer is None:
        raise ModelError("Name a `layer`: this model has no default feature map. Received: layer=None")
    side = max(8, int(round(crop_fraction * min(batch.shape[1:3]))))
    crops, sources = image_crops(batch, side, max(1, side // 2))
    resized = np.stack([resize_image(c, batch.shape[1:3]) for c in crops]).astype(np.float32)
    crop_maps = np.maximum(layer_activations(backbone, resized, layer, batch_size), 0.0)
    crop_codes = crop_maps.mean(axis=(1, 2))
    if not crop_codes.any():
        raise ModelError(f"Layer {layer!r} is zero on every crop; choose another layer. Received: layer={layer!r}")
    factorization = NMF(n_components=n_concepts, init="nndsvda", random_state=seed, max_iter=500)
    coefficients = factorization.fit_transform(crop_codes).astype(np.float32)
    concepts = factorization.components_.astype(np.float32)
    head, suffix = head_model(backbone.model, layer, crop_maps.shape[-1])
    if not suffix:
        raise ModelError(
            f"CRAFT's importance runs the layers after {layer!r} on masked activations, but a skip "
            f"connection crosses {layer!r}. Choose a later layer (e.g. the last feature map). "
            f"Received: layer={layer!r}"
        )
    run_head = tf.function(lambda x: head(x, training=False)[:, target])
    image_maps = np.maximum(layer_activations(backbone, batch, layer, batch_size), 0.0)
    rng = np.random.default_rng(seed)
    importance = np.zeros(n_concepts, np.float32)
    for activation_map in image_maps:
        grid = activation_map.shape[:2]
        amounts = factorization.transform(activation_map.reshape(-1, activation_map.shape[-1]))  # (hw, k)
        residual = activation_map.reshape(-1, activation_map.shape[-1]) - amounts @ concepts

        def evaluate(masks, amounts=amounts, residual=residual, grid=grid):
            out = []
            for start in range(0, len(masks), 64):
                part = masks[start : start + 64]
                rebuilt = (amounts[None] * part[:, None, :]) @ concepts + residual[None]
                out.append(run_head(rebuilt.reshape(len(part), *grid, -1).astype(np.float32)).numpy())
            return np.concatenate(out)

        importance += total_sobol_indices(evaluate, n_concepts, sobol_samples, rng)
    importance /= len(image_maps)
    order = np.argsort(-coefficients, axis=0)[:top]  # (top, k)
    typical = np.stack([to_uint8(resized[order[:, c]]) for c in range(n_concepts)])
    return CraftResult(concepts, importance, typical, coefficients, sources)
