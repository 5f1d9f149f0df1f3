"""Many images, streamed: an array batch, a list of image files, or a folder, in bounded batches.

`image_batches` is the one source behind `extract_features` and `max_activating_patches`. Arrays
are validated once (`as_image_batch`) and sliced; files are decoded by `kerasviz.load_image`
inside a `tf.data` pipeline (list -> parallel decode + resize -> batch -> prefetch), so memory
holds a few batches whatever the folder's size.

Files follow the package's one folder rule (`kerasviz.images.folders`): recursive, sorted,
hidden files ignored; an unreadable file is skipped with a `SkippedImageWarning`; a missing or
empty folder, or no readable image at all, raises `ImageError`.
"""

from __future__ import annotations

import os
import pathlib
from dataclasses import dataclass
from typing import Any, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..checks import check_int
from ..errors import ImageError, ParameterError
from ..images import as_image_batch, load_image, parse_size
from ..images.folders import (
    list_image_files,
    no_readable_image_error,
    warn_skipped,
)
from ..progress import progress_bar

__all__ = [
    "ImageBatch",
    "image_batches",
    "check_batch_size",
]

#: A source id: the file path for files, the row index for arrays.
SourceId = Union[str, int]


@dataclass(frozen=True)
class ImageBatch:
    """One batch of a stream.

    Attributes:
        pixels: float32 `(b, H, W, 3)` in `[0, 255]`.
        sources: One id per row: the file path (str) for files, the row index (int) for arrays.
    """

    pixels: np.ndarray
    sources: List[SourceId]


def check_batch_size(batch_size: Any) -> int:
    """Validate a batch size (a positive int).

    Args:
        batch_size: The value to check.

    Returns:
        It, as an int.

    Raises:
        ParameterError: Not a positive int.
    """
    return check_int(batch_size, "batch_size", low=1)


def _is_paths(source: Any) -> bool:
    return (
        isinstance(source, (list, tuple))
        and len(source) > 0
        and all(isinstance(item, (str, os.PathLike)) for item in source)
    )


def _resolve(source: Any) -> Tuple[Optional[np.ndarray], List[str]]:
    """`(array batch, [])` for images, `(None, files)` for a folder, one file or a list of files."""
    if isinstance(source, (str, os.PathLike)):
        if pathlib.Path(source).is_file():
            return None, [os.fspath(source)]
        return None, list_image_files(source)
    if _is_paths(source):
        return None, [os.fspath(item) for item in source]
    batch, _ = as_image_batch(source, name="images")
    return batch, []


def _decode_dataset(files: Sequence[str], size: Tuple[int, int], batch_size: int):
    """A `tf.data` pipeline of `(pixels, ok, message)` batches; failed files come back `ok=False`."""
    import tensorflow as tf

    height, width = size

    def decode(path: tf.Tensor):
        name = path.numpy().decode()
        try:
            return load_image(name, size=size), True, b""
        except ImageError as error:
            return np.zeros((height, width, 3), np.float32), False, str(error).encode()

    def load(path):
        pixels, ok, message = tf.py_function(decode, [path], [tf.float32, tf.bool, tf.string])
        pixels.set_shape((height, width, 3))
        return pixels, ok, message

    return (
        tf.data.Dataset.from_tensor_slices(list(files))
        .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .batch(batch_size)
        .prefetch(2)  # bounded: at most two decoded batches wait for the model
    )


def image_batches(
    source: Any,
    *,
    size: Optional[Tuple[int, int]],
    batch_size: int,
    progress: Optional[bool] = None,
    desc: str = "images",
) -> Iterator[ImageBatch]:
    """Stream images in batches from an array, a list of files or a folder.

    Args:
        source: Images `(H, W, 3)` / `(N, H, W, 3)` (uint8 or float `[0, 255]`), a folder path
            (searched recursively), one image file, or a list of image file paths.
        size: `(height, width)` files are resized to (bicubic); arrays are used at their own size.
        batch_size: Images per batch (positive).
        progress: Show a tqdm bar; `None` uses the global setting.
        desc: Label of the progress bar.

    Yields:
        `ImageBatch` items; unreadable files are skipped with a `SkippedImageWarning`.

    Raises:
        ImageError: Invalid arrays, a missing or empty folder, or no readable image at all.
        ParameterError: Bad `batch_size` or `size`.
    """
    batch_size = check_batch_size(batch_size)
    size = parse_size(size, "image_size")
    array, files = _resolve(source)
    if array is not None:
        with progress_bar(total=len(array), desc=desc, progress=progress, unit="img") as bar:
            for start in range(0, len(array), batch_size):
                rows = array[start : start + batch_size]
                yield ImageBatch(rows, list(range(start, start + len(rows))))
                bar.update(len(rows))
        return
    if size is None:
        raise ParameterError(
            "Files need an `image_size` to be resized to. Received: image_size=None"
        )
    count, done = 0, 0
    with progress_bar(total=len(files), desc=desc, progress=progress, unit="img") as bar:
        for pixels, ok, messages in _decode_dataset(files, size, batch_size):
            names = files[done : done + len(ok)]
            done += len(names)
            ok = ok.numpy()
            for name, good, message in zip(names, ok, messages.numpy()):
                if not good:
                    warn_skipped(name, message.decode(), stacklevel=4)
            bar.update(len(names))
            if ok.any():
                kept = [name for name, good in zip(names, ok) if good]
                yield ImageBatch(pixels.numpy()[ok], kept)
                count += len(kept)
    if count == 0:
        raise no_readable_image_error(files)
