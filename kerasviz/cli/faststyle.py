"""Fast-style subcommands: `train-style` (train, checkpoint, resume, save / export a transform
network) and `stylize` (run a local SavedModel; the serving family adds `--server`).

Images are named by a file path or `skimage:NAME` (a `skimage.data` picture, e.g.
`skimage:chelsea`, `skimage:immunohistochemistry`), so a network can be trained from bundled
pictures alone.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, List

import numpy as np

from ..errors import ImageError, ParameterError
from .common import add_backbone_arguments, backbone_from_args, write_png

__all__ = ["register", "load_named_image", "add_stylize_arguments", "stylize_with_saved_model"]

_SKIMAGE = "skimage:"


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


def _content(names: List[str], image_size: int) -> Any:
    """A folder path as is; files / skimage pictures as a batch of centred squares."""
    from ..images import resize_image

    if len(names) == 1 and Path(names[0]).is_dir():
        return names[0]
    side = int(round(1.25 * image_size))  # room for random crops
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
    from ..faststyle import export_style_model, train_style_network

    backbone = backbone_from_args(args)
    styles = [load_named_image(name) for name in args.style]
    result = train_style_network(
        _content(args.content, args.image_size),
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
        seed=args.seed,
    )
    last = result.history[-1] if result.history else {}
    print(f"trained {result.step} steps (from {result.start_step}); last losses: "
          + ", ".join(f"{k}={v:.4g}" for k, v in last.items() if k != "step"))
    if args.save:
        Path(args.save).parent.mkdir(parents=True, exist_ok=True)
        result.net.save(args.save)
        print(f"wrote {args.save}")
    if args.export:
        print(f"exported {export_style_model(result.net, args.export)}")
    return 0


def add_stylize_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `kerasviz stylize`; the serving family extends this parser (`--server`).

    Args:
        parser: The `stylize` subparser.
    """
    parser.add_argument("image", help="image file or skimage:NAME")
    parser.add_argument("--model", help="exported SavedModel: a version folder or a base path (newest version)")
    parser.add_argument("--style-weights", type=float, nargs="+", default=None,
                        help="convex mix of the styles of a multi-style model, e.g. 0.5 0.5 0")
    parser.add_argument("--size", type=int, default=None, help="resize the image's longer side to this first")
    parser.add_argument("--out", default="stylized.png", help="output PNG (default stylized.png)")


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


def stylize_with_saved_model(args: argparse.Namespace) -> int:
    """Handler of `kerasviz stylize --model DIR`: stylize one image locally and write a PNG.

    Args:
        args: Parsed `stylize` arguments.

    Returns:
        Exit code 0.

    Raises:
        ParameterError: `--model` is missing.
    """
    from ..faststyle import stylize_saved_model

    if not args.model:
        raise ParameterError("Give --model DIR (an exported style model). Received: model=None")
    stylized = stylize_saved_model(args.model, load_stylize_image(args), args.style_weights)
    write_png(args.out, stylized)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `train-style` and `stylize` to the command line."""
    parser = subparsers.add_parser("train-style", help="train a fast style network (resumable)")
    parser.add_argument("--content", nargs="+", required=True,
                        help="a folder of images, or image files / skimage:NAME pictures")
    parser.add_argument("--style", nargs="+", required=True, help="style images (files or skimage:NAME); several train one multi-style net")
    parser.add_argument("--image-size", type=int, default=256, help="training crop size (default 256)")
    parser.add_argument("--batch-size", type=int, default=4)
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
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", default=None, help="write the trained network as a .keras file")
    parser.add_argument("--export", default=None, help="export a SavedModel version under this base path")
    add_backbone_arguments(parser)
    parser.set_defaults(handler=_train)

    parser = subparsers.add_parser("stylize", help="stylize an image with an exported fast style network")
    add_stylize_arguments(parser)
    parser.set_defaults(handler=stylize_with_saved_model)
