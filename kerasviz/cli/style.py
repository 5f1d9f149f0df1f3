"""Style subcommands: `kerasviz texture` and `kerasviz style-transfer`."""

from __future__ import annotations

import argparse

from ..backbones import Backbone, keras_models_dir, load_backbone
from ..backbones.applications import APPLICATIONS
from ..errors import ModelError, WeightsUnavailableError
from .common import add_backbone_arguments, backbone_from_args, write_png


def _style_backbone(args: argparse.Namespace) -> Backbone:
    """`--backbone auto`: VGG19 where its ImageNet weights are cached, else Lite0 (offline).

    The cache is checked first, so an offline machine does not wait for a download to time out.
    """
    if args.backbone != "auto":
        return backbone_from_args(args)
    cached = keras_models_dir() / APPLICATIONS["vgg19"]["file"].rsplit("/", 1)[1]
    if cached.exists():
        try:
            return load_backbone("vgg19", weights="imagenet")
        except (WeightsUnavailableError, ModelError):
            pass
    print("VGG19 ImageNet weights are not cached; using efficientnet_lite0")
    return load_backbone("efficientnet_lite0")


def _texture(args: argparse.Namespace) -> int:
    from ..images import load_image
    from ..synthesis.texture import synthesize_texture

    example = load_image(args.texture, size=args.texture_size)
    model = None if args.method == "patch" else _style_backbone(args)
    result = synthesize_texture(
        model, example, args.size, method=args.method, layers=args.layers, steps=args.steps,
        seed=args.seed,
    )
    write_png(args.out, result)
    return 0


def _style_transfer(args: argparse.Namespace) -> int:
    from ..images import load_image
    from ..synthesis.style_transfer import style_transfer

    content = load_image(args.content, size=args.size)
    styles = [load_image(path) for path in args.style]
    result = style_transfer(
        _style_backbone(args), content, styles,
        content_layers=args.content_layers, style_layers=args.style_layers,
        content_weight=args.content_weight, style_weight=args.style_weight,
        tv_weight=args.tv_weight, style_weights=args.style_weights, steps=args.steps,
        optimizer=args.optimizer, init=args.init, preserve_color=args.preserve_color,
        style_scale=args.style_scale, seed=args.seed,
    )
    write_png(args.out, result)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `texture` and `style-transfer` to the command line."""
    parser = subparsers.add_parser("texture", help="synthesize a texture from an example image")
    parser.add_argument("texture", help="example texture image")
    parser.add_argument("--out", default="texture.png", help="output PNG (default texture.png)")
    parser.add_argument("--size", type=int, default=224, help="output side in pixels (default 224)")
    parser.add_argument("--texture-size", type=int, default=None, help="resize the example first")
    parser.add_argument("--method", choices=("gram", "patch"), default="gram")
    parser.add_argument("--layers", nargs="+", default=None, help="style layers (gram)")
    parser.add_argument("--steps", type=int, default=100, help="L-BFGS steps (default 100)")
    parser.add_argument("--seed", type=int, default=0)
    add_backbone_arguments(parser, default="auto")
    parser.set_defaults(handler=_texture)

    parser = subparsers.add_parser("style-transfer", help="repaint an image in a painting's style")
    parser.add_argument("content", help="content image")
    parser.add_argument("style", nargs="+", help="style image(s)")
    parser.add_argument("--out", default="stylized.png", help="output PNG (default stylized.png)")
    parser.add_argument("--size", type=int, default=None, help="resize the content to SIZE x SIZE")
    parser.add_argument("--style-weights", type=float, nargs="+", default=None, help="blend, sums to 1")
    parser.add_argument("--content-layers", nargs="+", default=None)
    parser.add_argument("--style-layers", nargs="+", default=None)
    parser.add_argument("--content-weight", type=float, default=1.0)
    parser.add_argument("--style-weight", type=float, default=1000.0)
    parser.add_argument("--tv-weight", type=float, default=30.0)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--optimizer", choices=("lbfgs", "adam"), default="lbfgs")
    parser.add_argument("--init", choices=("content", "noise"), default="content")
    parser.add_argument("--preserve-color", action="store_true", help="keep the content's colours")
    parser.add_argument("--style-scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    add_backbone_arguments(parser, default="auto")
    parser.set_defaults(handler=_style_transfer)
