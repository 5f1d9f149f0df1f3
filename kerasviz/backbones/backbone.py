"""`Backbone`: a classifier that takes pixels and returns logits, with sensible default layers.

Building one from a user's model lives in `building`, turning scores into named classes in
`class_scores`, and `as_backbone` (re-exported here) in `wrapper_cache`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Optional, Sequence, Tuple, Union

import keras
import numpy as np

from ..errors import ModelError
from ..features import FeatureModel
from .building import Preprocess, backbone_fields, classifier_from_model
from .class_scores import softmax_probabilities, top_classes
from .defaults import is_classifier_output

__all__ = ["Backbone"]


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
        classifier = classifier_from_model(
            model, preprocess, output=output, input_shape=input_shape
        )
        return cls._with_defaults(classifier, name or model.name, class_names, **layers)

    @classmethod
    def _with_defaults(
        cls,
        model: keras.Model,
        name: str,
        class_names: Optional[Sequence[str]],
        **layers: Any,
    ) -> "Backbone":
        return cls(model=model, name=name, **backbone_fields(model, class_names, **layers))

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
        return softmax_probabilities(self.logits(images, batch_size=batch_size))

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
        return top_classes(scores, self.num_classes, self.class_names, top)

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
