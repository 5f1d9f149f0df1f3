"""The `kerasviz stylize` command: its arguments, its input image (a file or `skimage:NAME`,
its longer side resized by `--size`), and what stylizes (a local SavedModel / .keras / .tflite
network, a client of TF Serving / `kerasviz serve` with `--server`, or without either the bundled
3-style network), or with `--style PAINTING` the arbitrary-style AdaIN network
(`faststyle.arbitrary`: any style image, `--alpha`, `--preserve-color`, several `--style` files
mixed by `--style-weights`); images out as PNG, videos as video.

`cli/faststyle.py` registers it beside `train-style` and `export-style`. TensorFlow and Keras are
imported inside the handlers only, so building the parser (`kerasviz --help`) stays light.
"""

from __future__ import annotations

import argparse
import os
import ssl
import sys
from pathlib import Path
from typing import Any, Callable

from ..errors import ParameterError
from .common import write_png

__all__ = [
    "INTERRUPTED",
    "VIDEO_SUFFIXES",
    "add_stylize_arguments",
    "arbitrary_stylizer",
    "load_keras_network",
    "check_resize_side",
    "load_stylize_image",
    "style_client",
    "stylize_with_saved_model",
    "stylizer",
]

#: `stylize` treats inputs with these suffixes as videos.
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv", ".avi", ".webm", ".mpg", ".mpeg")
#: The shell's code for a process stopped by Ctrl-C (128 + SIGINT).
INTERRUPTED = 130


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
    parser.add_argument("--model", help="a SavedModel (version folder or base path: newest version), NET.keras or "
                        "NET.tflite (default: the bundled 3-style network)")
    parser.add_argument("--style-weights", type=float, nargs="+", default=None,
                        help="convex mix of the styles of a multi-style model, e.g. 0.5 0.5 0, or of several --style images")
    arbitrary = parser.add_argument_group("arbitrary style (any style image, the AdaIN network; instead of --model)")
    arbitrary.add_argument("--style", action="extend", nargs="+", default=None, metavar="PAINTING",
                           help="style image file(s) or painting:NAME / skimage:NAME; several are interpolated")
    arbitrary.add_argument("--alpha", type=float, default=1.0, help="content-style trade-off in [0, 1] (default 1: full style)")
    arbitrary.add_argument("--preserve-color", action="store_true", help="keep the photo's colours (recolour the style first)")
    arbitrary.add_argument("--style-size", type=int, default=256,
                           help="shorter side the style images are resized to: the texture scale (default 256)")
    parser.add_argument("--size", type=int, default=None,
                        help="resize the image's (or frames') longer side to this first (4..4096)")
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


def load_stylize_image(args: argparse.Namespace) -> Any:
    """The `stylize` command's input image, its longer side resized to `--size` (shared by every
    stylizer). The size is checked before anything is decoded or allocated.

    Args:
        args: Parsed `stylize` arguments (`image`, `size`).

    Returns:
        float32 `(H, W, 3)` pixels in `[0, 255]`.

    Raises:
        ImageError: The image cannot be read.
        ParameterError: `--size` outside [4, 4096] (`faststyle.video.MAX_RESIZE_SIDE`).
    """
    from ..faststyle.video import MIN_RESIZE_SIDE
    from ..images import load_image, resize_image
    from ..images.longer_side import longer_side_shape

    check_resize_side(args.size)
    image = load_image(args.image)
    if args.size is not None:
        image = resize_image(image, longer_side_shape(*image.shape[:2], args.size, min_side=MIN_RESIZE_SIDE))
    return image


def check_resize_side(size: Any) -> None:
    """Refuse a `--size` outside [4, 4096] (`faststyle.video.MAX_RESIZE_SIDE`) before any work.

    Args:
        size: The parsed `--size` (`None`: keep the input's size).

    Raises:
        ParameterError: Out of range.
    """
    from ..faststyle.video import MAX_RESIZE_SIDE, MIN_RESIZE_SIDE

    if size is not None and not MIN_RESIZE_SIDE <= size <= MAX_RESIZE_SIDE:
        raise ParameterError(
            f"--size must be between {MIN_RESIZE_SIDE} and {MAX_RESIZE_SIDE} pixels (the longer side of the "
            f"output). Received: size={size}"
        )


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


#: What stylizes: `(frames (N, H, W, 3) or (H, W, 3) in [0, 255], style weights) -> stylized uint8`.
Stylizer = Callable[[Any, Any], Any]


def stylizer(args: argparse.Namespace) -> Stylizer:
    """What stylizes, always a callable `(frames, style_weights) -> stylized`: a client of
    `--server`, the `--model` network (SavedModel, .keras or .tflite), or without either the
    bundled 3-style network (it prints which style it uses).

    Args:
        args: Parsed `stylize` arguments.

    Returns:
        The callable.

    Raises:
        ModelError: An unloadable `--model`.
        ParameterError: `--style-weights` that do not fit the network's styles.
    """
    if args.style:
        return arbitrary_stylizer(args)
    if args.server:
        client = style_client(args)
        return lambda frames, weights: client.stylize(frames, style_weights=weights, timeout=args.timeout)
    if not args.model:
        return _bundled_stylizer(args.style_weights)
    if args.model.endswith(".keras"):
        return _keras_stylizer(load_keras_network(args.model), args.style_weights)
    if args.model.endswith(".tflite"):
        from ..faststyle import load_tflite, stylize_tflite

        interpreter = load_tflite(args.model)
        return lambda frames, weights: stylize_tflite(interpreter, frames, weights)
    from ..faststyle import load_style_model, stylize_saved_model

    loaded = load_style_model(args.model)
    return lambda frames, weights: stylize_saved_model(loaded, frames, weights)


def arbitrary_stylizer(args: argparse.Namespace) -> Stylizer:
    """The arbitrary-style (AdaIN) stylizer of `--style` (with `--alpha`, `--preserve-color`,
    `--style-weights`, `--style-size`); the style images are loaded and checked before it returns.

    Args:
        args: Parsed `stylize` arguments with `style` set.

    Returns:
        The callable `(frames, ignored) -> stylized uint8`.

    Raises:
        ParameterError: `--style` with `--model` / `--server`, bad `--alpha` or `--style-weights`.
        ImageError: An unreadable or unusable style image.
    """
    import numpy as np

    from ..checks import check_fraction
    from ..faststyle.arbitrary import load_arbitrary_stylizer, prepare_style, stylize_arbitrary
    from ..faststyle.inference import check_style_weights
    from ..images import load_image

    if args.model or args.server:
        raise ParameterError("--style uses the arbitrary-style network; leave out --model and --server. "
                             f"Received: style={args.style}, model={args.model!r}, server={args.server!r}")
    check_fraction(args.alpha, "alpha")
    styles = [prepare_style(load_image(path), args.style_size, name=f"--style {path}") for path in args.style]
    if args.style_weights is not None:
        check_style_weights(args.style_weights, len(styles), 1)
    network = load_arbitrary_stylizer()
    print(f"arbitrary style: {', '.join(args.style)}, alpha {args.alpha:g}"
          f"{', colours preserved' if args.preserve_color else ''}")

    def run(frames: Any, _: Any) -> Any:
        out = stylize_arbitrary(frames, styles, alpha=args.alpha, preserve_color=args.preserve_color,
                                style_weights=args.style_weights, style_size=args.style_size, stylizer=network)
        return np.round(out).astype(np.uint8)

    return run


def _keras_stylizer(net: Any, style_weights: Any) -> Stylizer:
    from ..faststyle import stylize
    from ..faststyle.inference import check_style_weights
    from ..faststyle.network import transform_net_config

    check_style_weights(style_weights, transform_net_config(net)["n_styles"], 1)  # before a video starts
    return lambda frames, weights: stylize(net, frames, weights)


def _bundled_stylizer(style_weights: Any) -> Stylizer:
    """The bundled network (`kerasviz.faststyle.weights.DEMO_NETWORK`), saying which style it uses."""
    from ..faststyle.weights import DEMO_NETWORK, load_demo_network

    net, info = load_demo_network()
    names = [name.split(":")[-1] for name in info["styles"]]
    run = _keras_stylizer(net, style_weights)
    if style_weights is None:
        used = f"style {names[0]} (--style-weights mixes {', '.join(names)}; --model NET uses your own network)"
    else:
        used = "mix " + ", ".join(f"{name} {weight:g}" for name, weight in zip(names, style_weights))
    print(f"no --model or --server: using the bundled network {DEMO_NETWORK.name}, {used}")
    return run


def stylize_with_saved_model(args: argparse.Namespace) -> int:
    """Handler of `kerasviz stylize`: stylize an image (PNG out) or a video (video out).

    Args:
        args: Parsed `stylize` arguments.

    Returns:
        Exit code 0 (130 when a video is interrupted with Ctrl-C).

    Raises:
        ParameterError: Bad `--size`, style weights or video options.
    """
    check_resize_side(args.size)  # before a network is loaded
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
    write_png(args.out or "stylized.png", run(load_stylize_image(args), args.style_weights))
    return 0
