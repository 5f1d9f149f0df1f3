"""The `kerasviz` command line: one subcommand per technique, each writing PNGs.

Every module in this package that defines `register(subparsers)` adds its subcommands, so each
technique family owns its own CLI module. A subcommand's handler returns an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from typing import List, Optional

from ..errors import KerasvizError
from ..progress import set_progress

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every family's subcommands registered.

    Returns:
        The top-level `argparse.ArgumentParser`.
    """
    parser = argparse.ArgumentParser(
        prog="kerasviz",
        description="Visualize and understand Keras CNNs; stylize images with fast style networks.",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line.

    Args:
        argv: Arguments without the program name; defaults to `sys.argv[1:]`.

    Returns:
        The exit code: 0 on success, 2 for a `KerasvizError` (printed as one line, no traceback).
    """
    args = build_parser().parse_args(argv)
    if args.no_progress:
        set_progress(False)
    try:
        return int(args.handler(args) or 0)
    except KerasvizError as error:
        print(f"kerasviz {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
