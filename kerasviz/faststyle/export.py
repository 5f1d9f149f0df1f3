"""Export a transform network as a SavedModel that TensorFlow Serving (and kerasviz's embedded
server) loads, and load it back for local stylization.

Layout written under `export_dir` (TF Serving's model base path):

```
export_dir/
  3/                               numeric version folder (renamed into place in one step)
    saved_model.pb, variables/
    assets.extra/tf_serving_warmup_requests
```

Signatures (`saved_model_cli show --all --dir export_dir/3` lists them):

- `serving_default`: `images` float32 `(-1, -1, -1, 3)` pixels in `[0, 255]` (+ `style_weights`
  float32 `(-1, n_styles)`, each row a convex mix, for a multi-style network) →
  `stylized` float32 `(-1, -1, -1, 3)` in `[0, 255]`. One batch: every image the same size.
- `stylize_bytes`: `images` string `(-1,)`, each an encoded JPEG / PNG / BMP image (+
  `style_weights` as above) → `stylized` string `(-1,)`, each an encoded PNG of the same size as
  its input. The images of one request are decoded and stylized **one at a time**, so their sizes
  may differ (and a request stays small: bytes, not float JSON). Each image's header is read
  first and an image declaring more than `max_decode_pixels` pixels (default 4096 x 4096) is
  refused with INVALID_ARGUMENT before anything is allocated; GIF is refused (all its frames
  would be decoded).
Loading an export back (`load_style_model`, `stylize_saved_model`) and the names above live in
`saved_model.py`; they are re-exported here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Optional, Union

import keras
import numpy as np
import tensorflow as tf

from ..checks import check_int
from ..images.image_bytes import DEFAULT_MAX_DECODE_PIXELS, decode_limited
from ..serving.versioned_export import export_version, write_warmup_requests
from .arbitrary_checks import is_arbitrary_stylizer
from .export_arbitrary import export_arbitrary_model
from .layers import plain_inference
from .network import IMAGES, STYLE_WEIGHTS, transform_net_config
from .saved_model import SERVING_DEFAULT, STYLIZE_BYTES, STYLIZED

__all__ = [
    "export_style_model",
]

_WARMUP_SIZE = 32


class _StyleModule(tf.Module):
    """What is saved: the network and its two signatures."""

    def __init__(self, net: keras.Model, n_styles: int, max_decode_pixels: int = DEFAULT_MAX_DECODE_PIXELS) -> None:
        super().__init__(name="style_model")
        self.net = net
        self.n_styles = n_styles
        self.max_decode_pixels = max_decode_pixels
        pixels = tf.TensorSpec((None, None, None, 3), tf.float32, name=IMAGES)
        encoded = tf.TensorSpec((None,), tf.string, name=IMAGES)
        weights = tf.TensorSpec((None, n_styles), tf.float32, name=STYLE_WEIGHTS)
        if n_styles == 1:
            self.serving_default = tf.function(lambda images: self._pixels(images, None), input_signature=(pixels,))
            self.stylize_bytes = tf.function(lambda images: self._bytes(images, None), input_signature=(encoded,))
        else:
            self.serving_default = tf.function(self._pixels, input_signature=(pixels, weights))
            self.stylize_bytes = tf.function(self._bytes, input_signature=(encoded, weights))

    def _run(self, images: tf.Tensor, style_weights: Optional[tf.Tensor]) -> tf.Tensor:
        inputs = images if style_weights is None else {IMAGES: images, STYLE_WEIGHTS: style_weights}
        return tf.cast(self.net(inputs, training=False), tf.float32)

    def _pixels(self, images: tf.Tensor, style_weights: Optional[tf.Tensor]) -> Dict[str, tf.Tensor]:
        return {STYLIZED: self._run(images, style_weights)}

    def _bytes(self, images: tf.Tensor, style_weights: Optional[tf.Tensor]) -> Dict[str, tf.Tensor]:
        if style_weights is None:
            style_weights = tf.ones((tf.shape(images)[0], 1), tf.float32)

        def one(args):
            data, weights = args
            pixels = decode_limited(data, self.max_decode_pixels)
            batch = tf.cast(pixels, tf.float32)[None]
            out = self._run(batch, None if self.n_styles == 1 else weights[None])[0]
            return tf.io.encode_png(tf.cast(tf.round(tf.clip_by_value(out, 0.0, 255.0)), tf.uint8))

        encoded = tf.map_fn(one, (images, style_weights), fn_output_signature=tf.TensorSpec((), tf.string))
        return {STYLIZED: encoded}


def _save(module: _StyleModule, folder: Path) -> None:
    """Save the module with both signatures and one warm-up request per signature."""
    signatures = {SERVING_DEFAULT: module.serving_default, STYLIZE_BYTES: module.stylize_bytes}
    tf.saved_model.save(module, str(folder), signatures=signatures)
    rng = np.random.default_rng(0)
    pixels = rng.uniform(0, 255, (1, _WARMUP_SIZE, _WARMUP_SIZE, 3)).astype(np.float32)
    png = tf.io.encode_png(pixels[0].astype(np.uint8)).numpy()
    extra = {} if module.n_styles == 1 else {STYLE_WEIGHTS: np.full((1, module.n_styles), 1.0 / module.n_styles, np.float32)}
    write_warmup_requests(
        folder,
        [
            (SERVING_DEFAULT, {IMAGES: pixels, **extra}),
            (STYLIZE_BYTES, {IMAGES: np.array([png], dtype=object), **extra}),
        ],
    )


def export_style_model(
    net: keras.Model,
    export_dir: Union[str, os.PathLike],
    version: Optional[int] = None,
    *,
    max_decode_pixels: int = DEFAULT_MAX_DECODE_PIXELS,
) -> Path:
    """Export a transform network as a versioned SavedModel for TF Serving.

    The version is written to a hidden temporary sibling folder and renamed into place in one
    step, so a server watching `export_dir` never sees a half-written version, and a failed
    export leaves no version folder behind. With `version=None`, concurrent exports into the
    same folder each get their own number (a taken number moves the rename on to the next).

    An arbitrary stylizer (`build_arbitrary_stylizer`: `content`, `style`, `alpha` inputs) is
    exported by `export_arbitrary_model`, with signatures taking a style image (see
    `kerasviz.faststyle.export_arbitrary`).

    Args:
        net: A network from `build_transform_net` (trained or not; any dtype policy, the
            signatures take and return float32) or from `build_arbitrary_stylizer`.
        export_dir: Model base path; created if missing.
        version: Version number (a positive int64, not already present), or `None` for one
            more than the highest existing version (1 for an empty folder).
        max_decode_pixels: Largest `height * width` the `stylize_bytes` signature decodes; it is
            read from each image's header before decoding, and larger images are refused with
            INVALID_ARGUMENT (default 4096 x 4096).

    Returns:
        The version folder written, `export_dir/<version>`.

    Raises:
        ModelError: `net` is neither a transform network nor an arbitrary stylizer.
        ParameterError: `version` not a positive int64 or already exported, `export_dir` a file,
            or a bad `max_decode_pixels`.
        ExportError: The disk (or quota) filled up while writing (nothing is left behind), or
            `version=None` after the largest int64 version (9223372036854775807) exists.
    """
    if is_arbitrary_stylizer(net):
        return export_arbitrary_model(net, export_dir, version, max_decode_pixels=max_decode_pixels)
    config = transform_net_config(net)
    max_decode_pixels = check_int(max_decode_pixels, "max_decode_pixels", low=1)

    def write(folder: Path) -> None:
        with plain_inference(net):  # a SavedModel loads ~3x faster without the CPU fast paths
            _save(_StyleModule(net, config["n_styles"], max_decode_pixels), folder)

    return export_version(export_dir, version, write)
