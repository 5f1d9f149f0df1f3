"""Attribution subcommands, one handler each, each writing one PNG.

A new technique's subcommand is one `Subcommand` entry in `SUBCOMMANDS` (its handler and its
options live next to it).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, Callable, Tuple

import numpy as np

from .common import add_backbone_arguments, backbone_from_args, write_png

__all__ = ["SUBCOMMANDS", "Subcommand", "register"]


def _load(args: argparse.Namespace) -> Tuple[Any, np.ndarray]:
    from ..images import load_image

    backbone = backbone_from_args(args)
    return backbone, load_image(args.image, size=backbone.input_size)


def _write_overlay(args: argparse.Namespace, heatmap: np.ndarray) -> int:
    """Write the (h, w) map in [0, 1] over the input image at the image's own resolution and
    aspect (the map was computed on a backbone-sized copy), as the PNG `--out` names."""
    from ..images import load_image, overlay_heatmap

    original = load_image(args.image)
    write_png(args.out, overlay_heatmap(original, heatmap, alpha=args.alpha, colormap=args.colormap))
    return 0


def _summed_magnitude(attributions: np.ndarray) -> np.ndarray:
    """(H, W, 3) signed attributions -> (H, W) map in [0, 1]: |.| summed over colours."""
    from ..images import normalize_map

    return normalize_map(np.abs(attributions).sum(axis=-1))


def _saliency(args: argparse.Namespace) -> int:
    from ..attribution import saliency

    backbone, image = _load(args)
    return _write_overlay(args, saliency(backbone, image, args.class_index))


def _smoothgrad(args: argparse.Namespace) -> int:
    from ..attribution import smoothgrad

    backbone, image = _load(args)
    heat = smoothgrad(
        backbone, image, args.class_index, samples=args.samples, noise=args.noise, seed=args.seed
    )
    return _write_overlay(args, heat)


def _integrated_gradients(args: argparse.Namespace) -> int:
    from ..attribution import integrated_gradients

    backbone, image = _load(args)
    result = integrated_gradients(backbone, image, args.class_index, steps=args.steps)
    print(f"completeness error {float(result.completeness_error):+.4f} of "
          f"f(x) - f(baseline) = {float(result.score_difference):.4f}")
    return _write_overlay(args, _summed_magnitude(result.attributions))


def _gradient_x_input(args: argparse.Namespace) -> int:
    from ..attribution import gradient_x_input

    backbone, image = _load(args)
    attributions = gradient_x_input(backbone, image, args.class_index)
    return _write_overlay(args, _summed_magnitude(attributions))


def _gradcam(args: argparse.Namespace) -> int:
    from ..attribution import gradcam, gradcam_plus_plus

    backbone, image = _load(args)
    method = gradcam_plus_plus if args.plus_plus else gradcam
    return _write_overlay(args, method(backbone, image, args.class_index, layer=args.layer))


def _occlusion(args: argparse.Namespace) -> int:
    from ..attribution import occlusion
    from ..images import normalize_map

    backbone, image = _load(args)
    drops = occlusion(backbone, image, args.class_index, patch=args.patch, stride=args.stride)
    return _write_overlay(args, normalize_map(np.maximum(drops, 0.0)))


def _guided_backprop(args: argparse.Namespace) -> int:
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


def _no_options(parser: argparse.ArgumentParser) -> None:
    """A subcommand with only the common options."""


def _smoothgrad_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--samples", type=int, default=50, help="noisy copies (50)")
    parser.add_argument("--noise", type=float, default=0.15, help="noise / value range (0.15)")
    parser.add_argument("--seed", type=int, default=None, help="noise seed")


def _integrated_gradients_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--steps", type=int, default=64, help="path intervals (64)")


def _gradcam_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--layer", default=None, help="feature-map layer (backbone default)")
    parser.add_argument("--plus-plus", action="store_true", help="Grad-CAM++ weights")


def _occlusion_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--patch", type=int, default=32, help="patch size in pixels (32)")
    parser.add_argument("--stride", type=int, default=16, help="patch step in pixels (16)")


def _guided_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--layer", default=None, help="explain a channel of this layer instead")
    parser.add_argument("--channel", type=int, default=None, help="channel of --layer")


@dataclass(frozen=True)
class Subcommand:
    """One attribution subcommand.

    Attributes:
        name: The command, e.g. `"saliency"`.
        help: One line for `kerasviz --help`.
        handler: `handler(args) -> exit code`.
        options: Adds the command's own options to its parser.
        overlay: Whether the output is a heatmap over the image (`--alpha`, `--colormap`).
    """

    name: str
    help: str
    handler: Callable[[argparse.Namespace], int]
    options: Callable[[argparse.ArgumentParser], None] = _no_options
    overlay: bool = True


SUBCOMMANDS = [
    Subcommand("saliency", "vanilla gradient saliency map", _saliency),
    Subcommand(
        "smoothgrad", "SmoothGrad saliency map (noise-averaged gradients)", _smoothgrad,
        _smoothgrad_options,
    ),
    Subcommand(
        "integrated-gradients", "integrated gradients (|attribution| summed over colours)",
        _integrated_gradients, _integrated_gradients_options,
    ),
    Subcommand(
        "gradient-x-input", "gradient x input (|attribution| summed over colours)",
        _gradient_x_input,
    ),
    Subcommand("gradcam", "Grad-CAM (or Grad-CAM++) heatmap", _gradcam, _gradcam_options),
    Subcommand(
        "occlusion", "occlusion sensitivity (drop in class probability)", _occlusion,
        _occlusion_options,
    ),
    Subcommand(
        "guided-backprop", "guided backpropagation picture", _guided_backprop, _guided_options,
        overlay=False,
    ),
    Subcommand(
        "grabcut", "segment the class's object (Grad-CAM + GrabCut)", _grabcut, overlay=False
    ),
]


def _add_common(parser: argparse.ArgumentParser, command: Subcommand) -> None:
    out = f"{command.name}.png"
    parser.add_argument("image", help="image file")
    parser.add_argument(
        "--class", dest="class_index", type=int, default=None,
        help="class index to explain (default: the predicted class)",
    )
    parser.add_argument("--out", default=out, help=f"output PNG (default: {out})")
    if command.overlay:
        parser.add_argument("--alpha", type=float, default=0.5, help="heatmap opacity (0.5)")
        parser.add_argument("--colormap", default="jet", help="OpenCV colormap name (jet)")
    add_backbone_arguments(parser)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the attribution subcommands to the command line.

    Args:
        subparsers: The `kerasviz` parser's subcommands.
    """
    for command in SUBCOMMANDS:
        parser = subparsers.add_parser(command.name, help=command.help)
        _add_common(parser, command)
        command.options(parser)
        parser.set_defaults(handler=command.handler)
