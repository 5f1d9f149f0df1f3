"""Fast-style subcommands: `train-style` (train on one device or many workers, checkpoint,
resume, save / export a transform network), `export-style` (SavedModel or LiteRT) and `stylize`
(an image or a video, through a local model or TF Serving / `kerasviz serve` with `--server`).

Images are named by a file path or `skimage:NAME` (a `skimage.data` picture, e.g.
`skimage:chelsea`, `skimage:immunohistochemistry`), so a network can be trained from bundled
pictures alone.
"""

from __future__ import annotations

import argparse
import os
import ssl
import sys
from pathlib import Path
from typing import Any, List

import numpy as np

from ..errors import ImageError, ParameterError
from .common import add_backbone_arguments, backbone_from_args, write_png

__all__ = ["register", "load_named_image", "add_stylize_arguments", "load_stylize_image", "stylize_with_saved_model"]

_SKIMAGE = "skimage:"
#: `stylize` treats inputs with these suffixes as videos.
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv", ".avi", ".webm", ".mpg", ".mpeg")
_INTERRUPTED = 130  # the shell's code for a process stopped by Ctrl-C (128 + SIGINT)


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


def _content(names: List[str], image_size: int, augment: bool = False) -> Any:
    """A folder path as is; files / skimage pictures as a batch of centred squares."""
    from ..images import resize_image

    if len(names) == 1 and Path(names[0]).is_dir():
        return names[0]
    side = int(round((2.0 if augment else 1.25) * image_size))  # room for random crops (and scales)
    batch = []
    for name in names:
        image = load_named_image(name)
        height, width = image.shape[:2]
        scale = side / min(height, width)
        image = resize_image(image, (max(side, round(height * scale)), max(side, round(width * scale))))
        top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
        batch.append(image[top : top + side, left : left + side])
    return np.stack(batch)


def _train(args: argparse.Namespace) -> int:
    """Handler of `train-style`: Ctrl-C anywhere ends with a one-line message and exit code 130."""
    try:
        return _run_training(args)
    except KeyboardInterrupt:
        kept = (f"the last checkpoint in {args.checkpoint_dir} is kept: run the same command again to resume"
                if args.checkpoint_dir else "no --checkpoint-dir was given, so nothing was kept")
        print(f"\nkerasviz train-style: interrupted; {kept}", file=sys.stderr)
        return _INTERRUPTED


def _run_training(args: argparse.Namespace) -> int:
    from ..faststyle import make_strategy

    strategy = make_strategy(args.strategy)  # first: multi-worker collectives start before any other TF work
    from ..faststyle import export_style_model, train_style_network
    from ..faststyle.distribute import is_chief

    backbone = backbone_from_args(args)
    styles = [load_named_image(name) for name in args.style]
    result = train_style_network(
        _content(args.content, args.image_size, args.augment),
        styles,
        backbone=backbone,
        image_size=args.image_size,
        batch_size=args.batch_size,
        steps=args.steps,
        width=args.width,
        content_layers=args.content_layers,
        style_layers=args.style_layers,
        content_weight=args.content_weight,
        style_weight=args.style_weight[0] if len(args.style_weight) == 1 else args.style_weight,
        tv_weight=args.tv_weight,
        learning_rate=args.learning_rate,
        checkpoint_dir=args.checkpoint_dir,
        checkpoint_every=args.checkpoint_every,
        strategy=strategy,
        seed=args.seed,
        augment=args.augment,
    )
    last = result.history[-1] if result.history else {}
    print(f"trained {result.step} steps (from {result.start_step}); last losses: "
          + ", ".join(f"{k}={v:.4g}" for k, v in last.items() if k != "step"))
    if not is_chief(strategy):  # the chief writes the results; the other workers only trained
        return 0
    if args.save:
        Path(args.save).parent.mkdir(parents=True, exist_ok=True)
        result.net.save(args.save)
        print(f"wrote {args.save}")
    if args.export:
        print(f"exported {export_style_model(result.net, args.export)}")
    return 0


def _load_keras_network(path: str) -> Any:
    import keras

    from ..errors import ModelError
    from ..faststyle import network  # noqa: F401  (registers the custom layers)

    if not Path(path).is_file():
        raise ModelError(f"No such network file; save one with `train-style --save NET.keras`. Received: network={path!r}")
    try:
        return keras.models.load_model(path)
    except (ValueError, OSError, TypeError) as error:
        raise ModelError(f"Cannot load the network ({error}). Received: network={path!r}") from None


def _export(args: argparse.Namespace) -> int:
    from ..faststyle import export_style_model, export_style_tflite

    net = _load_keras_network(args.network)
    if args.format == "tflite":
        out = args.out if args.out.endswith(".tflite") else str(Path(args.out) / "style.tflite")
        size = None if not args.image_size else args.image_size[0] if len(args.image_size) == 1 else tuple(args.image_size)
        print(f"wrote {export_style_tflite(net, out, quantization=args.quantization, image_size=size)}")
    else:
        if args.quantization or args.image_size:
            raise ParameterError(
                "--quantization and --image-size apply to --format tflite only. "
                f"Received: quantization={args.quantization!r}, image_size={args.image_size!r}"
            )
        print(f"exported {export_style_model(net, args.out)}")
    return 0


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


def _client(args: argparse.Namespace) -> Any:
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


def _stylizer(args: argparse.Namespace) -> Any:
    """What stylizes: a client call (`--server`), a Keras network, or `(frames, weights) -> frames`."""
    if args.server:
        client = _client(args)
        return lambda frames, weights: client.stylize(frames, style_weights=weights, timeout=args.timeout)
    if not args.model:
        raise ParameterError(
            "Give --model (a SavedModel folder, NET.keras or NET.tflite, run locally) or --server "
            "HOST:PORT (TF Serving / kerasviz serve). Received: model=None, server=None"
        )
    if args.model.endswith(".keras"):
        return _load_keras_network(args.model)
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

    run = _stylizer(args)
    if Path(args.image).suffix.lower() in VIDEO_SUFFIXES:
        from ..faststyle import stylize_video

        out = args.out or "stylized.mp4"
        try:
            result = stylize_video(run, args.image, out, args.style_weights, stable=not args.no_stable,
                                   blend=args.blend, batch_size=args.batch_size, size=args.size)
        except KeyboardInterrupt:
            print(f"\nkerasviz stylize: interrupted; {out} is incomplete", file=sys.stderr)
            return _INTERRUPTED
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


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `train-style`, `export-style` and `stylize` to the command line."""
    from ..faststyle.distribute import STRATEGIES
    from ..faststyle.litert import QUANTIZATIONS

    parser = subparsers.add_parser("train-style", help="train a fast style network (resumable; one device or many workers)")
    parser.add_argument("--content", nargs="+", required=True,
                        help="a folder of images, or image files / skimage:NAME pictures")
    parser.add_argument("--style", nargs="+", required=True, help="style images (files or skimage:NAME); several train one multi-style net")
    parser.add_argument("--image-size", type=int, default=256, help="training crop size (default 256)")
    parser.add_argument("--batch-size", type=int, default=4, help="global batch size (split over replicas)")
    parser.add_argument("--steps", type=int, default=2000, help="total steps (a resumed run continues up to this)")
    parser.add_argument("--width", type=int, default=32, help="transform-net width (16 or 32)")
    parser.add_argument("--content-layers", nargs="+", default=None, help="default: the backbone's content_layers")
    parser.add_argument("--style-layers", nargs="+", default=None, help="default: the backbone's style_layers")
    parser.add_argument("--content-weight", type=float, default=1.0)
    parser.add_argument("--style-weight", type=float, nargs="+", default=[10.0], help="one, or one per style")
    parser.add_argument("--tv-weight", type=float, default=1.0)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--checkpoint-dir", default=None, help="checkpoints; resumes from the newest")
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--strategy", choices=STRATEGIES, default="default",
                        help="default (one device), mirrored (all local GPUs) or multi_worker (the cluster in TF_CONFIG; docs/multiworker.md)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--augment", action="store_true",
                        help="random scales (1-2x) and left-right flips of the content crops")
    parser.add_argument("--save", default=None, help="write the trained network as a .keras file")
    parser.add_argument("--export", default=None, help="export a SavedModel version under this base path")
    add_backbone_arguments(parser)
    parser.set_defaults(handler=_train)

    parser = subparsers.add_parser("export-style", help="export a saved network (.keras) as a SavedModel version or a LiteRT file")
    parser.add_argument("network", help="a network saved by `train-style --save NET.keras`")
    parser.add_argument("--format", choices=("savedmodel", "tflite"), default="savedmodel")
    parser.add_argument("--out", required=True, help="SavedModel base path (a new numeric version goes under it) or FILE.tflite")
    parser.add_argument("--quantization", choices=[q for q in QUANTIZATIONS if q], default=None,
                        help="tflite only: float16 or dynamic (int8 weights); default float32")
    parser.add_argument("--image-size", type=int, nargs="+", default=None,
                        help="tflite only: fixed SIZE or HEIGHT WIDTH (default: any size)")
    parser.set_defaults(handler=_export)

    parser = subparsers.add_parser("stylize", help="stylize an image or a video with a fast style network (local or served)")
    add_stylize_arguments(parser)
    parser.set_defaults(handler=stylize_with_saved_model)
