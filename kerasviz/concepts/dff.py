"""Deep Feature Factorization (Collins, Achanta & Süsstrunk 2018): concepts shared by images.

The activations of one layer over all images' positions, `A (N*h*w, C) >= 0`, are factorized by
non-negative matrix factorization (scikit-learn) into `W (N*h*w, k) @ H (k, C)`: each row of `H`
is a *concept* (a direction in channel space), each column of `W` says where it is present. The
maps are `W` reshaped to `(N, k, h, w)`, resized to the images' resolution (bilinear) and divided
by each concept's largest value, so they lie in `[0, 1]` and compare across images. Where the
part of the network after the layer is a head of its own (no skip connection crosses the layer,
e.g. pooling + classifier), each concept is classified by running that head on a feature map
filled with the concept vector (at the strength of its strongest instance), as in
pytorch-grad-cam's DFF.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..checks import check_int
from ..errors import ModelError
from ..images import as_image_batch

__all__ = ["DFFResult", "concept_colors", "concept_overlay", "deep_feature_factorization", "layer_activations"]


class DFFResult(NamedTuple):
    """What `deep_feature_factorization` returns.

    Attributes:
        maps: float32 `(N, k, H, W)` in `[0, 1]`: where each concept is, at image resolution.
        concepts: float32 `(k, C)` non-negative concept vectors (NMF's `H`).
        top_classes: int `(k, top)` each concept's highest-scoring classes, or `None` when the
            model has no classifier head separable at the layer.
        class_scores: float32 `(k, top)` the logits of those classes (or `None`).
        error: NMF's relative reconstruction error `|A - WH| / |A|`.
    """

    maps: np.ndarray
    concepts: np.ndarray
    top_classes: np.ndarray | None
    class_scores: np.ndarray | None
    error: float


def layer_activations(model: Any, images: np.ndarray, layer: str, batch_size: int = 32) -> np.ndarray:
    """One layer's feature maps for a batch of images, computed in batches.

    Args:
        model: A `Backbone` or Keras model taking pixels.
        images: float32 `(N, H, W, 3)` in `[0, 255]`.
        layer: Name of a layer with a 4-D output `(N, h, w, C)`.
        batch_size: Images per call.

    Returns:
        float32 `(N, h, w, C)`.

    Raises:
        ModelError: The layer's output is not a feature map.
        LayerNotFoundError: Unknown layer.
    """
    from .activation_rows import compiled_forward

    forward = compiled_forward(model, [layer], images.shape[1:], mean=False)
    parts = [forward(images[i : i + batch_size])[layer] for i in range(0, len(images), batch_size)]
    result = np.concatenate(parts).astype(np.float32)
    if result.ndim != 4:
        raise ModelError(
            f"This needs a layer with a spatial feature map (N, h, w, C); {layer!r} outputs shape "
            f"{result.shape}. Choose a convolutional layer. Received: layer={layer!r}"
        )
    return result


def _classify_concepts(backbone: Any, layer: str, grid: tuple, vectors: np.ndarray, top: int):
    from ..attribution.ablation_cam import head_model

    if not backbone.has_classifier:
        return None, None
    head, suffix = head_model(backbone.model, layer, vectors.shape[1])
    if not suffix:
        return None, None
    maps = np.broadcast_to(vectors[:, None, None, :], (len(vectors), *grid, vectors.shape[1]))
    logits = np.asarray(head(np.ascontiguousarray(maps, np.float32), training=False))
    order = np.argsort(-logits, axis=1)[:, :top]
    return order, np.take_along_axis(logits, order, axis=1).astype(np.float32)


def deep_feature_factorization(
    model: Any,
    images: Any,
    layer: str | None,
    n_concepts: int,
    *,
    top: int = 5,
    batch_size: int = 32,
    seed: int = 0,
    max_iter: int = 400,
) -> DFFResult:
    """Find `n_concepts` concepts shared by the images and where each one is.

    Args:
        model: A `Backbone` or Keras model taking pixels `(N, H, W, 3)` in `[0, 255]`.
        images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]` at the model's input size.
        layer: A layer with a feature map `(N, h, w, C)`; `None` uses the backbone's
            `gradcam_layer` (its last feature map). Negative values are set to zero (NMF needs
            non-negative data), so take a layer after a ReLU-like activation.
        n_concepts: Number of concepts k (>= 1).
        top: Classes listed per concept.
        batch_size: Images per forward call.
        seed: Seed of NMF's initialisation.
        max_iter: NMF iterations at most.

    Returns:
        A `DFFResult` `(maps (N, k, H, W), concepts (k, C), top_classes, class_scores, error)`.

    Raises:
        ImageError: Invalid images.
        ModelError: The layer is not a feature map, or is all zero on these images.
        ParameterError: Bad `n_concepts`, `top` or `batch_size`.
    """
    import tensorflow as tf
    from sklearn.decomposition import NMF

    from ..backbones import as_backbone

    batch, _ = as_image_batch(images, name="images")
    n_concepts = check_int(n_concepts, "n_concepts", low=1)
    top = check_int(top, "top", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    backbone = as_backbone(model)
    if layer is None:
        layer = backbone.gradcam_layer
        if layer is None:
            raise ModelError("Name a `layer`: this model has no default feature map. Received: layer=None")
    features = np.maximum(layer_activations(backbone, batch, layer, batch_size), 0.0)
    count, height, width, channels = features.shape
    flat = features.reshape(-1, channels)
    norm = float(np.linalg.norm(flat))
    if norm == 0.0:
        raise ModelError(
            f"Layer {layer!r} is zero (after ReLU) on every image, so it holds no concept; "
            f"choose another layer. Received: layer={layer!r}"
        )
    factorization = NMF(n_components=n_concepts, init="nndsvda", random_state=seed, max_iter=max_iter)
    weights = factorization.fit_transform(flat)  # (N*h*w, k)
    concepts = factorization.components_.astype(np.float32)  # (k, C)
    error = float(np.linalg.norm(flat - weights @ concepts) / norm)
    grids = weights.reshape(count, height, width, n_concepts).astype(np.float32)
    resized = tf.image.resize(grids, batch.shape[1:3], method="bilinear").numpy()
    peak = np.maximum(resized.max(axis=(0, 1, 2)), 1e-12)
    maps = np.clip(resized / peak, 0.0, 1.0).transpose(0, 3, 1, 2)
    strength = weights.max(axis=0)[:, None]  # the concept at its strongest instance
    top_classes, scores = _classify_concepts(backbone, layer, (height, width), concepts * strength, top)
    return DFFResult(maps.astype(np.float32), concepts, top_classes, scores, error)


def concept_colors(n_concepts: int) -> np.ndarray:
    """Distinct colours for concepts.

    Args:
        n_concepts: How many.

    Returns:
        float32 `(k, 3)` RGB in `[0, 255]`.
    """
    import colorsys

    hues = (np.arange(n_concepts) * 0.618033988749895) % 1.0  # golden-ratio steps: well apart
    return np.array([colorsys.hsv_to_rgb(h, 0.85, 1.0) for h in hues], np.float32) * 255.0


def concept_overlay(images: Any, maps: np.ndarray, *, alpha: float = 0.6) -> np.ndarray:
    """Colour each pixel by its strongest concept, blended over the image by that concept's strength.

    Args:
        images: `(N, H, W, 3)` pixels in `[0, 255]`.
        maps: `(N, k, H, W)` in `[0, 1]` (e.g. `DFFResult.maps`).
        alpha: Opacity of the colour where a concept is at full strength.

    Returns:
        uint8 `(N, H, W, 3)`.
    """
    batch, _ = as_image_batch(images, name="images")
    colors = concept_colors(maps.shape[1])
    strongest = maps.argmax(axis=1)
    strength = maps.max(axis=1)[..., None] * alpha
    painted = colors[strongest]
    return np.clip(batch * (1 - strength) + painted * strength, 0, 255).astype(np.uint8)
