"""Where dataset-scale work reads its images: arrays, files (a folder or a list), TFRecords, tf.data.

`open_stream(source, image_size=...)` turns any supported source into an `ImageStream` that
reads a *range* of images (`[start, stop)` in the source's global order) in batches, so the
in-process collector and every Beam worker read exactly the same images for the same shard.

- Folders follow the package's one folder rule (`kerasviz.images.folders`): recursive, sorted,
  hidden files ignored; an unreadable file is skipped with a `SkippedImageWarning` and listed.
- TFRecord files (`*.tfrecord`, `*.tfrec`, or a list of them) hold `tf.train.Example`s with the
  encoded image under `image_key` (default `"image/encoded"`, the TF / TFDS convention).
- A `tf.data.Dataset` yields images `(H, W, 3)` (or `(image, label)` pairs, or dicts with an
  `"image"` key) in `[0, 255]`; it can only be read in order, so it is streamed once.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ImageError, ParameterError
from ..images import as_image_batch, load_image
from ..images.folders import list_image_files, warn_skipped

__all__ = ["TFRECORD_SUFFIXES", "ImageBatchRange", "ImageStream", "open_stream"]

#: File name endings read as TFRecord files.
TFRECORD_SUFFIXES = (".tfrecord", ".tfrecords", ".tfrec")


@dataclass
class ImageBatchRange:
    """One batch read from a stream.

    Attributes:
        pixels: float32 `(b, H, W, 3)` in `[0, 255]` (readable images only).
        indices: int64 `(b,)` global index of each image in the source's order.
        ids: One string id per image (the file path relative to the folder, or the index).
        skipped: Source ids of this batch that could not be read.
    """

    pixels: np.ndarray
    indices: np.ndarray
    ids: list[str]
    skipped: list[str] = field(default_factory=list)


@dataclass
class ImageStream:
    """A source of images readable by index range (see `open_stream`).

    Attributes:
        kind: `"array"`, `"files"`, `"tfrecord"` or `"dataset"`.
        count: Number of images, or `None` when unknown (a `tf.data.Dataset`).
        size: `(height, width)` images are resized to (`None`: arrays / datasets as they are).
        fingerprint: Hash describing the source, so a resumed run can tell it is the same.
        items: The array, the file paths, the TFRecord files, or the dataset.
        ids: One id per image where known up front (files, arrays).
        image_key: Feature holding the encoded image in TFRecord examples.
    """

    kind: str
    count: int | None
    size: tuple[int, int] | None
    fingerprint: str
    items: Any
    ids: list[str] | None = None
    image_key: str = "image/encoded"

    @property
    def portable(self) -> bool:
        """Whether a worker process can read the stream from a pickled copy (not a Dataset)."""
        return self.kind != "dataset"

    def read(self, start: int, stop: int | None, batch_size: int) -> Iterator[ImageBatchRange]:
        """Read images `[start, stop)` in batches.

        Args:
            start: First global index.
            stop: One past the last index (`None`: to the end).
            batch_size: Images per batch.

        Yields:
            `ImageBatchRange` items (a batch may be empty when all its files were unreadable).
        """
        if self.kind == "array":
            stop = self.count if stop is None else min(stop, self.count)
            for first in range(start, stop, batch_size):
                last = min(first + batch_size, stop)
                indices = np.arange(first, last, dtype=np.int64)
                yield ImageBatchRange(self.items[first:last], indices, [str(i) for i in indices])
        elif self.kind == "files":
            yield from self._read_files(start, stop, batch_size)
        else:
            yield from self._read_tensors(start, stop, batch_size)

    def _read_files(self, start: int, stop: int | None, batch_size: int):
        import tensorflow as tf

        stop = self.count if stop is None else min(stop, self.count)
        paths = self.items[start:stop]
        size = self.size

        def decode(path: tf.Tensor):
            try:
                return load_image(path.numpy().decode(), size=size), True
            except ImageError:
                return np.zeros((*size, 3), np.float32), False

        def load(path):
            pixels, ok = tf.py_function(decode, [path], [tf.float32, tf.bool])
            pixels.set_shape((*size, 3))
            return pixels, ok

        dataset = (
            tf.data.Dataset.from_tensor_slices(list(paths))
            .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .batch(batch_size)
            .prefetch(2)  # bounded: at most two decoded batches wait for the model
        )
        first = start
        for pixels, ok in dataset:
            ok = ok.numpy()
            indices = np.arange(first, first + len(ok), dtype=np.int64)
            first += len(ok)
            skipped = [self.ids[i] for i in indices[~ok]]
            for i in indices[~ok]:
                warn_skipped(self.items[i], "not a readable image", stacklevel=5)
            yield ImageBatchRange(
                pixels.numpy()[ok], indices[ok], [self.ids[i] for i in indices[ok]], skipped
            )

    def _tensor_dataset(self):
        import tensorflow as tf

        if self.kind == "tfrecord":
            key = self.image_key

            def parse(record):
                example = tf.io.parse_single_example(
                    record, {key: tf.io.FixedLenFeature([], tf.string)}
                )
                image = tf.io.decode_image(example[key], channels=3, expand_animations=False)
                return tf.cast(image, tf.float32)

            dataset = tf.data.TFRecordDataset(list(self.items)).map(
                parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
            )
        else:
            dataset = self.items.map(_dataset_image)
        if self.size is not None:
            size = self.size
            dataset = dataset.map(
                lambda image: tf.clip_by_value(
                    tf.image.resize(image, size, method="bicubic"), 0.0, 255.0
                )
            )
        return dataset

    def _read_tensors(self, start: int, stop: int | None, batch_size: int):
        dataset = self._tensor_dataset().skip(start)
        if stop is not None:
            dataset = dataset.take(stop - start)
        first = start
        for pixels in dataset.batch(batch_size).prefetch(2):
            pixels = pixels.numpy()
            indices = np.arange(first, first + len(pixels), dtype=np.int64)
            first += len(pixels)
            yield ImageBatchRange(pixels, indices, [str(i) for i in indices])


def _dataset_image(*element):
    import tensorflow as tf

    item = element[0]
    if isinstance(item, dict):
        if "image" not in item:
            raise ImageError(
                "A dataset of dicts must hold the pixels under the key 'image'. "
                f"Received: keys {sorted(item)}"
            )
        item = item["image"]
    return tf.cast(item, tf.float32)


def _hash(*parts: Any) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else repr(part).encode())
    return digest.hexdigest()[:16]


def _is_tfrecord(path: Any) -> bool:
    return isinstance(path, (str, os.PathLike)) and os.fspath(path).endswith(TFRECORD_SUFFIXES)


def open_stream(
    source: Any, *, image_size: tuple[int, int] | None, image_key: str = "image/encoded"
) -> ImageStream:
    """Recognise a source of images and describe it as an `ImageStream`.

    Args:
        source: A folder, one image file, a list of image files, one TFRecord file or a list of
            them, images `(N, H, W, 3)` (uint8 or float in `[0, 255]`), or a `tf.data.Dataset`.
        image_size: `(height, width)` files, records and dataset images are resized to; arrays
            keep their size. Required for files and TFRecords.
        image_key: The feature holding the encoded image in TFRecord examples.

    Returns:
        The stream.

    Raises:
        ImageError: A missing or empty folder, an empty list, or invalid arrays.
        ParameterError: Files or TFRecords without an `image_size`.
    """
    try:
        import tensorflow as tf

        if isinstance(source, tf.data.Dataset):
            return ImageStream("dataset", None, image_size, "dataset", source)
    except ImportError:  # pragma: no cover - tensorflow is a dependency
        pass
    root = None
    if isinstance(source, (str, os.PathLike)) and not _is_tfrecord(source):
        if not pathlib.Path(source).is_file():
            root = os.path.abspath(source)
        source = [source] if root is None else list_image_files(source)
    elif isinstance(source, (str, os.PathLike)):
        source = [source]
    if isinstance(source, (list, tuple)) and not source:
        raise ImageError("The source holds no images. Received: source=[] (an empty list)")
    if isinstance(source, (list, tuple)) and all(isinstance(s, (str, os.PathLike)) for s in source):
        paths = [os.fspath(s) for s in source]
        if image_size is None:
            raise ParameterError(
                "Image files need an `image_size` (height, width) to be resized to; a model "
                "with a fixed input size gives it. Received: image_size=None"
            )
        if all(_is_tfrecord(p) for p in paths):
            missing = [p for p in paths if not os.path.isfile(p)]
            if missing:
                raise ImageError(f"No such TFRecord file. Received: {missing[0]!r}")
            sizes = [os.path.getsize(p) for p in paths]
            fingerprint = _hash("tfrecord", paths, sizes, image_key)
            return ImageStream(
                "tfrecord", None, image_size, fingerprint, paths, image_key=image_key
            )
        if root is None and len(paths) > 1:
            root = os.path.commonpath([os.path.abspath(p) for p in paths])
        ids = [os.path.relpath(os.path.abspath(p), root) if root else p for p in paths]
        return ImageStream("files", len(paths), image_size, _hash("files", ids), paths, ids)
    batch, _ = as_image_batch(source, name="source")
    fingerprint = _hash("array", batch.shape, np.ascontiguousarray(batch).tobytes())
    ids = [str(i) for i in range(len(batch))]
    return ImageStream("array", len(batch), None, fingerprint, batch, ids)


def count_records(stream: ImageStream) -> int:
    """Count the images of a TFRecord stream (one pass over the records, nothing decoded).

    Args:
        stream: A stream of kind `"tfrecord"`.

    Returns:
        The number of records.
    """
    import tensorflow as tf

    return int(sum(1 for _ in tf.data.TFRecordDataset(list(stream.items))))


def with_count(stream: ImageStream) -> ImageStream:
    """The stream with its `count` filled in (TFRecords counted; a Dataset stays unknown).

    Args:
        stream: Any stream.

    Returns:
        The same stream (TFRecord count filled in place).
    """
    if stream.kind == "tfrecord" and stream.count is None:
        stream.count = count_records(stream)
    return stream


def describe(sources: Sequence[str], limit: int = 3) -> str:
    """A short listing of ids for messages: the first `limit` and `...`.

    Args:
        sources: Ids.
        limit: How many to show.

    Returns:
        The listing.
    """
    more = " ..." if len(sources) > limit else ""
    return f"{list(sources[:limit])}{more}"
