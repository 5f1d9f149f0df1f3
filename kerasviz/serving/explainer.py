"""Explanations as a service: a SavedModel that answers "which pixels made the network say *cat*?".

`export_explainer(model, export_dir, method=...)` writes a versioned SavedModel (loadable by TF
Serving and `kerasviz serve`) whose signatures compute the attribution inside the graph, equal to
the library functions on the same pixels:

- `method="gradcam"`: `kerasviz.gradcam` (feature maps of `layer` weighted by their mean
  gradients, ReLU, bilinear upsampling, divided by the maximum);
- `method="saliency"`: `kerasviz.saliency` (max over channels of |d score / d pixel|, divided by
  the maximum);
- `method="integrated_gradients"`: `kerasviz.integrated_gradients` (same path, rule and spacing);
  `attributions` are returned too, and the heatmap is `sum over channels |attributions|` divided
  by its maximum.

The explained class is each image's top-1 class (the library's `target=None`), or the classes a
request gives to the `*_target` signatures. Signatures (all outputs have a leading batch axis):

- `serving_default`: `images` float32 `(-1, H, W, 3)` pixels in [0, 255] at the model's size;
- `explain_target`: the same plus `target` int32 `(-1,)`;
- `explain_bytes`: `images` string `(-1,)` encoded PNG / JPEG / BMP (header-checked against
  `max_decode_pixels` before decoding), resized bilinearly to the model's size;
- `explain_bytes_target`: the same plus `target`.

Outputs: `heatmaps` float32 `(-1, H, W)` in [0, 1], `target` int32 `(-1,)` (the class explained),
`classes` int32 `(-1, top_k)` and `logits` float32 `(-1, top_k)` (the top classes), and for
integrated gradients `attributions` float32 `(-1, H, W, 3)`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np
import tensorflow as tf

from ..attribution.integrated_gradients import path_weights
from ..backbones import as_backbone
from ..checks import check_choice, check_int, check_number
from ..errors import ModelError, ParameterError
from ..features import LOGITS, FeatureModel
from ..images.image_bytes import DEFAULT_MAX_DECODE_PIXELS, decode_limited
from ..registry import technique_names
from .versioned_export import export_version, write_warmup_requests

__all__ = ["EXPLAIN_METHODS", "export_explainer"]

#: Methods `export_explainer` can serve: the registry's `servable` techniques (each has an
#: in-graph form below).
EXPLAIN_METHODS = technique_names(servable=True)


def _scale_to_unit(maps: tf.Tensor) -> tf.Tensor:
    """Each non-negative map divided by its maximum; an all-zero map stays zero (as the library)."""
    peak = tf.reduce_max(maps, axis=[1, 2], keepdims=True)
    safe = tf.where(peak > 0, peak, tf.ones_like(peak))
    return tf.clip_by_value(tf.where(peak > 0, maps / safe, tf.zeros_like(maps)), 0.0, 1.0)


class _Explainer(tf.Module):
    """What is saved: the model, the feature model (Grad-CAM) and the four signatures."""

    def __init__(self, backbone: Any, method: str, layer: Optional[str], options: Dict[str, Any]) -> None:
        super().__init__(name="explainer")
        self.model = backbone.model
        self.method = method
        self.options = options
        self.size = options["size"]
        if method == "gradcam":
            self.features = FeatureModel(backbone, [layer]).model
            self.layer = layer
        height, width = self.size if self.size is not None else (None, None)
        pixels = tf.TensorSpec((None, height, width, 3), tf.float32, name="images")
        encoded = tf.TensorSpec((None,), tf.string, name="images")
        target = tf.TensorSpec((None,), tf.int32, name="target")
        self.serving_default = tf.function(lambda images: self._explain(images, None), input_signature=(pixels,))
        self.explain_target = tf.function(self._explain, input_signature=(pixels, target))
        self.explain_bytes = tf.function(lambda images: self._explain(self._decode(images), None), input_signature=(encoded,))
        self.explain_bytes_target = tf.function(
            lambda images, target: self._explain(self._decode(images), target), input_signature=(encoded, target)
        )

    def _decode(self, images: tf.Tensor) -> tf.Tensor:
        limit = self.options["max_decode_pixels"]

        def one(data):
            pixels = tf.cast(decode_limited(data, limit), tf.float32)
            if self.size is not None:
                pixels = tf.image.resize(pixels, self.size, method="bilinear")
            return pixels

        shape = (None, None, 3) if self.size is None else (*self.size, 3)
        return tf.map_fn(one, images, fn_output_signature=tf.TensorSpec(shape, tf.float32))

    def _logits(self, images: tf.Tensor) -> tf.Tensor:
        return tf.cast(self.model(images, training=False), tf.float32)

    def _explain(self, images: tf.Tensor, target: Optional[tf.Tensor]) -> Dict[str, tf.Tensor]:
        logits = self._logits(images)
        n_classes = tf.shape(logits)[1]
        if target is None:
            target = tf.cast(tf.argmax(logits, axis=1), tf.int32)
        else:
            checks = [
                tf.debugging.assert_equal(tf.shape(target)[0], tf.shape(images)[0], message="one target per image"),
                tf.debugging.assert_less(target, n_classes, message="target class out of range [0, number of classes)"),
                tf.debugging.assert_non_negative(target, message="target class out of range [0, number of classes)"),
            ]
            with tf.control_dependencies(checks):  # before any gather can fail on the index
                target = tf.identity(target)
        top_k = tf.minimum(self.options["top_k"], n_classes)
        top = tf.math.top_k(logits, k=top_k)
        outputs = {"target": target, "classes": top.indices, "logits": top.values}
        if self.method == "gradcam":
            outputs["heatmaps"] = self._gradcam(images, target)
        elif self.method == "saliency":
            outputs["heatmaps"] = self._saliency(images, target)
        else:
            attributions = tf.map_fn(
                lambda args: self._integrated(args[0], args[1]),
                (images, target),
                fn_output_signature=tf.TensorSpec(images.shape[1:], tf.float32),
            )
            outputs["attributions"] = attributions
            outputs["heatmaps"] = _scale_to_unit(tf.reduce_sum(tf.abs(attributions), axis=-1))
        return outputs

    @staticmethod
    def _picked(logits: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
        return tf.gather(logits, target, axis=1, batch_dims=1)

    def _gradcam(self, images: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            outputs = self.features(images, training=False)
            features = outputs[self.layer]
            tape.watch(features)
            scores = self._picked(tf.cast(outputs[LOGITS], tf.float32), target)
        grads = tape.gradient(scores, features)
        weights = tf.reduce_mean(grads, axis=[1, 2])
        coarse = tf.nn.relu(tf.einsum("nhwk,nk->nhw", features, weights))
        size = tf.shape(images)[1:3]
        maps = tf.image.resize(coarse[..., None], size, method="bilinear")[..., 0]
        return _scale_to_unit(maps)

    def _saliency(self, images: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            tape.watch(images)
            scores = self._picked(self._logits(images), target)
        return _scale_to_unit(tf.reduce_max(tf.abs(tape.gradient(scores, images)), axis=-1))

    def _integrated(self, image: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
        alphas, weights = path_weights(self.options["steps"], self.options["rule"], self.options["spacing"])
        baseline = tf.fill(tf.shape(image), tf.constant(self.options["baseline"], tf.float32))
        total = tf.zeros_like(image)
        batch = self.options["batch_size"]
        for start in range(0, len(alphas), batch):  # static chunks of the path (bounded memory)
            alpha = tf.constant(alphas[start : start + batch])[:, None, None, None]
            points = baseline[None] + alpha * (image - baseline)[None]
            with tf.GradientTape() as tape:
                tape.watch(points)
                logits = self._logits(points)
                scores = logits[:, target]
            grads = tape.gradient(scores, points)
            total += tf.tensordot(tf.constant(weights[start : start + batch]), grads, axes=1)
        return total * (image - baseline)


def _save(module: _Explainer, folder: Path) -> None:
    """Save the four signatures and one warm-up request per image signature (a mid-gray image),
    so the first real request does not pay for tracing and the server checks the model first."""
    signatures = {
        "serving_default": module.serving_default,
        "explain_target": module.explain_target,
        "explain_bytes": module.explain_bytes,
        "explain_bytes_target": module.explain_bytes_target,
    }
    tf.saved_model.save(module, str(folder), signatures=signatures)
    height, width = module.size if module.size is not None else (32, 32)
    pixels = np.full((1, height, width, 3), 128.0, np.float32)
    png = tf.io.encode_png(pixels[0].astype(np.uint8)).numpy()
    requests = [("serving_default", {"images": pixels}), ("explain_bytes", {"images": np.array([png], dtype=object)})]
    write_warmup_requests(folder, requests)


def export_explainer(
    model: Any,
    export_dir: Union[str, os.PathLike],
    method: str = "gradcam",
    *,
    version: Optional[int] = None,
    layer: Optional[str] = None,
    top_k: int = 5,
    steps: int = 64,
    rule: str = "trapezoid",
    spacing: str = "quadratic",
    baseline: float = 0.0,
    batch_size: int = 32,
    image_size: Optional[Tuple[int, int]] = None,
    max_decode_pixels: int = DEFAULT_MAX_DECODE_PIXELS,
) -> Path:
    """Export a classifier with an attribution method as a versioned SavedModel for TF Serving.

    Args:
        model: A `Backbone` or a `keras.Model` taking pixels in [0, 255] (a final softmax is
            removed, as for the library functions).
        export_dir: Model base path; `export_dir/<version>` is written to a temporary sibling and
            renamed into place in one step, so concurrent exports each get their own version.
        method: "gradcam", "saliency" or "integrated_gradients".
        version: Version number (positive int64, not present yet) or None for the next one.
        layer: Grad-CAM layer (4-D output); default the backbone's `gradcam_layer`.
        top_k: Number of top classes returned, >= 1.
        steps: Integrated-gradients path intervals, >= 1.
        rule: Integrated-gradients rule, "trapezoid" or "right".
        spacing: Integrated-gradients spacing, "quadratic" or "uniform".
        baseline: Integrated-gradients baseline gray level in [0, 255] (0 = black, the library's
            default).
        batch_size: Integrated-gradients path points per model call inside the graph, >= 1.
        image_size: `(height, width)` encoded images are resized to; default the model's input
            size (then float images must have that size).
        max_decode_pixels: Largest `height * width` the bytes signatures decode (checked on the
            header first).

    Returns:
        The version folder written.

    Raises:
        ModelError: Not a usable classifier, or a Grad-CAM layer without a 4-D output.
        LayerNotFoundError: Unknown `layer`.
        ParameterError: Bad method, version, sizes or options; the version exists already;
            `export_dir` is a file.
        ExportError: The disk (or quota) filled up while writing (nothing is left behind), or
            `version=None` after the largest int64 version exists.
    """
    method = check_choice(method, "method", EXPLAIN_METHODS)
    backbone = as_backbone(model)
    options = {
        "top_k": check_int(top_k, "top_k", low=1),
        "steps": check_int(steps, "steps", low=1),
        "rule": check_choice(rule, "rule", ("trapezoid", "right")),
        "spacing": check_choice(spacing, "spacing", ("quadratic", "uniform")),
        "baseline": check_number(baseline, "baseline", low=0.0, high=255.0),
        "batch_size": check_int(batch_size, "batch_size", low=1),
        "max_decode_pixels": check_int(max_decode_pixels, "max_decode_pixels", low=1),
        "size": None,
    }
    if image_size is not None:
        if (
            not isinstance(image_size, (tuple, list)) or len(image_size) != 2
            or backbone.input_size is not None and tuple(image_size) != tuple(backbone.input_size)
        ):
            raise ParameterError(
                f"`image_size` must be (height, width) and match the model's input size {backbone.input_size}. "
                f"Received: image_size={image_size!r}"
            )
        options["size"] = (check_int(image_size[0], "image_size[0]", low=1), check_int(image_size[1], "image_size[1]", low=1))
    elif backbone.input_size is not None:
        options["size"] = tuple(int(s) for s in backbone.input_size)
    if method == "gradcam":
        layer = backbone.gradcam_layer if layer is None else layer
        if layer is None:
            raise ModelError(f"{backbone.name!r} has no 4-D feature map for Grad-CAM; pass `layer=`. Received: layer=None")
        shape = FeatureModel(backbone, [layer]).model.output[layer].shape
        if len(shape) != 4:
            raise ModelError(f"Grad-CAM needs a layer with a 4-D output; {layer!r} outputs {tuple(shape)}. Received: layer={layer!r}")
    module = _Explainer(backbone, method, layer, options)
    return export_version(export_dir, version, lambda folder: _save(module, folder))
