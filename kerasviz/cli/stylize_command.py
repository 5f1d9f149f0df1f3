"""The `kerasviz stylize` command: its arguments, its input image (a file or `skimage:NAME`,
resized by `--size`), and what stylizes (a local SavedModel / .keras / .tflite network, or a
client of TF Serving / `kerasviz serve` with `--server`); images out as PNG, videos as video.

`cli/faststyle.py` registers it beside `train-style` and `export-style`.
"""

from __future__ import annotations

import argparse
import os
import ssl
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ParameterError
from .common import write_png

__all__ = [
    "INTERRUPTED",
    "VIDEO_SUFFIXES",
    "add_stylize_arguments",
    "load_keras_network",
    "load_named_image",
    "load_stylize_image",
    "style_client",
    "stylize_with_saved_model",
    "stylizer",
]

#: `stylize` treats inputs with these suffixes as videos.
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv", ".avi", ".webm", ".mpg", ".mpeg")
#: The shell's code for a process stopped by Ctrl-C (128 + SIGINT).
INTERRUPTED = 130


def load_named_image(name: str, size: Any = None) -> np.ndarray:
    """Load `skimage:NAME` (a bundled picture) or an image file as float32 RGB pixels (kept name).

    Args:
        name: `skimage:NAME` or a path.
        size: Passed to `load_image` (`None`, an int or `(height, width)`).

    Returns:
        float32 `(H, W, 3)` in `[0, 255]`.

    Raises:
        ImageError: Unknown skimage picture or unreadable file.
    """
    from .common import load_image_argument  # the one image-argument loader (skimage:NAME in load_image)

    return load_image_argument(name, size)


def load_keras_network(path: str) -> Any:
    """A transform network saved by `train-style --save NET.keras`.

    Raises:
        ModelError: No such file, or not a loadable network.
    """
    import keras

    from ..errors import ModelError
    from ..faststyle import network  # noqa: F401  (registers the custom layers)

    if not Path(path).is_file():
        raise ModelError(f"No such network file; save one with `train-style --save NET.keras`. Received: network={path!r}")
    try:
        return keras.models.load_model(path)
    except (ValueError, OSError, TypeError) as error:
        raise ModelError(f"Cannot load the network ({error}). Received: network={path!r}") from None


def add_stylize_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `kerasviz stylize`: input, local model or server, output, video options.

    Args:
        parser: The `stylize` subparser.
    """
    parser.add_argument("image", help=f"image file, skimage:NAME, or a video ({', '.join(VIDEO_SUFFIXES)})")
    parser.add_argument("--model", help="a SavedModel (version folder or base path: newest version), NET.keras or NET.tflite")
    parser.add_argument("--style-weights", type=float, nargs="+", default=None,
                        help="convex mix of the styles of a multi-style model, e.g. 0.5 0.5 0")
    parser.add_argument("--size", type=int, default=None, help="resize the image's (or frames') longer side to this first")
    parser.add_argument("--out", default=None, help="output PNG (default stylized.png) or video (default stylized.mp4)")
    video = parser.add_argument_group("video")
    video.add_argument("--no-stable", action="store_true", help="stylize frame by frame (no flow-warped blending)")
    video.add_argument("--blend", type=float, default=0.7, help="weight of the warped previous frame (default 0.7)")
    video.add_argument("--batch-size", type=int, default=8, help="frames per network call (default 8)")
    group = parser.add_argument_group("serving (instead of --model)")
    group.add_argument("--server", help="gRPC host:port (e.g. localhost:8500) or REST http(s)://host:port of TF Serving / kerasviz serve")
    group.add_argument("--model-name", default="style", help="served model name (default style)")
    group.add_argument("--signature", default=None, help="signature (default: the encoded-bytes one if served)")
    group.add_argument("--token", default=None, help="bearer token (default $KERASVIZ_SERVING_TOKEN)")
    group.add_argument("--ca-cert", default=None, help="PEM CA to trust for TLS")
    group.add_argument("--timeout", type=float, default=60.0, help="seconds per attempt (default 60)")


def load_stylize_image(args: argparse.Namespace) -> np.ndarray:
    """The `stylize` command's input image, resized by `--size` (shared by `--model` and `--server`).

    Args:
        args: Parsed `stylize` arguments (`image`, `size`).

    Returns:
        float32 `(H, W, 3)` pixels in `[0, 255]`.

    Raises:
        ImageError: The image cannot be read.
        ParameterError: `--size` is below 4 pixels.
    """
    image = load_named_image(args.image)
    if args.size is not None:
        if args.size < 4:
            raise ParameterError(f"--size must be at least 4. Received: size={args.size}")
        from ..images import resize_image

        scale = args.size / max(image.shape[:2])
        image = resize_image(image, (max(4, round(image.shape[0] * scale)), max(4, round(image.shape[1] * scale))))
    return image


def style_client(args: argparse.Namespace) -> Any:
    """A gRPC `StyleClient` or, for http(s):// addresses, a `RestStyleClient` for `--server`."""
    from ..serving import RestStyleClient, StyleClient

    token = args.token or os.environ.get("KERASVIZ_SERVING_TOKEN") or None
    if args.server.startswith(("http://", "https://")):
        try:
            context = ssl.create_default_context(cafile=args.ca_cert) if args.ca_cert else None
        except (OSError, ssl.SSLError) as error:
            raise ParameterError(f"Cannot read --ca-cert: {error}. Received: ca_cert={args.ca_cert!r}") from None
        return RestStyleClient(args.server, args.model_name, signature=args.signature, token=token, ssl_context=context)
    try:
        root = Path(args.ca_cert).read_bytes() if args.ca_cert else None
    except OSError as error:
        raise ParameterError(f"Cannot read --ca-cert: {error.strerror}. Received: ca_cert={args.ca_cert!r}") from None
    return StyleClient(args.server, args.model_name, signature=args.signature, token=token, root_certificates=root)


def stylizer(args: argparse.Namespace) -> Any:
    """What stylizes: a client call (`--server`), a Keras network, or `(frames, weights) -> frames`."""
    if args.server:
        client = style_client(args)
        return lambda frames, weights: client.stylize(frames, style_weights=weights, timeout=args.timeout)
    if not args.model:
        raise ParameterError(
            "Give --model (a SavedModel folder, NET.keras or NET.tflite, run locally) or --server "
            "HOST:PORT (TF Serving / kerasviz serve). Received: model=None, server=None"
        )
    if args.model.endswith(".keras"):
        return load_keras_network(args.model)
    if args.model.endswith(".tflite"):
        from ..faststyle import load_tflite, stylize_tflite

        interpreter = load_tflite(args.model)
        return lambda frames, weights: stylize_tflite(interpreter, frames, weights)
    from ..faststyle import load_style_model, stylize_saved_model

    loaded = load_style_model(args.model)
    return lambda frames, weights: stylize_saved_model(loaded, frames, weights)


def stylize_with_saved_model(args: argparse.Namespace) -> int:
    """Handler of `kerasviz stylize`: stylize an image (PNG out) or a video (video out).

    Args:
        args: Parsed `stylize` arguments.

    Returns:
        Exit code 0 (130 when a video is interrupted with Ctrl-C).

    Raises:
        ParameterError: Neither `--model` nor `--server`, or bad video options.
    """
    import keras

    run = stylizer(args)
    if Path(args.image).suffix.lower() in VIDEO_SUFFIXES:
        from ..faststyle import stylize_video

        out = args.out or "stylized.mp4"
        try:
            result = stylize_video(run, args.image, out, args.style_weights, stable=not args.no_stable,
                                   blend=args.blend, batch_size=args.batch_size, size=args.size)
        except KeyboardInterrupt:
            print(f"\nkerasviz stylize: interrupted; {out} is incomplete", file=sys.stderr)
            return INTERRUPTED
        print(f"wrote {result.path} ({result.frames} frames, {result.fps:g} fps, {result.size[1]}x{result.size[0]}"
              f"{', audio kept' if result.audio else ''}; {result.frames_per_second:.1f} frames/s)")
        return 0
    image = load_stylize_image(args)
    if isinstance(run, keras.Model):
        from ..faststyle import stylize

        stylized = stylize(run, image, args.style_weights)
    else:
        stylized = run(image, args.style_weights)
    write_png(args.out or "stylized.png", stylized)
    return 0
