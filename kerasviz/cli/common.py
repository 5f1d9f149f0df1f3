"""Arguments and helpers shared by the subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..backbones import BACKBONES, Backbone, load_backbone

__all__ = ["add_backbone_arguments", "backbone_from_args", "write_png"]


def add_backbone_arguments(parser: argparse.ArgumentParser, default: str = "efficientnet_lite0") -> None:
    """Add `--backbone NAME` and `--weights imagenet|none|PATH` to a subcommand.

    Args:
        parser: The subcommand's parser.
        default: Backbone used when none is named (Lite0's weights work offline).
    """
    parser.add_argument(
        "--backbone", default=default, help=f"one of {', '.join(BACKBONES)} (default: {default})"
    )
    parser.add_argument(
        "--weights", default="imagenet", help="'imagenet' (default), 'none', or a weights file"
    )


def backbone_from_args(args: argparse.Namespace) -> Backbone:
    """Load the backbone named by `--backbone` / `--weights`.

    Args:
        args: Parsed arguments from a parser given `add_backbone_arguments`.

    Returns:
        The loaded Backbone.
    """
    weights: Any = None if str(args.weights).lower() == "none" else args.weights
    return load_backbone(args.backbone, weights=weights)


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
