"""Images in and out: load / save with Pillow, validation, resizing, grids and heatmap pictures.

Conventions shared by the whole package: images are NumPy arrays, channels last, in pixel space
(`uint8`, or `float32` in `[0, 255]`), shaped `(H, W, 3)` or `(N, H, W, 3)`. Heatmaps are float
arrays in `[0, 1]` shaped `(H, W)` or `(N, H, W)`. Resizing goes through Pillow (bicubic for
images, bilinear for heatmaps); colormaps come from OpenCV.

Modules, along the data path:

- `io`: `load_image` (files, bytes, PIL images, arrays, `skimage:NAME`), `save_image`,
  `sample_image`; `decode`: Pillow modes to RGB and decode limits.
- `arrays`: `as_image_batch` validation, `to_uint8`, `resize_image`, heatmap resizing and
  normalization.
- `render`: colormaps, overlays, `gradient_image`, `attribution_picture`; `grid`: `image_grid`.
- `folders`: the one rule for reading a folder of images.
"""

from .arrays import (
    UnitRangeWarning,
    as_image_batch,
    normalize_map,
    parse_size,
    resize_image,
    resize_map,
    to_uint8,
)
from .folders import SkippedImageWarning, list_image_files, readable_image_files
from .grid import image_grid
from .io import (
    NAMED_IMAGE_PREFIX,
    NAMED_IMAGES,
    PAINTING_PREFIX,
    SAMPLE_IMAGES,
    load_image,
    sample_image,
    save_image,
)
from .render import (
    ATTRIBUTION_VIEWS,
    COLORMAPS,
    attribution_picture,
    colorize_map,
    gradient_image,
    overlay_heatmap,
)

__all__ = [
    "load_image",
    "save_image",
    "as_image_batch",
    "to_uint8",
    "resize_image",
    "resize_map",
    "normalize_map",
    "image_grid",
    "colorize_map",
    "overlay_heatmap",
    "gradient_image",
    "attribution_picture",
    "parse_size",
    "sample_image",
    "list_image_files",
    "readable_image_files",
    "SkippedImageWarning",
    "UnitRangeWarning",
    "ATTRIBUTION_VIEWS",
    "COLORMAPS",
    "NAMED_IMAGES",
    "NAMED_IMAGE_PREFIX",
    "PAINTING_PREFIX",
    "SAMPLE_IMAGES",
]
