"""Arguments and helpers shared by the subcommands: the backbone options, the one image-argument
loader (`PATH` or `skimage:NAME`), the one output option (`--out`), PNG writing, and the
wording of errors for people at a shell (CLI commands and flags, not Python calls)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from ..errors import KerasvizError, LayerNotFoundError, WeightsUnavailableError

__all__ = [
    "BACKBONE_HELP",
    "IMAGE_HELP",
    "add_backbone_arguments",
    "add_out_argument",
    "backbone_from_args",
    "cli_error_message",
    "load_image_argument",
    "write_png",
]

#: Help text of `--backbone` (the full list is in the error for an unknown name; naming it here
#: would import TensorFlow for `--help`).
BACKBONE_HELP = (
    "a Keras Applications name (vgg16, resnet50, mobilenet_v2, efficientnet_b0, convnext_tiny, ...), "
    "efficientnet_lite0 or vgg16_hed"
)

#: Help text of an image argument; every command reads images with `load_image_argument`.
IMAGE_HELP = "image file, skimage:NAME for a bundled picture (e.g. skimage:chelsea), or painting:NAME (e.g. painting:starry_night)"


def add_backbone_arguments(parser: argparse.ArgumentParser, default: str = "efficientnet_lite0") -> None:
    """Add `--backbone NAME` and `--weights imagenet|none|PATH` to a subcommand.

    Args:
        parser: The subcommand's parser.
        default: Backbone used when none is named (Lite0's weights work offline).
    """
    parser.add_argument(
        "--backbone", default=default,
        help=f"{BACKBONE_HELP} (default: {default})",
    )
    parser.add_argument(
        "--weights", default="imagenet", help="'imagenet' (default), 'none', or a weights file"
    )


def backbone_from_args(args: argparse.Namespace) -> Any:
    """Load the backbone named by `--backbone` / `--weights`.

    Args:
        args: Parsed arguments from a parser given `add_backbone_arguments`.

    Returns:
        The loaded `Backbone`.
    """
    from ..backbones import load_backbone

    weights: Any = None if str(args.weights).lower() == "none" else args.weights
    return load_backbone(args.backbone, weights=weights)


def add_out_argument(
    parser: argparse.ArgumentParser,
    default: str,
    *,
    help: Optional[str] = None,
    aliases: Sequence[str] = (),
) -> None:
    """Add the shared output option `--out PATH` (stored as `args.out`).

    Args:
        parser: The subcommand's parser.
        default: Default output path, e.g. `"gradcam.png"`.
        help: Help text; default `"output PNG (default: DEFAULT)"`.
        aliases: Extra spellings kept for compatibility, e.g. `"--output"` where a command had
            it (`-o` is always accepted).
    """
    parser.add_argument(
        *dict.fromkeys(("-o", *aliases)),
        "--out",
        dest="out",
        default=default,
        metavar="PATH",
        help=help or f"output PNG (default: {default})",
    )


def load_image_argument(name: str, size: Any = None) -> np.ndarray:
    """Read an image argument: a file path, `skimage:NAME` (a bundled picture) or `painting:NAME`.

    Args:
        name: The argument as typed, e.g. `"cat.jpg"` or `"skimage:chelsea"`.
        size: `None`, an int `s` (for `s x s`) or `(height, width)`, as `load_image` takes.

    Returns:
        float32 `(H, W, 3)` pixels in `[0, 255]`.

    Raises:
        ImageError: A missing or unreadable file, or an unknown `skimage:` / `painting:` name.
    """
    from ..images import load_image

    return load_image(name, size)


def write_png(path: str | Path, image: Any) -> Path:
    """Save an image and print where it went.

    Args:
        path: Output file (`.png` or `.jpg`); parent folders are created.
        image: `(H, W, 3)` uint8 or float `[0, 255]`, or `(H, W)`.

    Returns:
        The written path.
    """
    from ..images import save_image

    written = save_image(path, image)
    print(f"wrote {written}")
    return written


def _backbone_flags(args: argparse.Namespace) -> str:
    """` --backbone B --weights W` as the user gave them (empty for the defaults)."""
    flags = ""
    if getattr(args, "backbone", "efficientnet_lite0") != "efficientnet_lite0":
        flags += f" --backbone {args.backbone}"
    if str(getattr(args, "weights", "imagenet")).lower() != "imagenet":
        flags += f" --weights {args.weights}"
    return flags


# Python spellings in library messages, and what a person at a shell types instead.
_CLI_WORDING = (
    (re.compile(r"`kerasviz\.layer_names\(model\)`"), "`kerasviz layers{flags}`"),
    (re.compile(r"\bweights=None\b"), "--weights none"),
    (re.compile(r"a path to a `\.weights\.h5` file"), "--weights FILE.weights.h5"),
    (re.compile(r"\ba local weights file\b"), "--weights FILE"),
    (re.compile(r"`kerasviz\.load_image`"), "an image file or skimage:NAME"),
)


def cli_error_message(command: str, error: KerasvizError, args: argparse.Namespace) -> str:
    """One line for a `KerasvizError` met by a subcommand, in command-line terms.

    Python spellings in the message become flags and commands (`kerasviz layers`, `--weights
    none`), and a hint names the command that helps.

    Args:
        command: The subcommand, e.g. `"gradcam"`.
        error: The error raised.
        args: The parsed arguments (for the `--backbone` / `--weights` the user chose).

    Returns:
        `"kerasviz COMMAND: error: ..."` without line breaks.
    """
    flags = _backbone_flags(args)
    text = " ".join(str(error).split())
    for pattern, replacement in _CLI_WORDING:
        text = pattern.sub(replacement.replace("{flags}", flags), text)
    if isinstance(error, LayerNotFoundError) and "kerasviz layers" not in text:
        text += f" (run `kerasviz layers{flags}` to list the layer names)"
    elif isinstance(error, WeightsUnavailableError):
        text += " (or run with `--backbone efficientnet_lite0`, whose weights work offline)"
    return f"kerasviz {command}: error: {text}"
