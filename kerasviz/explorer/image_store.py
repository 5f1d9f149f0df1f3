"""The explorer's images: uploads (through the package's decode limits), bundled samples and the
`--images` folder (addressed by index only: the browser never names a path), kept by id."""

from __future__ import annotations

import collections
import os
import threading
import uuid
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np

from ..checks import check_int
from ..errors import ImageError, ParameterError
from ..images import NAMED_IMAGE_PREFIX, NAMED_IMAGES, SAMPLE_IMAGES, load_image, readable_image_files
from ..images.image_bytes import DEFAULT_MAX_DECODE_PIXELS

__all__ = ["ImageStore", "DEFAULT_IMAGE_SIZE"]

#: Size used when the model takes any size.
DEFAULT_IMAGE_SIZE = (224, 224)


class ImageStore:
    """Decoded images by id (the most recent `capacity`), resized to the model's input size."""

    def __init__(
        self,
        size: Optional[Tuple[int, int]],
        folder: Optional[str] = None,
        *,
        max_pixels: int = DEFAULT_MAX_DECODE_PIXELS,
        capacity: int = 64,
    ) -> None:
        """Index the images folder (if any); decode nothing yet.

        Args:
            size: `(height, width)` every image is resized to; `None` uses `DEFAULT_IMAGE_SIZE`.
            folder: A folder of images (searched recursively; unreadable files skipped), or None.
            max_pixels: Largest decoded `height * width` of an upload (decompression bombs).
            capacity: Images kept in memory, >= 1 (older ones are forgotten).

        Raises:
            ImageError: `folder` is missing or holds no readable image.
        """
        self.size = tuple(size) if size else DEFAULT_IMAGE_SIZE
        self.max_pixels = int(max_pixels)
        self._capacity = check_int(capacity, "capacity", low=1)
        self._images: "collections.OrderedDict[str, np.ndarray]" = collections.OrderedDict()
        self._lock = threading.Lock()
        self._folder_files: List[str] = readable_image_files(folder) if folder else []
        self._folder = os.path.abspath(folder) if folder else None

    # -- sources -----------------------------------------------------------------------------
    @staticmethod
    def samples() -> Sequence[str]:
        """Names of the bundled sample pictures (`skimage:NAME`), the best-known first."""
        return tuple(SAMPLE_IMAGES) + tuple(n for n in NAMED_IMAGES if n not in SAMPLE_IMAGES)

    def folder_names(self) -> List[str]:
        """File names of the images folder relative to it (shown in the page; never accepted back)."""
        return [os.path.relpath(path, self._folder) for path in self._folder_files] if self._folder else []

    @property
    def folder_count(self) -> int:
        """Number of readable images in the images folder (0 without one)."""
        return len(self._folder_files)

    def folder_path(self, index: Any) -> str:
        """The file of one folder image.

        Args:
            index: 0-based index into `folder_names()`.

        Returns:
            Its path on this machine (server side only).

        Raises:
            ParameterError: No images folder, or the index is out of range.
        """
        if not self._folder_files:
            raise ParameterError("No images folder: start `kerasviz explore --images FOLDER`. Received: folder index")
        index = check_int(index, "folder", low=0, high=len(self._folder_files) - 1)
        return self._folder_files[index]

    # -- decoding ----------------------------------------------------------------------------
    def decode(self, data: bytes) -> np.ndarray:
        """Decode an uploaded file with the decode limits and resize it for the model.

        Args:
            data: The encoded image (PNG, JPEG, BMP, WebP ... whatever Pillow reads).

        Returns:
            float32 `(H, W, 3)` in `[0, 255]` at `self.size`.

        Raises:
            ImageError: Empty, undecodable, or larger than the pixel limit.
        """
        if not data:
            raise ImageError("The upload is empty: send an image file. Received: 0 bytes")
        return load_image(bytes(data), self.size, max_pixels=self.max_pixels)

    def add(self, image: np.ndarray) -> str:
        """Keep a decoded image and return its new id."""
        key = uuid.uuid4().hex[:16]
        with self._lock:
            self._images[key] = np.asarray(image, np.float32)
            while len(self._images) > self._capacity:
                self._images.popitem(last=False)
        return key

    def add_bytes(self, data: bytes) -> str:
        """Decode an upload (see `decode`) and keep it; returns its id."""
        return self.add(self.decode(data))

    def add_sample(self, name: Any) -> str:
        """Load a bundled picture by name (e.g. `"chelsea"`) and keep it; returns its id.

        Raises:
            ImageError: Unknown name.
        """
        name = str(name)
        if name.startswith(NAMED_IMAGE_PREFIX):
            name = name[len(NAMED_IMAGE_PREFIX):]
        if name not in NAMED_IMAGES:
            raise ImageError(f"Unknown sample {name!r}; choose from {', '.join(self.samples())}. Received: sample={name!r}")
        return self.add(load_image(NAMED_IMAGE_PREFIX + name, self.size))

    def add_folder_image(self, index: Any) -> str:
        """Load image `index` of the images folder and keep it; returns its id."""
        return self.add(load_image(self.folder_path(index), self.size, max_pixels=self.max_pixels))

    def get(self, key: Any) -> np.ndarray:
        """A kept image.

        Args:
            key: An id from `add*`.

        Returns:
            float32 `(H, W, 3)`.

        Raises:
            ImageError: Unknown or forgotten id.
        """
        with self._lock:
            image = self._images.get(str(key))
        if image is None:
            raise ImageError(
                f"Unknown image id {str(key)[:40]!r} (forgotten after {self._capacity} newer images): "
                f"upload the image again. Received: image_id={str(key)[:40]!r}"
            )
        return image

    def folder_batch(self, start: int, stop: int) -> np.ndarray:
        """Folder images `start:stop`, decoded and resized (for the patch index).

        Returns:
            float32 `(n, H, W, 3)`.
        """
        paths = self._folder_files[start:stop]
        if not paths:
            raise ImageError("The images folder holds no images in this range. Received: "
                             f"start={start}, stop={stop}")
        return np.stack([load_image(p, self.size, max_pixels=self.max_pixels) for p in paths])
