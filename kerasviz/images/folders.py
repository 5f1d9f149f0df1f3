"""The one rule for reading a folder of images, shared by `inspect` and fast-style training.

- A folder is searched recursively; files are taken in sorted path order; hidden files and
  folders (names starting with ".") are ignored. There is no suffix whitelist: whether a file
  is an image is decided by reading it.
- A file that cannot be read as an image (not an image, truncated, corrupt, or a format the
  reader cannot decode) is **skipped** with a `SkippedImageWarning` naming it and the reason:
  in a large folder, continuing is what a user wants.
- A missing folder, a folder without files, or a set of files of which **none** is a readable
  image raises `ImageError`.

`list_image_files` gives the candidates (reading happens later, e.g. inside a `tf.data`
pipeline, which calls `warn_skipped` for each failure); `readable_image_files` checks each file
up front with Pillow, for readers that cannot skip files themselves.
"""

from __future__ import annotations

import os
import pathlib
import warnings
from typing import Collection, List, Optional, Sequence, Union

from PIL import Image

from ..errors import ImageError

__all__ = [
    "SkippedImageWarning",
    "list_image_files",
    "no_readable_image_error",
    "readable_image_files",
    "warn_skipped",
]


class SkippedImageWarning(UserWarning):
    """A file in a folder (or list of paths) could not be read as an image and was skipped."""


def list_image_files(folder: Union[str, os.PathLike]) -> List[str]:
    """The candidate files of a folder: recursive, sorted, hidden files and folders left out.

    Args:
        folder: Path of a folder.

    Returns:
        File paths (strings), sorted. Whether each is a readable image is decided when it is read.

    Raises:
        ImageError: The folder does not exist, is not a folder, or holds no files.
    """
    path = pathlib.Path(folder)
    if not path.exists():
        raise ImageError(f"No such folder. Check the path. Received: folder={os.fspath(folder)!r}")
    if not path.is_dir():
        raise ImageError(
            "Expected a folder of images (or pass a list of file paths). "
            f"Received: folder={os.fspath(folder)!r}"
        )
    files = sorted(
        str(p)
        for p in path.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )
    if not files:
        raise ImageError(
            "The folder holds no images (no files at all); put some images (PNG, JPEG, ...) in it. "
            f"Received: folder={os.fspath(folder)!r}"
        )
    return files


def warn_skipped(path: Union[str, os.PathLike], reason: str, *, stacklevel: int = 3) -> None:
    """Warn that a file was skipped, the one message format of the folder rule.

    Args:
        path: The skipped file.
        reason: Why it could not be read (e.g. the `ImageError` message).
        stacklevel: Passed to `warnings.warn` so the warning points at the user's call.
    """
    warnings.warn(
        f"Skipped {os.fspath(path)!r}: {reason}", SkippedImageWarning, stacklevel=stacklevel
    )


def no_readable_image_error(files: Sequence[Union[str, os.PathLike]]) -> ImageError:
    """The error for a set of files of which none could be read.

    Args:
        files: The candidate files (all skipped).

    Returns:
        An `ImageError` to raise, naming the first files.
    """
    names = [os.fspath(f) for f in files]
    more = " ..." if len(names) > 3 else ""
    return ImageError(
        f"None of the {len(names)} file(s) is a readable image (each was skipped with a "
        f"warning saying why). Received: files {names[:3]}{more}"
    )


def readable_image_files(
    source: Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]],
    *,
    formats: Optional[Collection[str]] = None,
) -> List[str]:
    """The files of a folder (or list) that Pillow can read, skipping the others with a warning.

    Each file is identified and verified by Pillow (cheap: the pixels are not decoded).

    Args:
        source: A folder (searched as `list_image_files` does) or a list of file paths.
        formats: Pillow format names the caller's reader can decode (e.g.
            `{"JPEG", "PNG", "BMP", "GIF"}` for `tf.io.decode_image`); files in other formats
            are skipped with a warning too. `None` accepts every format Pillow reads.

    Returns:
        The readable file paths (strings), in order.

    Raises:
        ImageError: A missing or empty folder, or no readable image at all.
    """
    if isinstance(source, (str, os.PathLike)):
        files = list_image_files(source)
    else:
        files = [os.fspath(f) for f in source]
    readable = []
    for file in files:
        try:
            with Image.open(file) as image:
                kind = image.format
                image.verify()
        except Exception as error:  # noqa: BLE001 - any failure means "not a readable image"
            warn_skipped(file, f"not a readable image ({error})")
            continue
        if formats is not None and kind not in formats:
            warn_skipped(file, f"{kind} images are not supported here; use {sorted(formats)}")
            continue
        readable.append(file)
    if not readable:
        raise no_readable_image_error(files)
    return readable
