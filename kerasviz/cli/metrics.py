"""`kerasviz evaluate`: score attribution methods with Quantus-style metrics, write the tables and
the chart (`kerasviz.metrics.evaluate_to_folder` does the work)."""

from __future__ import annotations

import argparse

from .common import IMAGE_HELP, add_backbone_arguments, backbone_from_args

__all__ = ["FAMILY", "register"]

#: Section of `kerasviz --help` (a `kerasviz.technique.FAMILIES` name).
FAMILY = "metrics"


def _evaluate(args: argparse.Namespace) -> int:
    from ..metrics.evaluate import evaluate_to_folder

    chosen = {"metrics": args.metrics} if args.metrics else {}
    written = evaluate_to_folder(
        args.images, args.out, model=backbone_from_args(args), methods=args.methods, targets=args.class_index,
        seed=args.seed, quick=not args.full, **chosen,
    )
    for kind, path in written.items():
        print(f"wrote {path} ({kind})")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `evaluate` to the command line.

    Args:
        subparsers: The `kerasviz` parser's subcommands.
    """
    parser = subparsers.add_parser("evaluate", help="score attribution methods with faithfulness, robustness, ... metrics")
    parser.add_argument("images", nargs="+", help=f"images or folders; each {IMAGE_HELP}")
    parser.add_argument("--methods", nargs="+", default=["gradcam", "saliency"], help="registered techniques to compare")
    parser.add_argument("--metrics", nargs="+", default=None,
                        help="metric names of kerasviz.metrics (default: 12 metrics, two per family)")
    parser.add_argument("--class", dest="class_index", type=int, default=None, help="class (default: each image's top class)")
    parser.add_argument("--out", "-o", default="evaluation", help="folder for scores.csv, summary.csv, chart.png (default: evaluation)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random perturbation (default: 0)")
    parser.add_argument("--full", action="store_true", help="the metrics' full settings (default: quick settings)")
    add_backbone_arguments(parser)
    parser.set_defaults(handler=_evaluate)
