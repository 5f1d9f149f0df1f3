"""Pictures of the concept family, for the demo gallery and the command line.

Each function takes a backbone (EfficientNet-Lite0 in the demo) and returns `(picture uint8
(H, W, 3), caption)`: DFF concepts coloured over the bundled photos, a small activation atlas of
crops of the bundled photos, and CRAFT's concepts of one class with their importance.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..images import image_grid, resize_image, sample_image
from .atlas import activation_atlas
from .craft import craft
from .dff import concept_colors, concept_overlay, deep_feature_factorization

__all__ = ["PHOTOS", "atlas_picture", "bundled_crops", "craft_picture", "dff_picture"]

#: The bundled RGB photos the pictures use.
PHOTOS = ("chelsea", "coffee", "astronaut", "rocket")


def _class_name(backbone: Any, index: int) -> str:
    names = getattr(backbone, "class_names", None)
    return names[index] if names and 0 <= index < len(names) else str(index)


def dff_picture(
    backbone: Any, images: Any = None, *, n_concepts: int = 4, layer: str | None = None, size: int = 224
) -> tuple[np.ndarray, str]:
    """Deep Feature Factorization of photos (default: the bundled ones), coloured by concept.

    Args:
        backbone: A `Backbone` taking `size x size` pixels.
        images: `(N, size, size, 3)` pixels, or `None` for the bundled photos (`PHOTOS`).
        n_concepts: Concepts shared by the photos.
        layer: Feature map to factorize (`None`: the backbone's `gradcam_layer`).
        size: Photo side in pixels (bundled photos).

    Returns:
        `(picture, caption)`: the photos with concepts overlaid, and a swatch per concept
        labelled with its top class.
    """
    names = list(PHOTOS) if images is None else None
    if images is None:
        images = np.stack([sample_image(name, size=size) for name in PHOTOS])
    images = np.asarray(images, np.float32).reshape((-1, *np.shape(images)[-3:]))
    size = images.shape[2]
    result = deep_feature_factorization(backbone, images, layer, n_concepts)
    labels = names or [f"image {i}" for i in range(len(images))]
    columns = max(min(len(images), 4), min(n_concepts, 4))
    photos = image_grid(list(concept_overlay(images, result.maps)), ncols=min(columns, len(images)), labels=labels)
    swatches, names_of = [], []
    for index, color in enumerate(concept_colors(n_concepts)):
        swatches.append(np.broadcast_to(color, (size // 6, size, 3)).astype(np.uint8))
        top = "" if result.top_classes is None else f": {_class_name(backbone, int(result.top_classes[index, 0]))}"
        names_of.append(f"concept {index}{top}")
    legend = image_grid(swatches, ncols=min(columns, n_concepts), labels=names_of)
    width = max(photos.shape[1], legend.shape[1])
    picture = np.concatenate(
        [np.pad(part, ((0, 0), (0, width - part.shape[1]), (0, 0)), constant_values=255) for part in (photos, legend)]
    )
    caption = (
        f"DFF: {n_concepts} concepts (NMF of layer {layer or getattr(backbone, 'gradcam_layer', '')}) "
        f"over {len(images)} photos; reconstruction error {result.error:.2f}"
    )
    return picture, caption


def _offline_photos(size: int) -> list:
    """The bundled scikit-image photos (`size x size`) and scikit-learn's two (shorter side `size`)."""
    photos = [sample_image(name, size=size) for name in PHOTOS]
    try:
        from sklearn.datasets import load_sample_images
    except ImportError:  # scikit-learn is optional here: the bundled photos alone
        return photos
    for photo in load_sample_images().images:
        height, width = photo.shape[:2]
        scale = size / min(height, width)
        photos.append(resize_image(photo.astype(np.float32), (int(round(height * scale)), int(round(width * scale)))))
    return photos


def bundled_crops(count: int = 96, size: int = 224, seed: int = 0) -> np.ndarray:
    """Random crops (random scale, position and left-right flip) of the offline photos.

    The photos are `PHOTOS` (scikit-image) and scikit-learn's `load_sample_images()` (a temple
    in China, a flower), taken in turn.

    Args:
        count: Number of crops.
        size: Output side.
        seed: Seed of the crop positions, scales and flips.

    Returns:
        float32 `(count, size, size, 3)` in `[0, 255]`.
    """
    rng = np.random.default_rng(seed)
    photos = _offline_photos(2 * size)
    crops = []
    for index in range(count):
        photo = photos[index % len(photos)]
        height, width = photo.shape[:2]
        side = int(rng.integers(size // 2, min(height, width) + 1))
        y, x = rng.integers(0, height - side + 1), rng.integers(0, width - side + 1)
        crop = resize_image(photo[y : y + side, x : x + side], (size, size))
        crops.append(crop[:, ::-1] if rng.random() < 0.5 else crop)
    return np.stack(crops).astype(np.float32)


def atlas_picture(
    backbone: Any, *, count: int = 96, grid: int = 6, steps: int = 256, projection: str = "umap",
    layer: str | None = None,
) -> tuple[np.ndarray, str]:
    """A small activation atlas of crops of the offline photos (`bundled_crops`).

    Args:
        backbone: A `Backbone`.
        count: Crops of the photos to collect.
        grid: Cells per side.
        steps: Feature-visualization steps per cell.
        projection: `"umap"` or `"pca"` (fast).
        layer: The layer mapped (`None`: the backbone's `gradcam_layer`).

    Returns:
        `(atlas image, caption)`.
    """
    layer = layer or backbone.gradcam_layer
    atlas = activation_atlas(
        backbone, bundled_crops(count), layer, grid=grid, steps=steps, spatial="sample:4",
        batch_size=32, projection=projection, cell_size=96, render_batch=16,
    )
    caption = (
        f"Activation atlas of {layer}: {count} crops of the offline photos x 4 sampled positions, "
        f"{projection.upper()} layout, {atlas.cells.num_rows} cells of a {grid}x{grid} grid, "
        f"each drawn by feature visualization of its mean activation ({steps} Adam steps, Fourier image)"
    )
    return atlas.image, caption


def craft_picture(
    backbone: Any, images: Any = None, *, target: int = 285, n_concepts: int = 3, top: int = 4,
    layer: str | None = None,
) -> tuple[np.ndarray, str]:
    """CRAFT concepts of one class: one row of typical crops per concept, by importance.

    Args:
        backbone: A classifier `Backbone` with a 224 x 224 input.
        images: `(N, H, W, 3)` pixels of the class, or `None` for the cat | espresso photo.
        layer: Feature map (`None`: the backbone's `gradcam_layer`).
        target: The class (285: Egyptian cat).
        n_concepts: Concepts.
        top: Typical crops per concept.

    Returns:
        `(picture, caption)`.
    """
    if images is None:
        images = np.concatenate(
            [resize_image(sample_image("chelsea", 224), (224, 112)), resize_image(sample_image("coffee", 224), (224, 112))],
            axis=1,
        )
    result = craft(backbone, images, target, layer, n_concepts, top=top)
    order = np.argsort(-result.importance)
    tiles, labels = [], []
    for rank, concept in enumerate(order):
        for column, crop in enumerate(result.crops[concept]):
            tiles.append(resize_image(crop, (112, 112)))
            labels.append(f"#{rank + 1} importance {result.importance[concept]:.3f}" if column == 0 else "")
    caption = f"CRAFT: concepts of '{_class_name(backbone, target)}' from crops, by total Sobol importance"
    return image_grid(tiles, ncols=top, labels=labels), caption
