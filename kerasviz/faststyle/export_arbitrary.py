"""Export the arbitrary (AdaIN) stylizer as a SavedModel for TensorFlow Serving, and run an export
locally. `export_style_model` hands an arbitrary stylizer to `export_arbitrary_model`.

Signatures (same names, same atomic versioned layout and warm-up file as transform networks):

- `serving_default`: `content` float32 `(-1, -1, -1, 3)`, `style` float32 `(-1, -1, -1, 3)`,
  `alpha` float32 `(-1,)` → `stylized` float32 `(-1, -1, -1, 3)`, clipped to `[0, 255]`. Pixels in
  `[0, 255]`; row `i` stylizes `content[i]` with `style[i]` at strength `alpha[i]` (0: the content
  decoded, 1: full style).
- `stylize_bytes`: `content` string `(-1,)`, `style` string `(-1,)` (encoded PNG / JPEG / BMP),
  `alpha` float32 `(-1,)` → `stylized` string `(-1,)`, PNGs of each content's size. Each pair is
  decoded and stylized on its own, so sizes may differ between rows. Each header is read before
  decoding and an image over `max_decode_pixels` is refused; GIF is refused. A grey file becomes
  three equal channels; a transparent one (RGBA, grey + alpha, PNG `tRNS`) is composited over
  white, as `kerasviz.load_image` does with a file (`prepare_style` refuses a transparent *array*
  and says to do exactly this).

As in `stylize_arbitrary`, every style is resized (antialiased) to a shorter side of `style_size`
(default 256) before encoding, so a served result equals the in-process one for the same images.

Refused with `InvalidArgumentError` inside the graph (INVALID_ARGUMENT / HTTP 400 when served; the
server stays up): inputs of different batch lengths, `alpha` outside `[0, 1]` (or NaN), pixels
outside `[0, 255]`, a style with a side under `MIN_STYLE_SIDE` (32) or more than
`MAX_STYLE_PIXELS` pixels, a content side under 16. Pixel inputs with 1, 2 or 4 channels do not
fit `(-1, -1, -1, 3)` and the server's shape check refuses them (send such images as bytes).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import keras
import numpy as np
import tensorflow as tf

from ..checks import check_int
from ..errors import ParameterError
from ..images import to_uint8
from ..images.image_bytes import DEFAULT_MAX_DECODE_PIXELS, decode_limited, image_header_size
from ..serving.versioned_export import export_version, write_warmup_requests
from .arbitrary import MAX_STYLE_PIXELS, MIN_STYLE_SIDE
from .arbitrary_checks import ALPHA, CONTENT, MIN_CONTENT_SIDE, STYLE, STYLE_SIZE, check_arbitrary_inputs, is_arbitrary_stylizer
from .saved_model import SERVING_DEFAULT, STYLIZE_BYTES, STYLIZED

__all__ = ["export_arbitrary_model", "is_arbitrary_export", "stylize_arbitrary_saved_model"]

_WARMUP_SIZE = 64
_PNG = 0
_TRNS_SEARCH = 1 << 16  # a PNG's tRNS chunk precedes its pixels: look in the first 64 KB


def _decode_on_white(data: tf.Tensor, max_pixels: int) -> tf.Tensor:
    """One encoded image as float32 RGB `(H, W, 3)`: size-checked, grey expanded, alpha over white."""
    rgb = tf.cast(decode_limited(data, max_pixels), tf.float32)
    colour_type = tf.strings.substr(data, 25, 1)  # PNG IHDR: 4 grey + alpha, 6 RGBA
    transparent = tf.equal(image_header_size(data)[0], _PNG) & (
        tf.equal(colour_type, b"\x04")
        | tf.equal(colour_type, b"\x06")
        | tf.strings.regex_full_match(tf.strings.substr(data, 0, _TRNS_SEARCH), "(?s).*tRNS.*")
    )

    def on_white():  # decoded a second time (after the size check) for its alpha channel
        with tf.control_dependencies([rgb]):
            alpha = tf.cast(tf.io.decode_png(data, channels=4)[..., 3:], tf.float32) / 255.0
        return rgb * alpha + 255.0 * (1.0 - alpha)

    return tf.cond(transparent, on_white, lambda: rgb)


def _side_check(images: tf.Tensor, low: int, what: str) -> tf.Operation:
    shape = tf.shape(images)
    return tf.debugging.Assert(
        tf.minimum(shape[-3], shape[-2]) >= low,
        [f"the {what} image must be at least {low} x {low} pixels; it is", shape[-3], "x", shape[-2]],
    )


def _range_check(pixels: tf.Tensor, name: str) -> tf.Operation:
    return tf.debugging.Assert(
        (tf.reduce_min(pixels) >= 0.0) & (tf.reduce_max(pixels) <= 255.0),
        [f"{name} pixels must lie in [0, 255]; they span", tf.reduce_min(pixels), tf.reduce_max(pixels)],
    )


def _batch_checks(content: tf.Tensor, style: tf.Tensor, alpha: tf.Tensor) -> List[tf.Operation]:
    sizes = tf.stack([tf.shape(content)[0], tf.shape(style)[0], tf.shape(alpha)[0]])
    return [
        tf.debugging.Assert(
            tf.reduce_all(tf.equal(sizes, sizes[0])),
            ["content, style and alpha must have the same batch length; they have", sizes],
        ),
        tf.debugging.Assert(
            tf.reduce_all((alpha >= 0.0) & (alpha <= 1.0)),
            ["alpha must lie in [0, 1] (0 = content only, 1 = full style); received", alpha],
            summarize=8,
        ),
    ]


def _prepared_style(style: tf.Tensor, style_size: int) -> tf.Tensor:
    """Checked styles `(N, h, w, 3)`, resized (antialiased) to a shorter side of `style_size` as
    `prepare_style` does."""
    shape = tf.shape(style)
    height, width = tf.cast(shape[1], tf.float64), tf.cast(shape[2], tf.float64)
    checks = [
        _side_check(style, MIN_STYLE_SIDE, "style"),
        _range_check(style, "style"),
        tf.debugging.Assert(
            height * width <= MAX_STYLE_PIXELS,
            ["the style image has", shape[1], "x", shape[2], f"pixels, more than {MAX_STYLE_PIXELS}; shrink it first"],
        ),
    ]
    with tf.control_dependencies(checks):
        scale = style_size / tf.minimum(height, width)
    size = tf.cast(tf.maximum(tf.round(tf.stack([height, width]) * scale), 1.0), tf.int32)
    return tf.clip_by_value(tf.image.resize(style, size, antialias=True), 0.0, 255.0)


class _ArbitraryModule(tf.Module):
    """What is saved: the stylizer and its two signatures."""

    def __init__(self, net: keras.Model, max_decode_pixels: int, style_size: int) -> None:
        super().__init__(name="arbitrary_style_model")
        self.net = net
        self.max_decode_pixels = max_decode_pixels
        self.style_size = style_size
        self.saved_style_size = tf.Variable(style_size, trainable=False, name="style_size")  # read back locally
        pixels = (
            tf.TensorSpec((None, None, None, 3), tf.float32, name=CONTENT),
            tf.TensorSpec((None, None, None, 3), tf.float32, name=STYLE),
            tf.TensorSpec((None,), tf.float32, name=ALPHA),
        )
        encoded = (
            tf.TensorSpec((None,), tf.string, name=CONTENT),
            tf.TensorSpec((None,), tf.string, name=STYLE),
            tf.TensorSpec((None,), tf.float32, name=ALPHA),
        )
        self.serving_default = tf.function(self._pixels, input_signature=pixels)
        self.stylize_bytes = tf.function(self._bytes, input_signature=encoded)

    def _run(self, content: tf.Tensor, style: tf.Tensor, alpha: tf.Tensor) -> tf.Tensor:
        style = _prepared_style(style, self.style_size)
        with tf.control_dependencies([_side_check(content, MIN_CONTENT_SIDE, "content"), _range_check(content, "content")]):
            content = tf.identity(content)
        out = self.net({CONTENT: content, STYLE: style, ALPHA: alpha}, training=False)
        return tf.clip_by_value(tf.cast(out, tf.float32), 0.0, 255.0)

    def _pixels(self, content: tf.Tensor, style: tf.Tensor, alpha: tf.Tensor) -> Dict[str, tf.Tensor]:
        with tf.control_dependencies(_batch_checks(content, style, alpha)):
            content = tf.identity(content)
        return {STYLIZED: self._run(content, style, alpha)}

    def _bytes(self, content: tf.Tensor, style: tf.Tensor, alpha: tf.Tensor) -> Dict[str, tf.Tensor]:
        with tf.control_dependencies(_batch_checks(content, style, alpha)):
            content = tf.identity(content)

        def one(args):
            content_bytes, style_bytes, strength = args
            content_pixels = _decode_on_white(content_bytes, self.max_decode_pixels)
            style_pixels = _decode_on_white(style_bytes, self.max_decode_pixels)
            out = self._run(content_pixels[None], style_pixels[None], strength[None])[0]
            return tf.io.encode_png(tf.cast(tf.round(out), tf.uint8))

        encoded = tf.map_fn(one, (content, style, alpha), fn_output_signature=tf.TensorSpec((), tf.string))
        return {STYLIZED: encoded}


def _save(module: _ArbitraryModule, folder: Path) -> None:
    """Save the module with both signatures and one warm-up request per signature."""
    signatures = {SERVING_DEFAULT: module.serving_default, STYLIZE_BYTES: module.stylize_bytes}
    tf.saved_model.save(module, str(folder), signatures=signatures)
    rng = np.random.default_rng(0)
    content, style = rng.uniform(0, 255, (2, 1, _WARMUP_SIZE, _WARMUP_SIZE, 3)).astype(np.float32)
    pngs = [tf.io.encode_png(image[0].astype(np.uint8)).numpy() for image in (content, style)]
    alpha = np.ones((1,), np.float32)
    write_warmup_requests(
        folder,
        [
            (SERVING_DEFAULT, {CONTENT: content, STYLE: style, ALPHA: alpha}),
            (STYLIZE_BYTES, {CONTENT: np.array(pngs[:1], dtype=object), STYLE: np.array(pngs[1:], dtype=object), ALPHA: alpha}),
        ],
    )


def export_arbitrary_model(
    net: keras.Model,
    export_dir: Union[str, os.PathLike],
    version: Optional[int] = None,
    *,
    max_decode_pixels: int = DEFAULT_MAX_DECODE_PIXELS,
    style_size: int = STYLE_SIZE,
) -> Path:
    """Export an arbitrary stylizer as a versioned SavedModel for TF Serving (atomically).

    Args:
        net: A model from `build_arbitrary_stylizer` (inputs `content`, `style`, `alpha`).
        export_dir: Model base path; created if missing.
        version: Version number (a positive int64, not already present), or `None` for the next.
        max_decode_pixels: Largest `height * width` the `stylize_bytes` signature decodes per
            image (content and style alike), read from the header first.
        style_size: Shorter side every style image is resized to inside the signatures (the
            texture scale; `stylize_arbitrary`'s `style_size`), >= `MIN_STYLE_SIDE`.

    Returns:
        The version folder written, `export_dir/<version>`.

    Raises:
        ParameterError: `net` is not an arbitrary stylizer, a bad `version` or
            `max_decode_pixels` / `style_size`, or `export_dir` a file.
        ExportError: The disk filled up while writing (nothing is left behind).
    """
    if not is_arbitrary_stylizer(net):
        raise ParameterError(
            f"Expected an arbitrary stylizer (a Keras model with inputs {CONTENT!r}, {STYLE!r}, "
            f"{ALPHA!r}) from build_arbitrary_stylizer. Received: net={type(net).__name__}"
        )
    max_decode_pixels = check_int(max_decode_pixels, "max_decode_pixels", low=1)
    style_size = check_int(style_size, "style_size", low=MIN_STYLE_SIDE)
    module = _ArbitraryModule(net, max_decode_pixels, style_size)
    return export_version(export_dir, version, lambda folder: _save(module, folder))


def is_arbitrary_export(loaded: Any) -> bool:
    """Whether a loaded style model (from `load_style_model`) is an arbitrary-stylizer export.

    Args:
        loaded: An object with `.signatures`.

    Returns:
        True when its `serving_default` takes `content`, `style` and `alpha`.
    """
    _, kwargs = loaded.signatures[SERVING_DEFAULT].structured_input_signature
    return set(kwargs) == {CONTENT, STYLE, ALPHA}


def stylize_arbitrary_saved_model(loaded: Any, content: Any, style: Any, alpha: Any = 1.0) -> np.ndarray:
    """Stylize content images with the styles given, through an exported arbitrary stylizer.

    Args:
        loaded: An object from `load_style_model` on an `export_arbitrary_model` export.
        content: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`, sides >= 16.
        style: One style image for every content image or one per content image `(N, h, w, C)`
            (checked and resized as `check_arbitrary_inputs` says; any size >= 32).
        alpha: Style strength in `[0, 1]`, one number or one per content image.

    Returns:
        uint8 `(H, W, 3)` or `(N, H, W, 3)`, like `content`.

    Raises:
        ImageError: Invalid images (see `check_arbitrary_inputs`).
        ParameterError: `alpha` outside `[0, 1]` or of the wrong length.
    """
    style_size = int(loaded.saved_style_size.numpy()) if hasattr(loaded, "saved_style_size") else STYLE_SIZE
    batch, styles, alphas, single = check_arbitrary_inputs(content, style, alpha, style_size)
    inputs = {CONTENT: tf.constant(batch), STYLE: tf.constant(styles), ALPHA: tf.constant(alphas)}
    result = to_uint8(loaded.signatures[SERVING_DEFAULT](**inputs)[STYLIZED].numpy())
    return result[0] if single else result
