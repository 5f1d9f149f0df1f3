"""`Backbone`: a classifier that takes pixels and returns logits, with sensible default layers."""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import keras
import numpy as np

from ..checks import check_int
from ..errors import ModelError, ParameterError
from ..features import FeatureModel, is_graph_model, trace_model
from .defaults import default_layers, functional_wrapper, is_classifier_output
from .preprocessing import PixelPreprocessing

__all__ = ["Backbone", "as_backbone", "imagenet_class_names"]

Preprocess = Union[None, str, keras.layers.Layer, Callable[[Any], Any]]


def imagenet_class_names() -> List[str]:
    """The 1000 ImageNet-1k class names, by index, shipped with kerasviz (no download).

    Returns:
        A list of 1000 short names, e.g. index 285 is `"Egyptian cat"`.
    """
    text = resources.files(__package__).joinpath("imagenet_classes.json").read_text()
    return json.loads(text)


@dataclass
class Backbone:
    """A classifier (or a headless feature extractor) that takes RGB pixels in `[0, 255]`.

    Preprocessing is a layer inside `model`, so gradients are with respect to the pixels a person
    sees. Attributes name default layers for each technique family. A *headless* backbone
    (`has_classifier` False) outputs a feature map `(N, h, w, C)`, tokens `(N, T, C)` or pooled
    features: every feature technique works on it, class-score techniques refuse it through
    `require_classifier`.

    Attributes:
        model: Keras model, `(N, H, W, 3)` pixels in `[0, 255]` -> `(N, C)` logits (or, headless,
            its feature output).
        name: Short name, e.g. `"vgg16"`.
        input_size: `(height, width)` the classifier expects, or `None` if any size works.
        class_names: One name per output class, or `None`.
        gradcam_layer: Last convolutional feature map (Grad-CAM, activation maps).
        content_layers: Layers for feature inversion / style-transfer content.
        style_layers: Layers whose Gram matrices describe style and texture.
        dream_layers: Layers DeepDream amplifies.
        first_conv_layer: The first convolution (first-layer filters).
    """

    model: keras.Model
    name: str
    input_size: Optional[Tuple[int, int]]
    class_names: Optional[List[str]] = None
    gradcam_layer: Optional[str] = None
    content_layers: List[str] = field(default_factory=list)
    style_layers: List[str] = field(default_factory=list)
    dream_layers: List[str] = field(default_factory=list)
    first_conv_layer: Optional[str] = None
    #: Feature transform of the style / texture losses: None (plain Gram matrices, Gatys et al.),
    #: "softmax" (Wang et al. 2021, for residual / normalized networks) or "auto" (decided from the
    #: architecture by `synthesis.style_losses.resolve_feature_transform`, never from the name).
    feature_transform: Optional[str] = "auto"

    @property
    def has_classifier(self) -> bool:
        """Whether the model outputs class scores `(N, C)` (False for a headless backbone)."""
        return is_classifier_output(self.model)

    def require_classifier(self, technique: str) -> None:
        """Raise unless the backbone has a classifier head (for techniques that score classes).

        Args:
            technique: What needs the class scores, for the message, e.g. `"saliency"`.

        Raises:
            ModelError: The backbone is headless; the message says how to get a classifier.
        """
        if not self.has_classifier:
            raise ModelError(
                f"{technique} needs class scores, but backbone {self.name!r} is headless: its "
                f"output is features of shape {tuple(self.model.outputs[0].shape)}, not "
                "(N, classes). Use the model with its classifier head (e.g. "
                "`kerasviz.load_backbone(name)` / `include_top=True`, or put a Dense layer on "
                "top), or use a feature technique (activation maps, feature visualization, "
                "style transfer, DeepDream, inversion). Received: model output shape "
                f"{tuple(self.model.outputs[0].shape)}"
            )

    @property
    def num_classes(self) -> int:
        """Number of output classes C.

        Raises:
            ModelError: The backbone is headless (no classes).
        """
        self.require_classifier("This technique (it reads the number of classes)")
        return int(self.model.outputs[0].shape[-1])

    @classmethod
    def from_model(
        cls,
        model: keras.Model,
        preprocess: Preprocess = None,
        *,
        name: Optional[str] = None,
        class_names: Optional[Sequence[str]] = None,
        output: Union[None, int, str] = None,
        input_shape: Optional[Sequence[Optional[int]]] = None,
        **layers: Any,
    ) -> "Backbone":
        """Wrap any Keras model (nested, headless, multi-output, subclassed) as a Backbone.

        A final softmax (activation argument, `Softmax` / `Activation("softmax")` layer or
        `keras.ops.softmax` node) is removed, so the Backbone returns logits; the user's model
        is never modified.

        - *Headless* models (output a feature map `(N, h, w, C)`, tokens `(N, T, C)`, or features
          pooled by a global pooling / Flatten layer, e.g. `VGG19(include_top=False)`) give a
          backbone with `has_classifier == False`: feature techniques work, class-score
          techniques raise `ModelError` (`require_classifier`).
        - *Multi-output* models: `output=` (a name from `model.output_names` / a dict key, or an
          index) selects the output the backbone returns (the classifier to explain).
        - *Subclassed* models (`class Net(keras.Model)` with `call`) run as one opaque node on a
          `keras.Input` of `input_shape` (default: the shape they were built with). Techniques
          that need only the output work (saliency, integrated gradients, occlusion, class
          visualization); layer-based ones raise `ModelError`. Their softmax cannot be removed:
          return logits from `call`.

        Args:
            model: Keras model with one image input. Nested Functional / Sequential models are
                opened; operation nodes (`x + y`, `keras.ops.*`) are addressable by name.
            preprocess: What maps pixels in `[0, 255]` to the model's input: `None` (the model
                already takes pixels), a mode `"caffe" | "tf" | "torch"`, a Keras layer, or a
                callable on tensors.
            name: Short name; defaults to the model's name.
            class_names: One name per class, for `decode`.
            output: Which output of a multi-output model to use (name or index); `None` for a
                single-output model.
            input_shape: `(H, W, 3)` of one image: required for a subclassed model that was never
                built; for a graph model it fixes (or frees, with `None` sides) the input size.
            **layers: Overrides for `gradcam_layer`, `content_layers`, `style_layers`,
                `dream_layers`, `first_conv_layer`.

        Returns:
            A Backbone whose default layers are chosen from the model's feature maps
            (addressable layers and operation nodes only).

        Raises:
            ModelError: The model cannot be traced, has no usable image input / output, several
                outputs and no `output=`, or is subclassed and its input shape is unknown.
        """
        if isinstance(model, Backbone):
            return model
        if not isinstance(model, keras.Model):
            raise ModelError(
                "Backbone.from_model needs a keras.Model. Received: model of type "
                f"{type(model).__name__}"
            )
        if not is_graph_model(model):
            model = functional_wrapper(model, input_shape)
            input_shape = None
        inputs, logits, _ = trace_model(model, input_shape=input_shape, output=output)
        if len(inputs.shape) != 4 or inputs.shape[-1] != 3:
            raise ModelError(
                "kerasviz needs a model taking RGB images (N, H, W, 3). Received: a model with "
                f"input shape {tuple(inputs.shape)}"
            )
        if len(logits.shape) not in (2, 3, 4):
            raise ModelError(
                "kerasviz needs a classifier with output (N, classes), or a headless model "
                "whose output is a feature map (N, h, w, C) or tokens (N, T, C). Received: a "
                f"model with output shape {tuple(logits.shape)}"
            )
        classifier = keras.Model(inputs, logits, name=f"{model.name}_logits")
        if preprocess is not None:
            pixels = keras.Input(shape=tuple(inputs.shape[1:]), name="pixels")
            layer = _preprocessing_layer(preprocess)
            classifier = keras.Model(pixels, classifier(layer(pixels)), name=model.name)
        return cls._with_defaults(classifier, name or model.name, class_names, **layers)

    @classmethod
    def _with_defaults(
        cls,
        model: keras.Model,
        name: str,
        class_names: Optional[Sequence[str]],
        **layers: Any,
    ) -> "Backbone":
        height, width = model.inputs[0].shape[1:3]
        input_size = (int(height), int(width)) if height and width else None
        defaults = default_layers(model)
        unknown = set(layers) - set(defaults)
        if unknown:
            raise ParameterError(
                f"Unknown layer defaults {sorted(unknown)}; use {sorted(defaults)}. "
                f"Received: {sorted(layers)}"
            )
        defaults.update({k: v for k, v in layers.items() if v is not None})
        if class_names is not None:
            if not is_classifier_output(model):
                raise ParameterError(
                    "class_names need a classifier; this model is headless (output shape "
                    f"{tuple(model.outputs[0].shape)}). Received: {len(class_names)} names"
                )
            class_names = list(class_names)
            if len(class_names) != int(model.outputs[0].shape[-1]):
                raise ParameterError(
                    f"class_names has {len(class_names)} names but the model has "
                    f"{model.outputs[0].shape[-1]} classes. Received: {len(class_names)} names"
                )
        return cls(model=model, name=name, input_size=input_size, class_names=class_names, **defaults)

    def features(
        self, layer_names: Sequence[str], *, logits: bool = True, input_shape: Optional[tuple] = None
    ) -> FeatureModel:
        """A cached `FeatureModel` of this backbone's named layers (see `FeatureModel`)."""
        return FeatureModel(self, layer_names, logits=logits, input_shape=input_shape)

    def logits(self, images: Any, batch_size: int = 32) -> np.ndarray:
        """Logits for a batch of pixel images.

        Args:
            images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`, at `input_size`.
            batch_size: Images per forward pass.

        Returns:
            `(N, C)` float32 logits.

        Raises:
            ImageError: The images are not valid pixel images.
            ModelError: The images do not have the size the classifier needs.
        """
        from ..images import as_image_batch

        batch, _ = as_image_batch(images)
        self.check_size(batch.shape[1:3])
        from ..compiled import forward_logits

        return forward_logits(self.model, batch, batch_size)

    def predict(self, images: Any, batch_size: int = 32) -> np.ndarray:
        """Class probabilities (softmax of the logits) for pixel images.

        Args:
            images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`, at `input_size`.
            batch_size: Images per forward pass.

        Returns:
            `(N, C)` float32 probabilities, rows summing to 1.

        Raises:
            ImageError: The images are not valid pixel images.
            ModelError: The images do not have the size the classifier needs.
        """
        logits = self.logits(images, batch_size=batch_size).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        return (probabilities / probabilities.sum(axis=1, keepdims=True)).astype(np.float32)

    def decode(self, probabilities: Any, top: int = 5) -> List[List[Tuple[int, str, float]]]:
        """Top classes per image as `(index, name, probability)`, best first.

        Args:
            probabilities: `(N, C)` or `(C,)` scores from `predict`.
            top: How many classes per image (1..C).

        Returns:
            One list of `top` tuples per image.

        Raises:
            ParameterError: `top` out of range or the array does not match the class count.
        """
        scores = np.atleast_2d(np.asarray(probabilities, np.float32))
        if scores.ndim != 2 or scores.shape[1] != self.num_classes:
            raise ParameterError(
                f"Expected scores of shape (N, {self.num_classes}). Received: shape {scores.shape}"
            )
        top = check_int(top, "top", low=1, high=self.num_classes)
        names = self.class_names or [str(i) for i in range(self.num_classes)]
        order = np.argsort(-scores, axis=1)[:, : int(top)]
        return [[(int(i), names[i], float(row[i])) for i in idx] for row, idx in zip(scores, order)]

    def check_size(self, size: Tuple[int, int]) -> None:
        """Raise unless images of `size` fit the classifier.

        Args:
            size: `(height, width)` of the images.

        Raises:
            ModelError: The classifier needs `input_size` and `size` differs; the message shows
                how to resize.
        """
        if self.input_size is not None and tuple(size) != tuple(self.input_size):
            raise ModelError(
                f"{self.name} classifies images of size {self.input_size}; resize them, e.g. "
                f"`kerasviz.load_image(path, size={self.input_size})`. Received: images of size "
                f"{tuple(size)}"
            )


def _preprocessing_layer(preprocess: Preprocess) -> keras.layers.Layer:
    if isinstance(preprocess, str):
        return PixelPreprocessing(preprocess)
    if isinstance(preprocess, keras.layers.Layer):
        return preprocess
    if callable(preprocess):
        return keras.layers.Lambda(preprocess, name="preprocess")
    raise ParameterError(
        "preprocess must be None, a mode ('caffe', 'tf', 'torch'), a Keras layer or a callable. "
        f"Received: preprocess={preprocess!r}"
    )


def as_backbone(model: Any, *, output: Union[None, int, str] = None) -> Backbone:
    """A `Backbone` for a Backbone or any Keras model (taking pixels), for technique entry points.

    Headless, multi-output (with `output=`) and built subclassed models are accepted as in
    `Backbone.from_model`; the wrapper is cached per (model, output).

    Args:
        model: A `Backbone` or a `keras.Model` that takes pixels in `[0, 255]`.
        output: For a multi-output model: the output to use (name or index).

    Returns:
        The Backbone (unchanged, or wrapping the model with its softmax removed).

    Raises:
        ModelError: Anything else, or a multi-output model without `output=`.
    """
    if isinstance(model, Backbone):
        return model
    if isinstance(model, keras.Model):
        per_model = _WRAPPED.setdefault(model, {})
        if output not in per_model:
            per_model[output] = Backbone.from_model(model, output=output)
        return per_model[output]
    raise ModelError(
        "Expected a kerasviz Backbone (kerasviz.load_backbone) or a keras.Model. Received: "
        f"model of type {type(model).__name__}"
    )


_WRAPPED: "weakref.WeakKeyDictionary[keras.Model, Dict[Any, Backbone]]" = (
    weakref.WeakKeyDictionary()
)
