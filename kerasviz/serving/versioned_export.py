"""Writing one new version of a SavedModel under a TF Serving model base path, atomically.

Every exporter (`export_style_model`, `export_explainer`, the classifier export) goes through
`export_version`:

1. `export_dir` must be a folder (it is created if missing); an explicit `version` must be a
   positive int64 not present yet, `None` means one more than the highest version folder there.
2. The caller's `write(folder)` fills a hidden temporary sibling (`.tmp-<uuid>`), which a server
   polling `export_dir` ignores.
3. The finished folder is renamed into `export_dir/<version>` in one step; with `version=None` a
   number that another export took meanwhile moves the rename on to the next free one, so
   concurrent exports into one base path each get their own version and none is lost.
4. Any failure removes the temporary folder; a full disk (or quota) becomes an `ExportError`
   instead of a raw `OSError` / `ResourceExhaustedError`. Past the largest int64 version there is
   no next number: `ExportError` too (TF Serving would ignore the folder).

`write_warmup_requests` writes TF Serving's warm-up file (one `PredictionLog` per request) into a
version folder, so the first real request does not pay for tracing.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import tensorflow as tf

from ..checks import check_int
from ..errors import ExportError, ParameterError
from .versions import MAX_VERSION

__all__ = [
    "WARMUP_FILE",
    "WarmupRequest",
    "export_version",
    "highest_version",
    "is_disk_full",
    "next_version",
    "write_warmup_requests",
]

#: Warm-up records' path inside a version folder (TF Serving's convention).
WARMUP_FILE = Path("assets.extra") / "tf_serving_warmup_requests"
#: One warm-up request: the signature name and its inputs by name (NumPy arrays; bytes as object).
WarmupRequest = Tuple[str, Mapping[str, np.ndarray]]

_RENAME_ATTEMPTS = 100
_DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_DIGITS = re.compile(r"^[0-9]+$")


def highest_version(export_dir: Union[str, os.PathLike]) -> Optional[int]:
    """The highest numeric version folder under a model base path (complete or not).

    Args:
        export_dir: Model base path.

    Returns:
        The version number (a positive int64), or `None` when there is none (or the folder does
        not exist).
    """
    base = Path(export_dir)
    if not base.is_dir():
        return None
    versions = [
        int(p.name) for p in base.iterdir() if _DIGITS.match(p.name) and 0 < int(p.name) <= MAX_VERSION and p.is_dir()
    ]
    return max(versions) if versions else None


def next_version(export_dir: Union[str, os.PathLike]) -> int:
    """One more than the highest version folder under `export_dir` (1 when there is none).

    Args:
        export_dir: Model base path.

    Returns:
        A positive int64.

    Raises:
        ExportError: The highest version is already the largest int64 (9223372036854775807):
            a larger number would be ignored by TF Serving.
    """
    version = (highest_version(export_dir) or 0) + 1
    if version > MAX_VERSION:
        raise ExportError(
            f"No version number is left after {MAX_VERSION} (TF Serving's versions are int64 and it "
            f"ignores larger ones). Pass an explicit free `version`, or export into a new base path. "
            f"Received: export_dir={str(export_dir)!r}"
        )
    return version


def is_disk_full(error: BaseException) -> bool:
    """Whether an error means the disk (or quota) filled up while writing.

    Args:
        error: Any exception.

    Returns:
        True for `tf.errors.ResourceExhaustedError` and `OSError` ENOSPC / EDQUOT / EFBIG.
    """
    if isinstance(error, tf.errors.ResourceExhaustedError):
        return True
    return isinstance(error, OSError) and error.errno in _DISK_FULL_ERRNOS


def _taken(base: Path, version: int) -> ParameterError:
    return ParameterError(
        f"Version {version} already exists in {base}; pass another version or None for the next one. "
        f"Received: version={version!r}"
    )


def _claim(temporary: Path, base: Path, version: int, automatic: bool) -> Path:
    """Rename the finished export into `base/<version>`; with `automatic`, on to the next free number."""
    for _ in range(_RENAME_ATTEMPTS):
        target = base / str(version)
        if not target.exists():  # an empty folder would be silently replaced by os.rename
            try:
                os.rename(temporary, target)
                return target
            except OSError as error:
                if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
        if not automatic:
            raise _taken(base, version)
        version = max(version + 1, next_version(base))  # next_version raises past the largest int64
    raise ExportError(
        f"No free version number after {_RENAME_ATTEMPTS} tries: other exports keep taking them. "
        f"Export again, or pass an explicit `version`. Received: export_dir={str(base)!r}"
    )


def export_version(
    export_dir: Union[str, os.PathLike],
    version: Optional[int],
    write: Callable[[Path], None],
) -> Path:
    """Write a new version folder with `write` and rename it into place atomically.

    Args:
        export_dir: Model base path; created if missing.
        version: Version number (a positive int64, not already present), or `None` for one more
            than the highest existing version (1 for an empty folder).
        write: Called with a fresh temporary folder path (not created yet) to write the SavedModel
            (and its warm-up file) into.

    Returns:
        The version folder written, `export_dir/<version>`.

    Raises:
        ParameterError: `version` not a positive int64 or already exported; `export_dir` a file.
        ExportError: The disk (or quota) filled up while writing (nothing is left behind), or no
            version number is left.
        Exception: Whatever else `write` raises (the temporary folder is removed first).
    """
    base = Path(export_dir)
    if base.exists() and not base.is_dir():
        raise ParameterError(f"`export_dir` must be a folder. Received: export_dir={str(export_dir)!r}")
    automatic = version is None
    if automatic:
        version = next_version(base)
    else:
        version = check_int(version, "version", low=1, high=MAX_VERSION)
        if (base / str(version)).exists():
            raise _taken(base, version)
    temporary = base / f".tmp-{uuid.uuid4().hex}"
    try:
        base.mkdir(parents=True, exist_ok=True)
        write(temporary)
        return _claim(temporary, base, version, automatic)
    except BaseException as error:
        shutil.rmtree(temporary, ignore_errors=True)
        if is_disk_full(error):
            raise ExportError(
                f"The export ran out of disk space (or quota) and was removed: {error}. Free space "
                f"in {base} and export again. Received: export_dir={str(base)!r}"
            ) from None
        raise


def write_warmup_requests(folder: Union[str, os.PathLike], requests: Sequence[WarmupRequest]) -> Path:
    """Write TF Serving's warm-up file into a version folder: one `PredictionLog` per request.

    Args:
        folder: The version folder (usually the temporary one `export_version` hands `write`).
        requests: `(signature_name, {input_name: array})` pairs; arrays as `tf.make_tensor_proto`
            takes them (float32 pixels, object arrays of bytes, int32 targets, ...).

    Returns:
        The warm-up file's path, `folder/assets.extra/tf_serving_warmup_requests`.
    """
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    path = Path(folder) / WARMUP_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for signature, inputs in requests:
            request = predict_pb2.PredictRequest(model_spec=model_pb2.ModelSpec(signature_name=signature))
            for name, value in inputs.items():
                request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())
    return path
