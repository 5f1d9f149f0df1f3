"""The `kerasviz` command line: one subcommand per technique, each writing PNGs.

Every module in this package that defines `register(subparsers)` adds its subcommands, so each
technique family owns its own CLI module. A subcommand's handler returns an exit code.
`kerasviz --help` lists the commands in the README's order (`COMMAND_ORDER`; commands not in it
come last, by name). Errors raised on purpose (`KerasvizError`) print one line in command-line
terms and exit with code 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from typing import List, Optional

from ..errors import KerasvizError
from ..progress import set_progress

__all__ = ["COMMAND_ORDER", "main", "build_parser"]

#: The order of `kerasviz --help`: the README's command table, family by family.
COMMAND_ORDER = (
    # basics
    "predict", "layers", "demo",
    # inspect
    "filters", "activations", "neighbors", "embed", "patches",
    # attribution
    "saliency", "smoothgrad", "integrated-gradients", "gradient-x-input", "gradcam", "occlusion",
    "guided-backprop", "grabcut",
    # CAM family and faithfulness
    "score-cam", "layer-cam", "eigen-cam", "hires-cam", "xgrad-cam", "ablation-cam",
    "compare-cams", "faithfulness",
    # synthesis
    "visualize-class", "visualize-feature", "fool", "dream", "invert", "texture",
    "style-transfer",
    # fast style and serving
    "train-style", "stylize", "export-style", "serve",
)


def _order_commands(subparsers: argparse._SubParsersAction) -> None:
    """Sort the help listing by `COMMAND_ORDER` (unknown commands last, by name)."""
    rank = {name: index for index, name in enumerate(COMMAND_ORDER)}
    subparsers._choices_actions.sort(
        key=lambda action: (rank.get(action.dest, len(rank)), action.dest)
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every family's subcommands registered.

    Returns:
        The top-level `argparse.ArgumentParser`.
    """
    parser = argparse.ArgumentParser(
        prog="kerasviz",
        description="Visualize and understand Keras CNNs; stylize images with fast style networks. "
        "Image arguments take a file, skimage:NAME (e.g. skimage:chelsea) or painting:NAME (starry_night, great_wave, udnie).",
        epilog="`kerasviz COMMAND --help` describes a command.",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    _order_commands(subparsers)
    return parser


def _quiet_python_loggers() -> None:
    """TensorFlow's Python-side notes (retracing, deprecations) are noise at a shell."""
    import logging

    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line.

    Args:
        argv: Arguments without the program name; defaults to `sys.argv[1:]`.

    Returns:
        The exit code: 0 on success, 2 for a `KerasvizError` (printed as one line, no traceback).
    """
    from .common import cli_error_message

    args = build_parser().parse_args(argv)
    if args.no_progress:
        set_progress(False)
    from .startup import is_cli_process

    if is_cli_process():
        _quiet_python_loggers()
    try:
        return int(args.handler(args) or 0)
    except KerasvizError as error:
        print(cli_error_message(args.command, error, args), file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
