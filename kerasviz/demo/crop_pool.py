"""The inspect panels' image pool: many random crops (scales, flips) of every bundled photo.

One forward pass through `vgg16_hed` (ImageNet-derived VGG16 convolutions, offline) gives each
crop's `block4_conv3` map (for maximally activating patches) and pooled `block5_conv3` vector
(for neighbours and the 2-D map). Each crop remembers where it came from, so a patch can be
mapped back to its photo: patches that show the same spot of the same photo (through two
overlapping crops) count once.
"""

from __future__ import annotations

from typing import Dict, List, NamedTuple, Optional, Tuple

import numpy as np

from . import DemoContext

__all__ = [
    "PHOTOS", "PATCH_LAYER", "FEATURE_LAYER", "CROP", "CropPool", "UnitPatches", "crop_pool",
    "coherence", "inside_stats", "photo_box", "photo_label", "top_units",
    "unit_patches",
]

#: Every natural photo and texture that ships with scikit-image (grey ones become RGB); the
#: synthetic pictures (logo, colour wheel, checkerboard, horse silhouette) and `cat` (= chelsea)
#: are left out.
PHOTOS = (
    "chelsea", "coffee", "astronaut", "rocket", "camera", "coins", "clock", "moon", "page",
    "text", "hubble_deep_field", "immunohistochemistry", "retina", "cell", "brick", "grass",
    "gravel",
)
_SHORT = {"immunohistochemistry": "ihc", "hubble_deep_field": "hubble"}


def photo_label(name: str) -> str:
    """A photo's name, short enough for a 64-pixel tile (`ihc`, `hubble`)."""
    return _SHORT.get(name, name)


#: Layer of the patch panels: receptive field 92 x 92, stride 8 (fits a 128-pixel crop).
PATCH_LAYER = "block4_conv3"
#: Layer whose global average (512-d) is each crop's feature vector.
FEATURE_LAYER = "block5_conv3"
#: Side of every crop in pixels (what the network sees).
CROP = 128


class CropPool(NamedTuple):
    """Crops, where they came from, and their features.

    Attributes:
        images: float32 `(N, CROP, CROP, 3)` pixels in `[0, 255]`.
        photos: Photo name per crop.
        boxes: float `(N, 4)` `(top, left, side, flipped)` of each crop in its photo's pixels.
        maps: float32 `(N, h, w, C)` `PATCH_LAYER` activations.
        features: float32 `(N, 512)` global average of `FEATURE_LAYER`.
        inside: bool `(h, w)`: units whose receptive field lies entirely inside the crop.
        field: `PATCH_LAYER`'s `ReceptiveField` at `CROP` pixels.
    """

    images: np.ndarray
    photos: List[str]
    boxes: np.ndarray
    maps: np.ndarray
    features: np.ndarray
    inside: np.ndarray
    field: object


def _random_crops(ctx: DemoContext, per_photo: int) -> Tuple[np.ndarray, List[str], np.ndarray]:
    from ..images import resize_image

    rng = np.random.default_rng(ctx.seed)
    images, photos, boxes = [], [], []
    for name in PHOTOS:
        photo = ctx.image(name, size=None)
        scale = 320.0 / min(photo.shape[:2])  # every photo at a short side of 320 px
        photo = resize_image(photo, (round(photo.shape[0] * scale), round(photo.shape[1] * scale)))
        height, width = photo.shape[:2]
        for _ in range(per_photo):
            side = int(rng.integers(112, 256))  # crops of 1/3 to 4/5 of the short side
            top = int(rng.integers(0, height - side + 1))
            left = int(rng.integers(0, width - side + 1))
            crop = resize_image(photo[top : top + side, left : left + side], CROP)
            flipped = bool(rng.random() < 0.5)
            images.append(crop[:, ::-1] if flipped else crop)
            photos.append(name)
            boxes.append((top, left, side, flipped))
    return np.stack(images).astype(np.float32), photos, np.asarray(boxes, np.float64)


def crop_pool(ctx: DemoContext) -> CropPool:
    """The pool for `ctx` (built once): 10 crops per photo (3 in quick mode).

    Args:
        ctx: The demo context (its `hed` backbone, seed and quick flag).

    Returns:
        The `CropPool`.
    """
    if "crop_pool" in ctx.cache:
        return ctx.cache["crop_pool"]
    from ..features import FeatureModel
    from ..inspect import receptive_field

    backbone = ctx.vgg16
    images, photos, boxes = _random_crops(ctx, 3 if ctx.quick else 10)
    model = FeatureModel(
        backbone, [PATCH_LAYER, FEATURE_LAYER], logits=False, input_shape=(CROP, CROP, 3)
    ).model
    maps, features = [], []
    for start in range(0, len(images), 32):
        out = model(images[start : start + 32], training=False)
        maps.append(np.asarray(out[PATCH_LAYER]))
        features.append(np.asarray(out[FEATURE_LAYER]).mean(axis=(1, 2)))
    field = receptive_field(backbone, PATCH_LAYER, input_size=CROP)
    h, w = maps[0].shape[1:3]
    rows = [field.window(r, 0)[0] >= 0 and field.window(r, 0)[2] <= CROP for r in range(h)]
    cols = [field.window(0, c)[1] >= 0 and field.window(0, c)[3] <= CROP for c in range(w)]
    inside = np.outer(rows, cols)
    pool = CropPool(
        images, photos, boxes, np.concatenate(maps), np.concatenate(features), inside, field
    )
    ctx.cache["crop_pool"] = pool
    return pool


class UnitPatches(NamedTuple):
    """One unit's (channel's) best patches, best first, one per spot of a photo.

    Attributes:
        channel: Channel index in `PATCH_LAYER`.
        crops: Crop index per patch.
        positions: `(row, col)` unit position per patch (always an `inside` unit).
        activations: Activation per patch.
    """

    channel: int
    crops: List[int]
    positions: List[Tuple[int, int]]
    activations: List[float]


def photo_box(pool: CropPool, crop: int, row: int, col: int) -> Tuple[float, float, float]:
    """`(top, left, side)` in photo pixels of the receptive field of unit `(row, col)` of a crop."""
    top, left, side, flipped = pool.boxes[crop]
    y0, x0, y1, x1 = pool.field.window(row, col)
    if flipped:
        x0 = CROP - x1
    scale = side / CROP
    return top + y0 * scale, left + x0 * scale, (y1 - y0) * scale


def _overlap(a: Tuple[float, float, float], b: Tuple[float, float, float]) -> float:
    height = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    width = max(0.0, min(a[1] + a[2], b[1] + b[2]) - max(a[1], b[1]))
    return height * width / min(a[2] ** 2, b[2] ** 2)


def unit_patches(pool: CropPool, channel: int, k: int) -> UnitPatches:
    """One channel's `k` strongest inside units, one per spot of a photo.

    Units are taken strongest first; one whose field (mapped back to its photo by `photo_box`)
    covers more than a third of an already taken field of the same photo is skipped, so
    overlapping crops do not show the same spot twice.

    Args:
        pool: The crop pool.
        channel: Channel of `PATCH_LAYER`.
        k: Patches wanted.

    Returns:
        `UnitPatches`, best first; fewer than `k` when fewer positive, distinct spots exist.
    """
    maps = np.where(pool.inside, pool.maps[..., channel], -np.inf)
    flat = maps.reshape(len(maps), -1)
    order = np.argsort(-flat, axis=None)
    chosen: List[Tuple[int, int, int, float]] = []
    boxes: Dict[str, List[Tuple[float, float, float]]] = {}
    for index in order[: 40 * k]:
        crop, position = divmod(int(index), flat.shape[1])
        value = float(flat[crop, position])
        if not np.isfinite(value) or value <= 0:
            break
        row, col = divmod(position, maps.shape[2])
        box = photo_box(pool, crop, row, col)
        seen = boxes.setdefault(pool.photos[crop], [])
        if any(_overlap(box, other) > 1 / 3 for other in seen):
            continue
        seen.append(box)
        chosen.append((crop, row, col, value))
        if len(chosen) == k:
            break
    return UnitPatches(
        channel, [c[0] for c in chosen], [(c[1], c[2]) for c in chosen], [c[3] for c in chosen]
    )


def inside_stats(pool: CropPool) -> Tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of `PATCH_LAYER` over the pool's inside units."""
    inside = pool.maps[:, pool.inside].reshape(-1, pool.maps.shape[-1])
    return inside.mean(axis=0), inside.std(axis=0) + 1e-6


def coherence(
    pool: CropPool, patches: UnitPatches, stats: Optional[Tuple[np.ndarray, np.ndarray]] = None
) -> float:
    """Mean pairwise cosine similarity of the patches' standardized `PATCH_LAYER` vectors.

    Each patch's full 512-d vector at its unit is standardized by the pool's per-channel mean and
    spread over inside units (so plain, dull regions do not look alike merely for being dull);
    high when the unit's top patches look alike to the whole layer (one concept), low when the
    unit fires on unrelated things.

    Args:
        pool: The crop pool.
        patches: One unit's patches (at least two).
        stats: `inside_stats(pool)`, when already computed.

    Returns:
        The mean similarity, in `[-1, 1]`.
    """
    mean, spread = stats if stats is not None else inside_stats(pool)
    vectors = np.stack([pool.maps[c, r, k] for c, (r, k) in zip(patches.crops, patches.positions)])
    vectors = (vectors - mean) / spread
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
    n = len(vectors)
    return float(((vectors @ vectors.T).sum() - n) / (n * (n - 1)))


def top_units(pool: CropPool, units: int, k: int, min_photos: int = 3) -> List[UnitPatches]:
    """Units whose top `k` patches show one concept across several photos, each unlike the others.

    Every channel's `k` best inside patches (one per spot of a photo) are scored by `coherence`;
    channels whose patches come from fewer than `min_photos` photos are skipped (a concept, not
    one picture). Greedily, most coherent first, a unit is kept when it shares at most a third
    of its crops with an already kept unit.

    Args:
        pool: The crop pool.
        units: Number of units (rows).
        k: Patches per unit.
        min_photos: Fewest different photos among a unit's patches.

    Returns:
        Up to `units` `UnitPatches`, most coherent first.
    """
    stats = inside_stats(pool)
    candidates = []
    for channel in range(pool.maps.shape[-1]):
        result = unit_patches(pool, channel, k)
        if len(result.crops) < k or len(set(pool.photos[c] for c in result.crops)) < min_photos:
            continue
        candidates.append((coherence(pool, result, stats), result))
    candidates.sort(key=lambda pair: -pair[0])
    kept: List[UnitPatches] = []
    for _, result in candidates:
        if any(len(set(result.crops) & set(other.crops)) > k // 3 for other in kept):
            continue
        kept.append(result)
        if len(kept) == units:
            break
    return kept
