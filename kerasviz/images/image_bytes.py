"""Decoding encoded images inside a SavedModel with a pixel limit checked *before* anything is allocated.

`tf.io.decode_image` allocates `height * width * channels` bytes for whatever size a file's
header declares, so a 400 KB PNG declaring 20000 x 20000 pixels makes a server allocate gigabytes.
`decode_limited` reads the width and height from the header first (PNG `IHDR`, the JPEG frame
header found by walking the marker segments, BMP's info header) with a few string ops, refuses
images over the limit with `InvalidArgumentError` (INVALID_ARGUMENT / HTTP 400 when served), and
only then calls the format's decoder. GIF is refused: its frames are all decoded even when one is
asked for, and their number is not in any header.
"""

from __future__ import annotations

import tensorflow as tf

__all__ = ["DEFAULT_MAX_DECODE_PIXELS", "image_header_size", "decode_limited"]

#: Default pixel limit of the encoded-image signatures: 4096 x 4096 (a 48 MB uint8 image; the
#: width-32 style network then needs about 2 GB of float32 activations per image).
DEFAULT_MAX_DECODE_PIXELS = 4096 * 4096
_JPEG_MAX_SEGMENTS = 1024  # real files reach their frame header within a handful of segments
_PNG, _JPEG, _BMP, _UNKNOWN = 0, 1, 2, 3


def _bytes(data: tf.Tensor, start: tf.Tensor, length: int) -> tf.Tensor:
    """`length` bytes of `data` from `start` as int64, zero-padded past the end (never an error)."""
    size = tf.strings.length(data)
    start = tf.minimum(tf.cast(start, tf.int32), size)
    piece = tf.strings.substr(data, start, length)
    padded = tf.strings.join([piece, tf.constant(b"\0" * length)])
    raw = tf.io.decode_raw(tf.strings.substr(padded, 0, length), tf.uint8)
    return tf.cast(tf.reshape(raw, [length]), tf.int64)


def _big_endian(values: tf.Tensor) -> tf.Tensor:
    out = tf.constant(0, tf.int64)
    for i in range(values.shape[0]):
        out = out * 256 + values[i]
    return out


def _little_endian_signed(values: tf.Tensor) -> tf.Tensor:
    out = tf.constant(0, tf.int64)
    for i in reversed(range(values.shape[0])):
        out = out * 256 + values[i]
    return tf.where(out >= 2**31, out - 2**32, out)


def _format(header: tf.Tensor) -> tf.Tensor:
    png = tf.reduce_all(tf.equal(header[:8], tf.constant([137, 80, 78, 71, 13, 10, 26, 10], tf.int64)))
    jpeg = tf.reduce_all(tf.equal(header[:3], tf.constant([255, 216, 255], tf.int64)))
    bmp = tf.reduce_all(tf.equal(header[:2], tf.constant([66, 77], tf.int64)))
    return tf.where(png, _PNG, tf.where(jpeg, _JPEG, tf.where(bmp, _BMP, _UNKNOWN)))


def _jpeg_size(data: tf.Tensor) -> tf.Tensor:
    """(height, width) from the first SOFn segment, or (-1, -1) when none is found."""
    size = tf.cast(tf.strings.length(data), tf.int64)

    def body(pos, height, width, done):
        seg = _bytes(data, pos, 9)
        marker = seg[1]
        is_sof = (marker >= 0xC0) & (marker <= 0xCF) & (marker != 0xC4) & (marker != 0xC8) & (marker != 0xCC)
        standalone = (marker == 0xD8) | (marker == 0x01) | ((marker >= 0xD0) & (marker <= 0xD7))
        bad = (seg[0] != 0xFF) | (marker == 0xD9) | (marker == 0xDA) | (marker == 0x00)
        fill = marker == 0xFF
        length = seg[2] * 256 + seg[3]
        step = tf.where(fill, tf.constant(1, tf.int64), tf.where(standalone, tf.constant(2, tf.int64), 2 + length))
        height = tf.where(is_sof & ~bad, seg[5] * 256 + seg[6], height)
        width = tf.where(is_sof & ~bad, seg[7] * 256 + seg[8], width)
        return pos + step, height, width, done | is_sof | bad

    def cond(pos, height, width, done):
        return tf.logical_and(tf.logical_not(done), pos + 4 <= size)

    minus_one = tf.constant(-1, tf.int64)
    _, height, width, _ = tf.while_loop(
        cond,
        body,
        (tf.constant(2, tf.int64), minus_one, minus_one, tf.constant(False)),
        maximum_iterations=_JPEG_MAX_SEGMENTS,
    )
    return tf.stack([height, width])


def image_header_size(data: tf.Tensor) -> tf.Tensor:
    """The size an encoded image declares, read from its header without decoding it.

    Args:
        data: scalar string tensor, an encoded PNG, JPEG or BMP file.

    Returns:
        int64 `(3,)`: `(format, height, width)` with format 0 PNG, 1 JPEG, 2 BMP, 3 unknown;
        height and width are -1 where the header does not say (unknown format, no JPEG frame
        header).
    """
    header = _bytes(data, 0, 32)
    kind = _format(header)
    png = tf.stack([_big_endian(header[20:24]), _big_endian(header[16:20])])
    bmp = tf.stack([tf.abs(_little_endian_signed(header[22:26])), _little_endian_signed(header[18:22])])
    unknown = tf.constant([-1, -1], tf.int64)
    size = tf.switch_case(
        tf.cast(kind, tf.int32), [lambda: png, lambda: _jpeg_size(data), lambda: bmp, lambda: unknown]
    )
    return tf.concat([tf.reshape(tf.cast(kind, tf.int64), [1]), size], axis=0)


def decode_limited(data: tf.Tensor, max_pixels: int) -> tf.Tensor:
    """Decode one encoded PNG / JPEG / BMP image to uint8 RGB after checking its declared size.

    Args:
        data: scalar string tensor.
        max_pixels: largest `height * width` accepted (>= 1).

    Returns:
        uint8 `(H, W, 3)`.

    Raises:
        tf.errors.InvalidArgumentError: (when run) an unknown format, a GIF, a header without a
            size, an empty image, or more than `max_pixels` pixels; nothing is decoded then.
    """
    info = image_header_size(data)
    kind, height, width = info[0], info[1], info[2]
    is_gif = tf.equal(tf.strings.substr(data, 0, 4), b"GIF8")
    checks = [
        tf.debugging.Assert(
            tf.logical_not(is_gif),
            ["GIF images are not accepted (every frame would be decoded); send PNG or JPEG"],
        ),
        tf.debugging.Assert(
            kind != _UNKNOWN, ["images must be encoded PNG, JPEG or BMP; this is none of them"]
        ),
        tf.debugging.Assert(
            (height > 0) & (width > 0), ["the image header declares no size (or an empty image)"]
        ),
        tf.debugging.Assert(
            # h * w <= limit, written so nothing wraps: an int64 product of two 32-bit header
            # fields (0xC0000000 x 0xC0000000) overflows to a negative number
            height <= tf.constant(max_pixels, tf.int64) // tf.maximum(width, 1),
            ["the image declares", height, "x", width, "pixels, more than the decode limit of",
             tf.constant(max_pixels, tf.int64), "pixels; send a smaller image"],
            summarize=8,
        ),
    ]
    with tf.control_dependencies(checks):
        branch = tf.cast(tf.minimum(kind, _BMP), tf.int32)
        pixels = tf.switch_case(
            branch,
            [
                lambda: tf.io.decode_png(data, channels=3, dtype=tf.uint8),
                lambda: tf.io.decode_jpeg(data, channels=3),
                lambda: tf.io.decode_bmp(data, channels=3),
            ],
        )
    return tf.ensure_shape(pixels, [None, None, 3])
