"""Conformance: every technique x every kind of model (issue 12).

Each cell runs one technique on one model and must return finite output of the documented shape,
or raise a `KerasvizError` listed in `ALLOWED` with the reason it cannot apply. Anything else (a
TensorFlow / Keras traceback, a wrong shape, NaN) fails the cell.

- Models (`MODELS`): every Keras Applications family with `weights=None` at a small input, and the
  zoo of `tests/model_zoo.py` (Sequential, nested, headless, keras.ops, multi-output, subclassed,
  small ViT).
- Techniques (`TECHNIQUES`): name -> `run(case)`, which calls the technique and asserts on its
  result. To add a column, add one entry (and, where it must refuse, an `ALLOWED` entry).
- The default run covers `FAST_MODELS` (3 Applications families and the zoo); the whole matrix is
  `@pytest.mark.slow` (`pytest -m slow tests/test_conformance.py`).
- README compatibility table: `KERASVIZ_CONFORMANCE_TABLE=table.md python -m pytest -m "slow or
  not slow" tests/test_conformance.py` writes the cells that ran as a Markdown table
  (ok / refused, with the reasons as footnotes).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple, Type

import keras
import numpy as np
import pytest

import kerasviz as kv
from kerasviz import FeatureModel, KerasvizError, ModelError, layer_names
from kerasviz.backbones import Backbone, as_backbone
from kerasviz.inspect import (
    activation_maps,
    extract_features,
    first_layer_filters,
    layer_filters,
    max_activating_patches,
    receptive_field,
)

sys.path.insert(0, str(Path(__file__).parent))
import model_zoo  # noqa: E402

CLASSES = 10


@dataclass
class Case:
    """One model under test: what the user passes, its Backbone and two images of its size."""

    name: str
    model: Any  # what a user passes to techniques (a keras.Model or a Backbone)
    backbone: Backbone
    images: np.ndarray  # float32 (2, H, W, 3) in [0, 255]


def _application(build: Callable, size: int) -> Callable[[], Any]:
    return lambda: build(weights=None, input_shape=(size, size, 3), classes=CLASSES)


#: name -> (builder, input side). Keras Applications at (near) their smallest input.
APPLICATIONS: Dict[str, Tuple[Callable[[], Any], int]] = {
    "VGG16": (_application(keras.applications.VGG16, 32), 32),
    "ResNet50": (_application(keras.applications.ResNet50, 32), 32),
    "ResNet50V2": (_application(keras.applications.ResNet50V2, 32), 32),
    "InceptionV3": (_application(keras.applications.InceptionV3, 75), 75),
    "Xception": (_application(keras.applications.Xception, 71), 71),
    "MobileNet": (_application(keras.applications.MobileNet, 32), 32),
    "MobileNetV2": (_application(keras.applications.MobileNetV2, 32), 32),
    "MobileNetV3Small": (_application(keras.applications.MobileNetV3Small, 32), 32),
    "EfficientNetB0": (_application(keras.applications.EfficientNetB0, 32), 32),
    "EfficientNetV2B0": (_application(keras.applications.EfficientNetV2B0, 32), 32),
    "DenseNet121": (_application(keras.applications.DenseNet121, 32), 32),
    "NASNetMobile": (_application(keras.applications.NASNetMobile, 32), 32),
    "ConvNeXtTiny": (_application(keras.applications.ConvNeXtTiny, 32), 32),
}

#: The zoo (tests/model_zoo.py): name -> (builder, input side). The multi-output model is used
#: through `Backbone.from_model(model, output="classes")`, the documented way to pick an output.
ZOO: Dict[str, Tuple[Callable[[], Any], int]] = {
    "zoo_sequential": (model_zoo.sequential_cnn, 32),
    "zoo_nested": (model_zoo.nested_model, 32),
    "zoo_headless": (model_zoo.headless_backbone, 32),
    "zoo_ops": (model_zoo.ops_model, 32),
    "zoo_multi_output": (
        lambda: Backbone.from_model(model_zoo.multi_output_model(), output="classes"),
        32,
    ),
    "zoo_subclassed": (model_zoo.subclassed_model, 32),
    "zoo_vit": (model_zoo.small_vit, 32),
}

MODELS = {**APPLICATIONS, **ZOO}
FAST_MODELS = ("VGG16", "MobileNetV3Small", "EfficientNetB0", *ZOO)


# ------------------------------------------------------------------------------------------
# Techniques: name -> run(case). Each asserts finite output of the documented shape.
# ------------------------------------------------------------------------------------------


def _finite(array: Any) -> np.ndarray:
    array = np.asarray(array)
    assert np.isfinite(array).all(), "output holds NaN or inf"
    return array


def _map_layer(case: Case) -> str:
    """A default layer on the spatial path (feature map), for map-based techniques."""
    backbone = case.backbone
    for name in (*backbone.dream_layers, *backbone.content_layers, backbone.gradcam_layer):
        if name:
            return name
    raise ModelError(f"{case.name} has no default feature-map layer. Received: model={case.name}")


def run_features(case: Case) -> None:
    """FeatureModel on every default layer, layer_names, the logits."""
    backbone = case.backbone
    names = layer_names(case.model if not isinstance(case.model, Backbone) else backbone)
    assert names and len(set(names)) == len(names), "layer names must be unique"
    defaults = [
        backbone.gradcam_layer,
        backbone.first_conv_layer,
        *backbone.content_layers,
        *backbone.style_layers,
        *backbone.dream_layers,
    ]
    wanted = sorted({n for n in defaults if n})
    outputs = FeatureModel(backbone, wanted)(case.images)
    for name in wanted:
        assert name in layer_names(backbone)
        assert len(outputs[name].shape) in (3, 4) and outputs[name].shape[0] == 2
        _finite(outputs[name])
    logits = _finite(outputs["logits"])
    if backbone.has_classifier:
        assert logits.shape == (2, CLASSES)


def run_activation_maps(case: Case) -> None:
    """Activation maps at the Grad-CAM default layer (tokens of a ViT included)."""
    layer = case.backbone.gradcam_layer
    if layer is None:
        layer = _map_layer(case)
    maps, grid = activation_maps(case.model, case.images[0], layer, max_tiles=4)
    assert maps.ndim == 3 and grid.ndim == 3 and grid.dtype == np.uint8
    _finite(maps)


def run_filters(case: Case) -> None:
    """First-layer RGB filters and the next convolution's filters."""
    picture = first_layer_filters(case.model)
    assert picture.dtype == np.uint8 and picture.ndim == 3
    convs = case.backbone.style_layers or [case.backbone.first_conv_layer]
    second = layer_filters(case.model, convs[min(1, len(convs) - 1)], max_filters=2, max_channels=2)
    assert second.dtype == np.uint8 and second.ndim == 3


def run_patches(case: Case) -> None:
    """Receptive field and maximally activating patches of a default feature map."""
    layer = _map_layer(case)
    field = receptive_field(case.model, layer)
    assert min(field.size) >= 1 and min(field.stride) >= 1
    result = max_activating_patches(case.model, case.images, layer, 0, k=2)
    assert result.patches.shape == (2, *field.size, 3)
    _finite(result.activations)


def run_extract_features(case: Case) -> None:
    """Default features (the classifier's input, or a headless model's output), pooled."""
    features = extract_features(case.model, case.images)
    assert features.ndim == 2 and features.shape[0] == 2
    _finite(features)


def run_saliency(case: Case) -> None:
    """Vanilla gradient saliency for class 1: (N, H, W) in [0, 1]."""
    maps = _finite(kv.saliency(case.model, case.images, 1))
    assert maps.shape == case.images.shape[:3] and maps.min() >= 0 and maps.max() <= 1


def run_gradcam(case: Case) -> None:
    """Grad-CAM for class 1 at the default layer: (N, H, W) in [0, 1]."""
    maps = _finite(kv.gradcam(case.model, case.images, 1))
    assert maps.shape == case.images.shape[:3] and maps.min() >= 0 and maps.max() <= 1


#: The columns. The integrator adds techniques here.
TECHNIQUES: Dict[str, Callable[[Case], None]] = {
    "features": run_features,
    "activation_maps": run_activation_maps,
    "filters": run_filters,
    "patches": run_patches,
    "extract_features": run_extract_features,
    "saliency": run_saliency,
    "gradcam": run_gradcam,
}

#: (technique, model) -> (error class, message fragment, why the technique cannot apply).
ALLOWED: Dict[Tuple[str, str], Tuple[Type[KerasvizError], str, str]] = {
    ("saliency", "zoo_headless"): (
        ModelError, "headless", "class scores need a classifier head; a headless model has none"
    ),
    ("gradcam", "zoo_headless"): (
        ModelError, "headless", "class scores need a classifier head; a headless model has none"
    ),
    ("activation_maps", "zoo_subclassed"): (
        ModelError, "subclassed", "a subclassed model hides its layers: no feature map to show"
    ),
    ("filters", "zoo_subclassed"): (
        ModelError, "subclassed", "a subclassed model hides its convolutions"
    ),
    ("patches", "zoo_subclassed"): (
        ModelError, "subclassed", "a subclassed model hides its feature maps"
    ),
    ("extract_features", "zoo_subclassed"): (
        ModelError, "subclassed", "a subclassed model hides the layer feeding its classifier"
    ),
    ("gradcam", "zoo_vit"): (
        ModelError,
        "4-D output",
        "Grad-CAM reads 4-D feature maps; token layers need kerasviz.tokens in the CAM family "
        "(issue 12 item 7, the cams helper) — remove this entry when that lands",
    ),
    ("gradcam", "zoo_subclassed"): (
        ModelError, "", "Grad-CAM needs a convolutional layer; a subclassed model hides them"
    ),
}


# ------------------------------------------------------------------------------------------
# The matrix
# ------------------------------------------------------------------------------------------

_BUILT: Dict[str, Case] = {}
_RESULTS: Dict[Tuple[str, str], Optional[str]] = {}  # (model, technique) -> None or reason


def _case(name: str) -> Case:
    """Build the model (one at a time: the previous one is dropped to bound memory)."""
    if name not in _BUILT:
        _BUILT.clear()
        keras.backend.clear_session()
        keras.utils.set_random_seed(0)
        build, side = MODELS[name]
        model = build()
        backbone = as_backbone(model)
        images = np.random.default_rng(0).uniform(0, 255, (2, side, side, 3)).astype(np.float32)
        _BUILT[name] = Case(name, model, backbone, images)
    return _BUILT[name]


def _check(model_name: str, technique: str) -> Optional[str]:
    """Run one cell; returns None when it worked, or the allowed refusal's reason."""
    _RESULTS[model_name, technique] = _run_cell(model_name, technique)
    return _RESULTS[model_name, technique]


def _run_cell(model_name: str, technique: str) -> Optional[str]:
    case = _case(model_name)
    allowed = ALLOWED.get((technique, model_name))
    try:
        TECHNIQUES[technique](case)
    except KerasvizError as error:
        if allowed is None or not isinstance(error, allowed[0]) or allowed[1] not in str(error):
            raise AssertionError(
                f"{technique} on {model_name} raised a refusal not listed in ALLOWED: "
                f"{type(error).__name__}: {error}"
            ) from error
        assert "Received:" in str(error), "refusals end with `Received: ...`"
        return allowed[2]
    assert allowed is None, f"{technique} on {model_name} should refuse ({allowed[2]}) but worked"
    return None


def _markdown_table() -> str:
    """The cells that ran as a Markdown table: models as rows, techniques as columns."""
    models = [m for m in MODELS if any((m, t) in _RESULTS for t in TECHNIQUES)]
    reasons: Dict[str, int] = {}
    lines = [
        "| model | " + " | ".join(TECHNIQUES) + " |",
        "|---|" + "---|" * len(TECHNIQUES),
    ]
    for model in models:
        cells = []
        for technique in TECHNIQUES:
            if (model, technique) not in _RESULTS:
                cells.append("")
            elif _RESULTS[model, technique] is None:
                cells.append("ok")
            else:
                number = reasons.setdefault(_RESULTS[model, technique], len(reasons) + 1)
                cells.append(f"refused [{number}]")
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.extend(f"[{number}] {reason}" for reason, number in reasons.items())
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module", autouse=True)
def _write_table():
    yield
    path = os.environ.get("KERASVIZ_CONFORMANCE_TABLE")
    if path and _RESULTS:
        Path(path).write_text(_markdown_table())


def _cells(models) -> list:
    return [(model, technique) for model in models for technique in TECHNIQUES]


@pytest.mark.parametrize("model_name, technique", _cells(FAST_MODELS))
def test_conformance(model_name: str, technique: str) -> None:
    _check(model_name, technique)


@pytest.mark.slow
@pytest.mark.parametrize(
    "model_name, technique", _cells([m for m in MODELS if m not in FAST_MODELS])
)
def test_conformance_full_matrix(model_name: str, technique: str) -> None:
    _check(model_name, technique)


def test_allowed_refusals_are_justified() -> None:
    for (technique, model), (error, _, why) in ALLOWED.items():
        assert technique in TECHNIQUES and model in MODELS
        assert issubclass(error, KerasvizError) and len(why) > 20
