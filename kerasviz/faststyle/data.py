"""The training images as a `tf.data` pipeline whose content is a pure function of the step.

Element `i` of the stream (the `i`-th image the network trains on) is chosen by a per-epoch
shuffle seeded with `(seed, epoch)` and cropped at a position seeded with `(seed, i)`, so the
stream started at step `k` is exactly the tail of the stream started at step 0: a resumed run
sees the same images an uninterrupted one would have, without checkpointing iterator state.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, List, Optional, Union

import numpy as np
import tensorflow as tf

from ..images import as_image_batch, resize_image
from ..images.folders import readable_image_files

__all__ = ["TF_IMAGE_FORMATS", "list_image_files", "training_dataset"]

#: The formats `tf.io.decode_image` reads; other files in a content folder are skipped.
TF_IMAGE_FORMATS = ("JPEG", "PNG", "BMP", "GIF")


def list_image_files(folder: Union[str, os.PathLike]) -> List[Path]:
    """The content images of a folder by the package's one folder rule (`kerasviz.images.folders`).

    Recursive, sorted, hidden files ignored; files Pillow cannot read, or in a format
    `tf.io.decode_image` cannot decode, are skipped with a `SkippedImageWarning`.

    Args:
        folder: A folder of JPEG / PNG / BMP / GIF files.

    Returns:
        The image paths.

    Raises:
        ImageError: A missing or empty folder, or no readable image in it.
    """
    return [Path(f) for f in readable_image_files(folder, formats=TF_IMAGE_FORMATS)]


def _resize_shorter_side(image: tf.Tensor, size: int) -> tf.Tensor:
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = tf.cast(size, tf.float32) / tf.reduce_min(shape)
    new = tf.maximum(tf.cast(tf.math.ceil(shape * scale), tf.int32), size)
    return tf.image.resize(image, new, method="bilinear", antialias=True)


def _prepare_arrays(images: Any, size: int) -> np.ndarray:
    batch, _ = as_image_batch(images, name="content_images")
    height, width = batch.shape[1:3]
    scale = size / min(height, width)
    shape = (max(size, int(np.ceil(height * scale))), max(size, int(np.ceil(width * scale))))
    return batch if shape == (height, width) else resize_image(batch, shape)


def training_dataset(
    content_images: Any,
    image_size: int,
    batch_size: int,
    n_styles: int,
    start_step: int = 0,
    seed: int = 0,
    input_context: Optional[tf.distribute.InputContext] = None,
    augment: bool = False,
) -> tf.data.Dataset:
    """An endless stream of `(crops, style_indices)` batches starting at a given step.

    Args:
        content_images: A folder of images, or an array / list of same-size images
            `(N, H, W, 3)` in `[0, 255]`. Images are resized so the shorter side is `image_size`
            and a random `image_size × image_size` crop is taken each time one is drawn.
        image_size: Crop size in pixels.
        batch_size: Images per (global) batch.
        n_styles: Styles to draw from: each image gets one style index, uniformly at random.
        start_step: First batch of the stream (batches `start_step, start_step + 1, ...`).
        seed: Random seed of the shuffle, the crops and the style draws.
        input_context: From `strategy.distribute_datasets_from_function`: this input pipeline
            then yields per-replica batches of its own contiguous slice of every global batch
            (pipeline `p` of `P` reads images `p·B/P ... (p+1)·B/P - 1` of global batch `s`), so
            the workers together see exactly the batches one process would, and no worker
            reads or decodes another worker's images. `None`: one pipeline, global batches.
        augment: Random scales and flips: images are kept at a shorter side of
            `2 · image_size`, and each draw rescales its image to a random shorter side in
            `[image_size, 2 · image_size]` before the crop, then flips the crop left-right with
            probability 1/2 (all seeded by the element's index, so resuming stays exact).

    Returns:
        A `tf.data.Dataset` of `(float32 (batch, image_size, image_size, 3) in [0, 255],
        int32 (batch,))`, prefetched; `batch` is `batch_size`, or the per-replica batch size
        with an `input_context`.

    Raises:
        ImageError: An unreadable folder or image, or invalid arrays.
    """
    kept = 2 * image_size if augment else image_size  # shorter side the images are stored at
    if isinstance(content_images, (str, os.PathLike)):
        files = tf.constant([str(p) for p in list_image_files(content_images)])
        count = len(files)

        def load(index):
            data = tf.io.read_file(files[index])
            image = tf.io.decode_image(data, channels=3, expand_animations=False)
            image.set_shape((None, None, 3))
            return _resize_shorter_side(tf.cast(image, tf.float32), kept)

    else:
        arrays = tf.constant(_prepare_arrays(content_images, kept))
        count = int(arrays.shape[0])

        def load(index):
            return arrays[index]

    def element(i):
        epoch, position = i // count, i % count
        order = tf.random.experimental.stateless_shuffle(tf.range(count, dtype=tf.int64), seed=tf.stack([seed, epoch]))
        image = load(order[position])
        if augment:
            side = tf.random.stateless_uniform((), tf.stack([seed + 2, i]), image_size, kept + 1, dtype=tf.int32)
            image = _resize_shorter_side(image, side)
        crop = tf.image.stateless_random_crop(image, (image_size, image_size, 3), seed=tf.stack([seed, i]))
        if augment:
            crop = tf.image.stateless_random_flip_left_right(crop, seed=tf.stack([seed + 3, i]))
        style = tf.random.stateless_uniform((), tf.stack([seed + 1, i]), maxval=n_styles, dtype=tf.int32)
        return crop, style

    batch_size, start_step = int(batch_size), int(start_step)
    per_replica, chunk, offset = batch_size, batch_size, 0
    if input_context is not None:
        per_replica = input_context.get_per_replica_batch_size(batch_size)
        chunk = batch_size // input_context.num_input_pipelines  # this pipeline's slice of a global batch
        offset = input_context.input_pipeline_id * chunk

    def global_index(j):  # j-th image of this pipeline -> its index in the one-process stream
        return (start_step + j // chunk) * batch_size + offset + j % chunk

    return (
        tf.data.Dataset.counter(0)
        .map(lambda j: element(global_index(j)), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .batch(per_replica, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )
