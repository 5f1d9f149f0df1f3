"""`compare-cams` (every CAM side by side) and `faithfulness`, the deletion / insertion table of
several registered attribution methods on one image."""

from __future__ import annotations

import argparse
from typing import Callable, Tuple

import numpy as np

from ..registry import get_technique, technique_names
from .attribution import add_image_arguments
from .common import backbone_from_args, write_png

__all__ = ["FAMILY", "faithfulness_methods", "register"]

FAMILY = "cams"


def faithfulness_methods() -> Tuple[str, ...]:
    """Methods `faithfulness` can measure: the registry's, by command name, and `random`."""
    return tuple(get_technique(n).command for n in technique_names(faithfulness=True)) + ("random",)


def _load(args: argparse.Namespace):
    from ..images import load_image

    backbone = backbone_from_args(args)
    return backbone, load_image(args.image, size=backbone.input_size)


def _method(name: str, args: argparse.Namespace) -> Callable[..., np.ndarray]:
    """`fn(model, images, target) -> maps (N, H, W)` for a command-line method name."""
    from ..attribution.technique_maps import technique_map

    if name == "random":
        rng = np.random.default_rng(args.seed)
        return lambda model, images, target: rng.uniform(size=np.shape(images)[:3])
    technique = get_technique(name)
    given = {"layer": args.layer, "channels": args.channels, "steps": args.ig_steps}
    options = {o.name: given[o.name] for o in technique.options if given.get(o.name) is not None}
    if technique.name == "layer_cam" and "layer" in options:
        options["layer"] = [options["layer"]]
    return lambda model, images, target: technique_map(technique.name, model, images, target, **options)


def _compare(args: argparse.Namespace) -> int:
    from ..demo.cams import compare_cams_picture

    backbone, image = _load(args)
    picture, _ = compare_cams_picture(backbone, image, args.class_index, channels=args.channels)
    write_png(args.out, picture)
    return 0


def _faithfulness(args: argparse.Namespace) -> int:
    from ..attribution import deletion_insertion
    from ..errors import ParameterError

    choices = faithfulness_methods()
    unknown = [m for m in args.methods if m not in choices]
    if unknown:
        raise ParameterError(
            f"Unknown method {unknown[0]!r}; choose from {', '.join(choices)}. "
            f"Received: --methods {' '.join(args.methods)}"
        )
    backbone, image = _load(args)
    target = args.class_index
    if target is None:
        target = int(backbone.logits(image).argmax())
    print(f"class {target}, {args.steps} steps, {args.patch} px regions, score {args.score}")
    print(f"{'method':<22}{'deletion AUC':>14}{'insertion AUC':>15}")
    for name in args.methods:
        result = deletion_insertion(
            backbone, image, _method(name, args), target, steps=args.steps, patch=args.patch,
            score=args.score,
        )
        print(f"{name:<22}{float(result.deletion_auc):>14.4f}{float(result.insertion_auc):>15.4f}")
    print("deletion: lower is better; insertion: higher is better")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `compare-cams` and `faithfulness` to the command line (each CAM's own command comes
    from the registry, in `cli/attribution.py`)."""
    parser = subparsers.add_parser("compare-cams", help="every CAM method side by side, one PNG")
    add_image_arguments(parser, "compare-cams")
    parser.add_argument("--channels", type=int, default=None,
                        help="Score-CAM channels (default: all; e.g. 256 for speed)")
    parser.set_defaults(handler=_compare)

    parser = subparsers.add_parser(
        "faithfulness", help="deletion / insertion AUC table of several attribution methods"
    )
    add_image_arguments(parser, "faithfulness", out=False)
    parser.add_argument("--methods", nargs="+", default=["gradcam", "saliency", "random"],
                        help=f"methods to compare: {', '.join(faithfulness_methods())}")
    parser.add_argument("--steps", type=int, default=32, help="points per curve (32)")
    parser.add_argument("--patch", type=int, default=1, help="region side in pixels (1)")
    parser.add_argument("--score", default="probability", choices=["probability", "logit"],
                        help="what the curves score: the class probability or its logit (default: probability)")
    parser.add_argument("--layer", default=None, help="layer for the CAM methods")
    parser.add_argument("--channels", type=int, default=None, help="Score-/Ablation-CAM channels")
    parser.add_argument("--ig-steps", type=int, default=32, help="integrated-gradients steps (32)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random map (0)")
    parser.set_defaults(handler=_faithfulness)
