"""The `kerasviz` command line: one subcommand per technique, each writing PNGs.

Every module in this package that defines `register(subparsers)` adds its subcommands, so each
technique family owns its own CLI module. A subcommand's handler returns an exit code.
Each such module names its `FAMILY`; `kerasviz --help` lists the commands family by family
(`kerasviz.technique.FAMILIES`, the README's order). Building the parser imports no TensorFlow,
so `--help` is quick. Errors raised on purpose (`KerasvizError`) print one line in command-line
terms and exit with code 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from typing import Dict, List, Optional

from ..errors import KerasvizError
from ..progress import set_progress
from ..registry import TECHNIQUES
from ..technique import FAMILIES

__all__ = ["command_families", "command_order", "main", "build_parser"]


def command_order(parser: argparse.ArgumentParser) -> List[str]:
    """The subcommands in `kerasviz --help` order: family by family (`kerasviz.registry.FAMILIES`),
    in the order each family's module adds them (registry order for techniques).

    Args:
        parser: A parser from `build_parser`.

    Returns:
        Command names.
    """
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return [action.dest for action in subparsers._choices_actions]


def command_families(parser: argparse.ArgumentParser) -> Dict[str, List[str]]:
    """The subcommands by family (`kerasviz.technique.FAMILIES`), in `--help` order.

    Args:
        parser: A parser from `build_parser`.

    Returns:
        `{family: [command, ...]}` for the families that have commands.
    """
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    families: Dict[str, List[str]] = {}
    for name in command_order(parser):
        families.setdefault(subparsers.choices[name].get_default("family"), []).append(name)
    return families


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
    modules = [importlib.import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__)]
    modules = [module for module in modules if hasattr(module, "register")]
    rank = {family: index for index, family in enumerate(FAMILIES)}
    technique_families = {t.command: t.family for t in TECHNIQUES}
    for module in sorted(modules, key=lambda m: (rank[m.FAMILY], m.__name__)):
        known = set(subparsers.choices)
        module.register(subparsers)
        for name in set(subparsers.choices) - known:
            subparsers.choices[name].set_defaults(family=technique_families.get(name, module.FAMILY))
    family_of = {name: rank[sub.get_default("family")] for name, sub in subparsers.choices.items()}
    subparsers._choices_actions.sort(key=lambda action: family_of[action.dest])  # stable: module order within
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

    args = build_parser().parse_args(argv)  # `--help` exits here, before TensorFlow loads
    if args.no_progress:
        set_progress(False)
    from .startup import is_cli_process, quiet_tensorflow_startup

    if is_cli_process():
        quiet_tensorflow_startup()
        _quiet_python_loggers()
    try:
        return int(args.handler(args) or 0)
    except KerasvizError as error:
        print(cli_error_message(args.command, error, args), file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
