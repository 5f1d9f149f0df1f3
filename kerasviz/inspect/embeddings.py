"""Features of many images, their nearest neighbours, and 2-D maps (PCA / t-SNE / UMAP).

`extract_features` streams images (an array, files or a folder) through a model in batches and
returns one vector per image: by default the classifier's input (the "penultimate" features, e.g.
Lite0's pooled 1280-d vector). `nearest_neighbors` searches them with scikit-learn;
`neighbors_grid` draws, per query, its neighbours in feature space beside those in pixel space,
as in the lecture (`neighbors.py`). `embed_2d` maps features to 2-D and `embedding_plot` places thumbnails at
those positions, or snaps them to a grid without overlaps (Karpathy's t-SNE grids; `embedding_maps.py`).
"""

from __future__ import annotations

from typing import Any, List, Optional, Tuple, Union

import numpy as np

from ..backbones import as_backbone
from ..graph_nodes import find_layer
from .layer_outputs import layer_function, penultimate_layer
from .sources import SourceId, check_batch_size, image_batches

__all__ = [
    "extract_features",
]

_DEFAULT_IMAGE_SIZE = (224, 224)


def extract_features(
    model: Any,
    images_or_folder: Any,
    layer: Optional[str] = None,
    *,
    batch_size: int = 32,
    image_size: Optional[Union[int, Tuple[int, int]]] = None,
    return_sources: bool = False,
    progress: Optional[bool] = None,
) -> Union[np.ndarray, Tuple[np.ndarray, List[SourceId]]]:
    """One feature vector per image, streamed in batches through a compiled forward pass.

    A folder (searched recursively) or a list of files goes through a `tf.data` pipeline that
    decodes and resizes in parallel and holds a bounded number of batches; unreadable files are
    skipped with a `SkippedImageWarning` naming each (see `kerasviz.inspect.sources`).

    Args:
        model: A `Backbone` or a Keras classifier taking pixels in `[0, 255]`.
        images_or_folder: Images `(H, W, 3)` / `(N, H, W, 3)`, uint8 or float in `[0, 255]`;
            a folder path; one image file; or a list of image file paths.
        layer: Layer whose output is the feature. `None`: the input of the classifier layer
            (the layer computing the logits), e.g. Lite0's pooled 1280-d vector. A 4-D feature
            map `(N, h, w, C)` is global-average-pooled to `(N, C)`; other outputs are flattened.
        batch_size: Images per forward pass (positive).
        image_size: Size files are resized to, an int or `(height, width)`; default the model's
            input size (224 x 224 when the model takes any size). Arrays keep their own size.
        return_sources: Also return one source id per row: the file path for files (skipped
            files have no row), the row index for arrays.
        progress: Show a progress bar; `None` uses the global setting.

    Returns:
        float32 `(N, D)` features, or `(features, sources)` with `return_sources=True`.

    Raises:
        ModelError: Not a model, or images of a size the layer cannot run at.
        LayerNotFoundError: Unknown `layer`.
        ImageError: Invalid arrays, a missing or empty folder, no readable image.
        ParameterError: Bad `batch_size` or `image_size`.
    """
    backbone = as_backbone(model)
    check_batch_size(batch_size)
    if layer is None:
        layer = penultimate_layer(backbone)
    else:
        find_layer(backbone.model, layer)
    compiled = layer_function(backbone, layer, "pool")
    size = image_size or compiled.input_size or backbone.input_size or _DEFAULT_IMAGE_SIZE
    rows, sources = [], []
    for batch in image_batches(
        images_or_folder, size=size, batch_size=batch_size, progress=progress, desc="features"
    ):
        compiled.check_size(batch.pixels.shape[1:3], layer)
        rows.append(compiled.fn(batch.pixels).numpy())
        sources.extend(batch.sources)
    features = np.concatenate(rows).astype(np.float32, copy=False)
    return (features, sources) if return_sources else features
