"""`kerasviz demo`: the offline gallery of every technique."""

from __future__ import annotations

import argparse
import sys

from .common import add_out_argument

#: Section of `kerasviz --help` (a `kerasviz.registry.FAMILIES` name).
FAMILY = "basics"


def _demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    outcomes = run_demo(args.out, quick=args.quick, only=args.only or None)
    failed = [o for o in outcomes if o.error]
    for o in outcomes:
        status = "FAILED" if o.error else f"{o.seconds:5.1f} s"
        print(f"{o.panel.name:<28s} {status}")
    for o in failed:
        print(f"\n--- {o.panel.name} failed ---\n{o.error}", file=sys.stderr)
    print(f"gallery: {args.out}/index.html ({len(outcomes) - len(failed)}/{len(outcomes)} panels)")
    return 1 if failed else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `demo` to the command line."""
    parser = subparsers.add_parser("demo", help="render the offline gallery of every technique")
    add_out_argument(parser, "gallery", help="output folder (default: gallery)")
    parser.add_argument("--quick", action="store_true", help="small sizes, few steps (< 1 min)")
    parser.add_argument("--only", nargs="*", help="render only these panel names")
    parser.set_defaults(handler=_demo)
