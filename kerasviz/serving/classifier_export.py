"""Export an image classifier as a versioned SavedModel that TF Serving and `kerasviz serve` serve,
for the black-box explanations (`kerasviz.blackbox`) or any client.

Signatures (all outputs have a leading batch axis):

- `serving_default`: `images` float32 `(-1, H, W, 3)` pixels in [0, 255] at the model's input
  size → `probabilities` float32 `(-1, classes)` (softmax of the logits) and `classes` int32
  `(-1,)` (the top class);
- `predict_bytes` (with `accept_encoded`): `images` string `(-1,)`, each an encoded PNG / JPEG /
  BMP (its header is checked against `max_decode_pixels` before decoding; GIF refused), resized
  bilinearly to the model's size → the same outputs.

The version is written through `kerasviz.serving.versioned_export.export_version` (atomic rename,
next free number, a full disk is an `ExportError`), with one warm-up record per signature.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Optional, Union

import numpy as np
import tensorflow as tf

from ..backbones import as_backbone
from ..checks import check_bool, check_int
from ..errors import ModelError
from ..images.image_bytes import DEFAULT_MAX_DECODE_PIXELS, decode_limited
from .versioned_export import export_version, write_warmup_requests

__all__ = ["CLASSIFY_BYTES", "export_classifier"]

#: The encoded-images signature's name.
CLASSIFY_BYTES = "predict_bytes"
_WARMUP_IMAGES = 2


class _Classifier(tf.Module):
    """What is saved: the logits model and the two signatures."""

    def __init__(self, model: Any, size: tuple, max_decode_pixels: int) -> None:
        super().__init__(name="classifier")
        self.model = model
        self.size = size
        self.max_decode_pixels = max_decode_pixels
        pixels = tf.TensorSpec((None, *size, 3), tf.float32, name="images")
        encoded = tf.TensorSpec((None,), tf.string, name="images")
        self.serving_default = tf.function(self._classify, input_signature=(pixels,))
        self.predict_bytes = tf.function(lambda images: self._classify(self._decode(images)), input_signature=(encoded,))

    def _decode(self, images: tf.Tensor) -> tf.Tensor:
        def one(data):
            return tf.image.resize(tf.cast(decode_limited(data, self.max_decode_pixels), tf.float32), self.size, method="bilinear")

        return tf.map_fn(one, images, fn_output_signature=tf.TensorSpec((*self.size, 3), tf.float32))

    def _classify(self, images: tf.Tensor) -> Dict[str, tf.Tensor]:
        logits = tf.cast(self.model(images, training=False), tf.float32)
        return {"probabilities": tf.nn.softmax(logits, axis=-1), "classes": tf.cast(tf.argmax(logits, axis=-1), tf.int32)}


def export_classifier(
    model: Any,
    export_dir: Union[str, os.PathLike],
    *,
    version: Optional[int] = None,
    accept_encoded: bool = True,
    max_decode_pixels: int = DEFAULT_MAX_DECODE_PIXELS,
) -> Path:
    """Export a classifier as a versioned SavedModel for TF Serving (pixels → probabilities).

    Args:
        model: A `Backbone` or a `keras.Model` taking pixels in [0, 255] with a fixed input size
            (a final softmax is removed, then applied in the graph: `probabilities` are the
            softmax of the logits).
        export_dir: Model base path; `export_dir/<version>` is written (renamed into place).
        version: Version number (positive int64, not present yet) or None for the next one.
        accept_encoded: Also write the `predict_bytes` signature taking encoded images.
        max_decode_pixels: Largest `height * width` `predict_bytes` decodes (header checked first).

    Returns:
        The version folder written.

    Raises:
        ModelError: not a classifier, or no fixed input size.
        ParameterError: a bad version, `export_dir` a file, or bad options.
        ExportError: the disk filled up (nothing is left behind).
    """
    backbone = as_backbone(model)
    backbone.require_classifier("export_classifier")
    check_bool(accept_encoded, "accept_encoded")
    max_decode_pixels = check_int(max_decode_pixels, "max_decode_pixels", low=1)
    if backbone.input_size is None or None in tuple(backbone.input_size):
        raise ModelError(
            "export_classifier needs a model with a fixed input size (the served signature declares it). "
            f"Received: input size {backbone.input_size}"
        )
    size = tuple(int(s) for s in backbone.input_size)
    module = _Classifier(backbone.model, size, max_decode_pixels)
    rng = np.random.default_rng(0)
    pixels = rng.uniform(0, 255, (_WARMUP_IMAGES, *size, 3)).astype(np.float32)
    signatures = {"serving_default": module.serving_default}
    requests = [("serving_default", {"images": pixels})]
    if accept_encoded:
        signatures[CLASSIFY_BYTES] = module.predict_bytes
        png = tf.io.encode_png(pixels[0].astype(np.uint8)).numpy()
        requests.append((CLASSIFY_BYTES, {"images": np.array([png], dtype=object)}))

    def write(folder: Path) -> None:
        tf.saved_model.save(module, str(folder), signatures=signatures)
        write_warmup_requests(folder, requests)

    return export_version(export_dir, version, write)
