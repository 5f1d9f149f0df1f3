"""Core subcommands: `predict` and `layers`."""

from __future__ import annotations

import argparse

from .common import IMAGE_HELP, add_backbone_arguments, backbone_from_args, load_image_argument

#: Section of `kerasviz --help` (a `kerasviz.registry.FAMILIES` name).
FAMILY = "basics"


def _predict(args: argparse.Namespace) -> int:
    backbone = backbone_from_args(args)
    for name in args.images:
        image = load_image_argument(name, size=backbone.input_size)
        (top,) = backbone.decode(backbone.predict(image), top=args.top)
        print(name)
        for rank, (index, label, probability) in enumerate(top, 1):
            print(f"  {rank}. {label:<30s} {probability:7.2%}  (class {index})")
    return 0


def _layers(args: argparse.Namespace) -> int:
    from ..graph_nodes import layer_names

    backbone = backbone_from_args(args)
    for name in layer_names(backbone):
        print(name)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `predict` and `layers` to the command line."""
    parser = subparsers.add_parser("predict", help="print the top classes of images")
    parser.add_argument("images", nargs="+", help=f"one or more images: {IMAGE_HELP}")
    parser.add_argument("--top", type=int, default=5, help="classes per image (default 5)")
    add_backbone_arguments(parser)
    parser.set_defaults(handler=_predict)

    parser = subparsers.add_parser(
        "layers", help="list a backbone's layer names (for --layer options)"
    )
    add_backbone_arguments(parser)
    parser.set_defaults(handler=_layers)
