"""Attribution subcommands: `saliency`, `smoothgrad`, `integrated-gradients`, `guided-backprop`,
`gradcam`, `occlusion` and `grabcut`, each writing one PNG."""

from __future__ import annotations

import argparse
from typing import Any, Callable, Dict

import numpy as np

from .common import add_backbone_arguments, backbone_from_args, write_png


def _load(args: argparse.Namespace):
    from ..images import load_image

    backbone = backbone_from_args(args)
    return backbone, load_image(args.image, size=backbone.input_size)


def _overlay(image: np.ndarray, heatmap: np.ndarray, args: argparse.Namespace) -> np.ndarray:
    from ..images import overlay_heatmap

    return overlay_heatmap(image, heatmap, alpha=args.alpha, colormap=args.colormap)


def _attribution_map(args: argparse.Namespace, backbone: Any, image: np.ndarray) -> np.ndarray:
    """The (H, W) map in [0, 1] that `args.command` asks for."""
    from .. import attribution as a
    from ..images import normalize_map

    target = args.class_index
    if args.command == "saliency":
        return a.saliency(backbone, image, target)
    if args.command == "smoothgrad":
        return a.smoothgrad(backbone, image, target, samples=args.samples, noise=args.noise, seed=args.seed)
    if args.command == "integrated-gradients":
        result = a.integrated_gradients(backbone, image, target, steps=args.steps)
        print(f"completeness error {float(result.completeness_error):+.4f} of "
              f"f(x) - f(baseline) = {float(result.score_difference):.4f}")
        return normalize_map(np.abs(result.attributions).sum(axis=-1))
    if args.command == "gradcam":
        method = a.gradcam_plus_plus if args.plus_plus else a.gradcam
        return method(backbone, image, target, layer=args.layer)
    if args.command == "occlusion":
        drops = a.occlusion(backbone, image, target, patch=args.patch, stride=args.stride)
        return normalize_map(np.maximum(drops, 0.0))
    raise AssertionError(args.command)  # pragma: no cover - argparse limits the choices


def _heatmap(args: argparse.Namespace) -> int:
    backbone, image = _load(args)
    write_png(args.out, _overlay(image, _attribution_map(args, backbone, image), args))
    return 0


def _guided(args: argparse.Namespace) -> int:
    from ..attribution import gradient_image, guided_backprop

    backbone, image = _load(args)
    if args.layer is not None:
        grads = guided_backprop(backbone, image, layer=args.layer, channel=args.channel)
    else:
        grads = guided_backprop(backbone, image, args.class_index)
    write_png(args.out, gradient_image(grads))
    return 0


def _grabcut(args: argparse.Namespace) -> int:
    from ..attribution import grabcut_segmentation, gradcam

    backbone, image = _load(args)
    mask = grabcut_segmentation(image, gradcam(backbone, image, args.class_index))
    print(f"foreground: {mask.mean():.1%} of the image")
    write_png(args.out, image * (0.25 + 0.75 * mask[..., None]))
    return 0


def _common(parser: argparse.ArgumentParser, out: str, overlay: bool = True) -> None:
    parser.add_argument("image", help="image file")
    parser.add_argument(
        "--class", dest="class_index", type=int, default=None,
        help="class index to explain (default: the predicted class)",
    )
    parser.add_argument("--out", default=out, help=f"output PNG (default: {out})")
    if overlay:
        parser.add_argument("--alpha", type=float, default=0.5, help="heatmap opacity (0.5)")
        parser.add_argument("--colormap", default="jet", help="OpenCV colormap name (jet)")
    add_backbone_arguments(parser)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the attribution subcommands to the command line."""
    heatmaps: Dict[str, Callable[[argparse.ArgumentParser], None]] = {
        "saliency": lambda p: None,
        "smoothgrad": lambda p: (
            p.add_argument("--samples", type=int, default=50, help="noisy copies (50)"),
            p.add_argument("--noise", type=float, default=0.15, help="noise / value range (0.15)"),
            p.add_argument("--seed", type=int, default=None, help="noise seed"),
        ),
        "integrated-gradients": lambda p: p.add_argument(
            "--steps", type=int, default=64, help="path intervals (64)"
        ),
        "gradcam": lambda p: (
            p.add_argument("--layer", default=None, help="feature-map layer (backbone default)"),
            p.add_argument("--plus-plus", action="store_true", help="Grad-CAM++ weights"),
        ),
        "occlusion": lambda p: (
            p.add_argument("--patch", type=int, default=32, help="patch size in pixels (32)"),
            p.add_argument("--stride", type=int, default=16, help="patch step in pixels (16)"),
        ),
    }
    helps = {
        "saliency": "vanilla gradient saliency map",
        "smoothgrad": "SmoothGrad saliency map (noise-averaged gradients)",
        "integrated-gradients": "integrated gradients (|attribution| summed over colours)",
        "gradcam": "Grad-CAM (or Grad-CAM++) heatmap",
        "occlusion": "occlusion sensitivity (drop in class probability)",
    }
    for name, add_options in heatmaps.items():
        parser = subparsers.add_parser(name, help=helps[name])
        _common(parser, f"{name}.png")
        add_options(parser)
        parser.set_defaults(handler=_heatmap)

    parser = subparsers.add_parser("guided-backprop", help="guided backpropagation picture")
    _common(parser, "guided-backprop.png", overlay=False)
    parser.add_argument("--layer", default=None, help="explain a channel of this layer instead")
    parser.add_argument("--channel", type=int, default=None, help="channel of --layer")
    parser.set_defaults(handler=_guided)

    parser = subparsers.add_parser("grabcut", help="segment the class's object (Grad-CAM + GrabCut)")
    _common(parser, "grabcut.png", overlay=False)
    parser.set_defaults(handler=_grabcut)
