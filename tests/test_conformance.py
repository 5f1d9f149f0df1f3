"""Conformance: every technique x every kind of model (issue 12).

Each cell runs one technique on one model and must return finite output of the documented shape,
or raise a `KerasvizError` listed in `ALLOWED` with the reason it cannot apply. Anything else (a
TensorFlow / Keras traceback, a wrong shape, NaN) fails the cell.

- Models (`MODELS`): every Keras Applications family with `weights=None` at a small input, and the
  zoo of `tests/model_zoo.py` (Sequential, nested, headless, keras.ops, multi-output, subclassed,
  small ViT).
- Techniques (`TECHNIQUES`): name -> `run(case)`, which calls the technique and asserts on its
  result: the inspect and synthesis runners below, and every technique of `kerasviz.registry`
  (its `quick` options, its `needs` decide where it must refuse), so a registered technique
  joins the matrix with no line here.
- The default run covers every technique on the zoo and `FAST_TECHNIQUES` on `FAST_FAMILIES`;
  the rest of the matrix is `@pytest.mark.slow` (`pytest -m slow tests/test_conformance.py`).
- README compatibility table: `KERASVIZ_CONFORMANCE_TABLE=results.json python -m pytest -m "slow
  or not slow" tests/test_conformance.py` merges the cells that ran into `results.json` (model,
  technique, `null` or the refusal's reason); `python scripts/compatibility_table.py
  results.json` prints the Markdown table for README.md's "Any model" section.
"""

from __future__ import annotations

import json
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
from kerasviz.registry import TECHNIQUES as REGISTERED
from kerasviz.technique import Technique

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
#: The default (per-commit) run: every technique on the zoo, and a few techniques (one per
#: mechanism: graph walk, gradients, layer gradients, optimization at another size) on three
#: Applications families (plain CNN, keras.ops nodes + SE gates, SE blocks). The rest is slow.
FAST_FAMILIES = ("VGG16", "MobileNetV3Small", "EfficientNetB0")
FAST_TECHNIQUES = ("features", "saliency", "gradcam", "visualize_class")


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
    # No default (a subclassed model): name a convolution as a user would, so the technique
    # itself must refuse clearly.
    layers = getattr(case.model, "layers", [])
    convs = [layer.name for layer in layers if isinstance(layer, keras.layers.Conv2D)]
    if convs:
        return convs[-1]
    raise AssertionError(f"{case.name} has no feature-map layer to test with")


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


def _unit_maps(maps: Any, case: Case) -> None:
    """A heatmap result: finite `(N, H, W)` in `[0, 1]`."""
    maps = _finite(maps)
    assert maps.shape == case.images.shape[:3], maps.shape
    assert maps.min() >= 0 and maps.max() <= 1


def _pixel_attributions(values: Any, case: Case) -> None:
    """A per-pixel, per-channel attribution: finite `(N, H, W, 3)`."""
    assert _finite(values).shape == case.images.shape, np.shape(values)


def _picture(image: Any, shape: Tuple[int, ...]) -> None:
    """A synthesized picture: uint8 of the given shape."""
    image = np.asarray(image)
    assert image.dtype == np.uint8 and image.shape == shape, (image.dtype, image.shape)


def _check_output(result: Any, output: str, case: Case) -> None:
    """A registered technique's result, by its `output` kind (`kerasviz.technique.OUTPUTS`)."""
    values = getattr(result, "attributions", result)
    if output == "heatmap":
        _unit_maps(values, case)
    elif output == "attribution":
        _pixel_attributions(values, case)
    elif output == "probability_drop":
        drops = _finite(values)
        assert drops.shape == case.images.shape[:3] and np.abs(drops).max() <= 1
    elif output == "importance":
        importance = _finite(values)
        assert importance.shape == case.images.shape[:3] and importance.min() >= 0, importance.min()
    else:  # relevance, signed: signed maps, any scale
        assert _finite(values).shape == case.images.shape[:3], np.shape(values)


def registered(technique: Technique) -> Callable[[Case], None]:
    """The cell runner of a registry technique: class 1, its `quick` options, its output check."""

    def run(case: Case) -> None:
        options = {o.name: o.quick for o in technique.options if o.quick is not None}
        function = technique.load()
        images = case.images if technique.batched else case.images[:1]
        arguments = (case.model, images, 1) if technique.targeted else (case.model, images)
        if not technique.batched:
            arguments = (arguments[0], images[0], *arguments[2:])
        result = function(*arguments, **options)
        if not technique.batched:
            result = np.asarray(getattr(result, "attributions", result))[None]
        _check_output(result, technique.output, Case(case.name, case.model, case.backbone, images))

    run.__doc__ = f"{technique.title} (registry), quick options: {technique.output} output."
    return run


# Synthesis: tiny settings (a few steps, small pictures) so every cell stays fast.


def run_visualize_class(case: Case) -> None:
    """Class visualization of class 1: 2 steps at the model's input size.

    (At another size a fixed-size model is resized inside the step only when its graph cannot
    run at that size; see `test_synthesis_below_the_input_size_of_a_fixed_size_model`.)
    """
    side = case.images.shape[1]
    image = kv.visualize_class(case.model, 1, size=side, steps=2, steps_per_call=2, progress=False)
    _picture(image, (side, side, 3))


def run_visualize_feature(case: Case) -> None:
    """Feature visualization of channel 0 of a default feature map: 2 steps at the input size."""
    side = case.images.shape[1]
    image = kv.visualize_feature(
        case.model, _map_layer(case), 0, size=side, steps=2, steps_per_call=2, progress=False
    )
    _picture(image, (side, side, 3))


def run_deep_dream(case: Case) -> None:
    """DeepDream at the default dream layer: one octave, 2 steps, at the model's input size."""
    image = kv.deep_dream(
        case.model, case.images[0], octaves=1, steps=2, steps_per_call=2, progress=False
    )
    _picture(image, case.images.shape[1:])


def run_invert_features(case: Case) -> None:
    """Feature inversion of a default content layer: 2 steps at the model's input size."""
    image = kv.invert_features(
        case.model, case.images[0], _map_layer(case), steps=2, steps_per_call=2, progress=False
    )
    _picture(image, case.images.shape[1:])


def run_style_transfer(case: Case) -> None:
    """Gatys style transfer with the default layers: 2 Adam steps at the model's input size."""
    image = kv.style_transfer(
        case.model, case.images[0], case.images[1], steps=2, descent=kv.Descent("adam"), progress=False
    )
    _picture(image, case.images.shape[1:])


def run_synthesize_texture(case: Case) -> None:
    """Gram texture synthesis with the default style layers: 2 Adam steps."""
    side = case.images.shape[1]
    image = kv.synthesize_texture(
        case.model, case.images[0], side, steps=2, descent=kv.Descent("adam"), seed=0, progress=False
    )
    _picture(image, (side, side, 3))


#: Every registry technique (black-box ones query the in-process model).
MATRIX_TECHNIQUES = list(REGISTERED)

#: The columns, in the README's order: inspect, the registry's techniques, synthesis.
TECHNIQUES: Dict[str, Callable[[Case], None]] = {
    "features": run_features,
    "activation_maps": run_activation_maps,
    "filters": run_filters,
    "patches": run_patches,
    "extract_features": run_extract_features,
    **{technique.name: registered(technique) for technique in MATRIX_TECHNIQUES},
    "visualize_class": run_visualize_class,
    "visualize_feature": run_visualize_feature,
    "deep_dream": run_deep_dream,
    "invert_features": run_invert_features,
    "style_transfer": run_style_transfer,
    "synthesize_texture": run_synthesize_texture,
}

#: Techniques that score classes (they refuse a headless model: it has no classifier head).
CLASS_SCORE = (*(t.name for t in MATRIX_TECHNIQUES if "class_scores" in t.needs), "visualize_class")
#: Techniques that need layers inside the model (they refuse a subclassed model, whose `call`
#: hides them; the output-only techniques work on it).
LAYERED = (
    "activation_maps",
    "filters",
    "patches",
    "extract_features",
    *(t.name for t in MATRIX_TECHNIQUES if "layer" in t.needs),
    "visualize_feature",
    "deep_dream",
    "invert_features",
    "style_transfer",
    "synthesize_texture",
)
HEADLESS_WHY = "class scores need a classifier head; a headless model has none"
SUBCLASSED_WHY = "a subclassed model hides its layers; only output-only techniques apply"
ROLLOUT_WHY = "attention rollout needs keras.layers.MultiHeadAttention (a vision transformer)"

#: (technique, model) -> (error class, message fragment, why the technique cannot apply).
ALLOWED: Dict[Tuple[str, str], Tuple[Type[KerasvizError], str, str]] = {
    **{(t, "zoo_headless"): (ModelError, "headless", HEADLESS_WHY) for t in CLASS_SCORE},
    **{(t, "zoo_subclassed"): (ModelError, "subclassed", SUBCLASSED_WHY) for t in LAYERED},
    **{
        (t.name, m): (ModelError, "MultiHeadAttention", ROLLOUT_WHY)
        for t in MATRIX_TECHNIQUES
        if "attention" in t.needs
        for m in MODELS
        if m not in ("zoo_vit", "zoo_subclassed")
    },
    ("lrp", "zoo_vit"): (
        ModelError,
        "no rule",
        "LRP needs a rule for every layer; the ViT's class token and attention have none (a clear refusal, not a wrong map)",
    ),
    ("ablation_cam", "zoo_vit"): (
        ModelError,
        "4-D",
        "Ablation-CAM zeroes channels of a 4-D feature map; a ViT's default layer is tokens",
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
    path = os.environ.get("KERASVIZ_CONFORMANCE_TABLE")
    if path:  # after every cell, so an interrupted run of the slow matrix keeps what it measured
        _save_results(Path(path))
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


def _save_results(path: Path) -> None:
    """Merge this run's cells into the JSON results file (see scripts/compatibility_table.py)."""
    cells = json.loads(path.read_text()) if path.exists() else []
    merged = {(model, technique): reason for model, technique, reason in cells}
    merged.update(_RESULTS)
    order = {name: i for i, name in enumerate(MODELS)}
    rows = sorted(merged.items(), key=lambda item: (order.get(item[0][0], 99), item[0][0]))
    path.write_text(json.dumps([[m, t, r] for (m, t), r in rows], indent=0) + "\n")


def _fast(model: str, technique: str) -> bool:
    return model in ZOO or (model in FAST_FAMILIES and technique in FAST_TECHNIQUES)


ALL_CELLS = [(model, technique) for model in MODELS for technique in TECHNIQUES]


@pytest.mark.parametrize("model_name, technique", [c for c in ALL_CELLS if _fast(*c)])
def test_conformance(model_name: str, technique: str) -> None:
    _check(model_name, technique)


@pytest.mark.slow
@pytest.mark.parametrize("model_name, technique", [c for c in ALL_CELLS if not _fast(*c)])
def test_conformance_full_matrix(model_name: str, technique: str) -> None:
    _check(model_name, technique)


def test_allowed_refusals_are_justified() -> None:
    for (technique, model), (error, _, why) in ALLOWED.items():
        assert technique in TECHNIQUES and model in MODELS
        assert issubclass(error, KerasvizError) and len(why) > 20


# ------------------------------------------------------------------------------------------
# The ViT's default Grad-CAM layer
# ------------------------------------------------------------------------------------------


def test_vit_default_gradcam_layer_feeds_the_last_attention(zoo_vit, zoo_digits):
    """A ViT's default Grad-CAM layer is the query of its last MultiHeadAttention, not final_norm.

    After the last attention only the class token reaches the head, so every Grad-CAM map at
    `final_norm` is zero. pytorch-grad-cam uses `blocks[-1].norm1`; kerasviz finds the same
    tensor from the graph. Measured on 200 held-out digits (ViT ~59 % accurate; random map
    ratio 1.00, pointing 0.33): at the default `block1_norm1` Grad-CAM is non-zero on 80 % of
    the images but points at the border more than the strokes (stroke / border ratio 0.50,
    pointing 0.37; 0.63 / 0.55 after 20 epochs), HiResCAM 1.01 / 0.72, LayerCAM 0.96 / 0.72;
    at `block0_norm1` (entering the first attention) Grad-CAM gives 1.69 / 0.93.
    """
    from kerasviz.backbones.defaults import last_attention_input

    attention = [x for x in zoo_vit.layers if isinstance(x, keras.layers.MultiHeadAttention)]
    query_producer = attention[-1].input[0]._keras_history.operation.name  # from Keras' graph
    backbone = as_backbone(zoo_vit)
    assert backbone.gradcam_layer == query_producer == "block1_norm1"
    assert last_attention_input(zoo_vit, ["block1_norm1"]) == "block1_norm1"
    assert last_attention_input(model_zoo.sequential_cnn(), ["conv3"]) is None

    images, labels, _ = zoo_digits
    images, labels = images[1400:1600].astype(np.float32), labels[1400:1600]
    maps = kv.gradcam(zoo_vit, images, labels)
    assert maps.shape == (200, 32, 32) and np.isfinite(maps).all()
    nonzero = (maps.reshape(len(maps), -1).max(axis=1) > 0).mean()
    assert nonzero > 0.6, nonzero  # measured 0.80 (0.00 at final_norm)


@pytest.mark.slow
@pytest.mark.parametrize("family", ["MobileNetV3Small", "InceptionV3"])
def test_synthesis_below_the_input_size_of_a_fixed_size_model(family: str) -> None:
    keras.backend.clear_session()
    build, side = APPLICATIONS[family]
    model = build()
    # Their graphs build at 24 px (global pooling), so the engine runs them there, and oneDNN
    # aborts on the tiny deep feature maps (DepthwiseConv2dNativeBackpropInput, MaxPool2d):
    # that must be a clear ModelError asking for a larger size, never a raw TensorFlow error.
    assert side > 24
    with pytest.raises(ModelError, match="cannot run on images of size"):
        if family == "MobileNetV3Small":
            kv.visualize_class(model, 1, size=24, steps=2, steps_per_call=2, progress=False)
        else:
            layer = as_backbone(model).dream_layers[0]
            kv.visualize_feature(model, layer, 0, size=24, steps=2, steps_per_call=2, progress=False)
