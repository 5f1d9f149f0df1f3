"""CAM-family subcommands (`score-cam`, `layer-cam`, `eigen-cam`, `hires-cam`, `xgrad-cam`,
`ablation-cam`, `compare-cams`) and `faithfulness`, the deletion / insertion table of several
attribution methods on one image."""

from __future__ import annotations

import argparse
from typing import Any, Callable, Dict

import numpy as np

from .common import add_backbone_arguments, backbone_from_args, write_png

__all__ = ["CAM_COMMANDS", "FAITHFULNESS_METHODS", "register"]

#: Subcommand -> attribution function name.
CAM_COMMANDS = {
    "score-cam": "score_cam",
    "layer-cam": "layer_cam",
    "eigen-cam": "eigen_cam",
    "hires-cam": "hires_cam",
    "xgrad-cam": "xgrad_cam",
    "ablation-cam": "ablation_cam",
}

#: Methods `faithfulness` can measure, by the name given on the command line.
FAITHFULNESS_METHODS = (
    "gradcam", "gradcam-plus-plus", "score-cam", "layer-cam", "eigen-cam", "hires-cam",
    "xgrad-cam", "ablation-cam", "saliency", "integrated-gradients", "random",
)


def _load(args: argparse.Namespace):
    from ..images import load_image

    backbone = backbone_from_args(args)
    return backbone, load_image(args.image, size=backbone.input_size)


def _method(name: str, args: argparse.Namespace) -> Callable[..., np.ndarray]:
    """`fn(model, images, target) -> maps (N, H, W)` for a command-line method name."""
    from .. import attribution as a

    if name == "random":
        rng = np.random.default_rng(args.seed)
        return lambda model, images, target: rng.uniform(size=np.shape(images)[:3])
    if name == "integrated-gradients":
        return lambda model, images, target: np.abs(
            a.integrated_gradients(model, images, target, steps=args.ig_steps).attributions
        ).sum(axis=-1)
    function = getattr(a, name.replace("-", "_"))
    options: Dict[str, Any] = {}
    if name in ("score-cam", "ablation-cam") and getattr(args, "channels", None) is not None:
        options["channels"] = args.channels
    if getattr(args, "layer", None) and name not in ("saliency",):
        options["layer"] = args.layer
    return lambda model, images, target: function(model, images, target, **options)


def _cam(args: argparse.Namespace) -> int:
    from ..images import overlay_heatmap

    backbone, image = _load(args)
    heatmap = _method(args.command, args)(backbone, image[None], args.class_index)[0]
    write_png(args.out, overlay_heatmap(image, heatmap, alpha=args.alpha, colormap=args.colormap))
    return 0


def _compare(args: argparse.Namespace) -> int:
    from ..demo.cams import compare_cams_picture

    backbone, image = _load(args)
    picture, _ = compare_cams_picture(backbone, image, args.class_index, channels=args.channels)
    write_png(args.out, picture)
    return 0


def _faithfulness(args: argparse.Namespace) -> int:
    from ..attribution import deletion_insertion
    from ..errors import ParameterError

    unknown = [m for m in args.methods if m not in FAITHFULNESS_METHODS]
    if unknown:
        raise ParameterError(
            f"Unknown method {unknown[0]!r}; choose from {', '.join(FAITHFULNESS_METHODS)}. "
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


def _image_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", help="image file")
    parser.add_argument(
        "--class", dest="class_index", type=int, default=None,
        help="class index to explain (default: the predicted class)",
    )
    add_backbone_arguments(parser)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the CAM subcommands and `faithfulness` to the command line."""
    helps = {
        "score-cam": "Score-CAM heatmap (channels weighted by masked-image scores)",
        "layer-cam": "LayerCAM heatmap (--layer may be given several times to fuse layers)",
        "eigen-cam": "Eigen-CAM heatmap (first principal component; class-agnostic)",
        "hires-cam": "HiResCAM heatmap (gradient x activation, no averaging)",
        "xgrad-cam": "XGrad-CAM heatmap",
        "ablation-cam": "Ablation-CAM heatmap (score drop when each channel is zeroed)",
    }
    for command in CAM_COMMANDS:
        parser = subparsers.add_parser(command, help=helps[command])
        _image_arguments(parser)
        parser.add_argument("--out", default=f"{command}.png", help=f"output PNG ({command}.png)")
        if command == "layer-cam":
            parser.add_argument("--layer", action="append", default=None,
                                help="feature-map layer; repeat to fuse several")
        else:
            parser.add_argument("--layer", default=None, help="feature-map layer (backbone default)")
        if command in ("score-cam", "ablation-cam"):
            parser.add_argument("--channels", type=int, default=None,
                                help="use only this many channels (default: all)")
        parser.add_argument("--alpha", type=float, default=0.5, help="heatmap opacity (0.5)")
        parser.add_argument("--colormap", default="jet", help="OpenCV colormap name (jet)")
        parser.set_defaults(handler=_cam)

    parser = subparsers.add_parser("compare-cams", help="every CAM method side by side, one PNG")
    _image_arguments(parser)
    parser.add_argument("--out", default="compare-cams.png", help="output PNG (compare-cams.png)")
    parser.add_argument("--channels", type=int, default=None,
                        help="Score-CAM channels (default: all; e.g. 256 for speed)")
    parser.set_defaults(handler=_compare)

    parser = subparsers.add_parser(
        "faithfulness", help="deletion / insertion AUC table of several attribution methods"
    )
    _image_arguments(parser)
    parser.add_argument("--methods", nargs="+", default=["gradcam", "saliency", "random"],
                        help=f"methods to compare: {', '.join(FAITHFULNESS_METHODS)}")
    parser.add_argument("--steps", type=int, default=32, help="points per curve (32)")
    parser.add_argument("--patch", type=int, default=1, help="region side in pixels (1)")
    parser.add_argument("--score", default="probability", choices=["probability", "logit"], help="what the curves score: the class probability or its logit (default: probability)")
    parser.add_argument("--layer", default=None, help="layer for the CAM methods")
    parser.add_argument("--channels", type=int, default=None, help="Score-/Ablation-CAM channels")
    parser.add_argument("--ig-steps", type=int, default=32, help="integrated-gradients steps (32)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random map (0)")
    parser.set_defaults(handler=_faithfulness)
