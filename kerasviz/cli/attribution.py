"""Attribution subcommands: one per registered heatmap technique, plus guided backprop and GrabCut.

The heatmap commands are built from `kerasviz.registry`: each technique's options become flags,
and one handler runs any of them (`technique_map`) and writes the map over the image. A new
technique gets its command from its registry entry alone.
"""

from __future__ import annotations

import argparse
from typing import Any, Dict, Tuple

import numpy as np

from ..registry import TECHNIQUES, get_technique
from ..technique import Option, Technique
from .common import IMAGE_HELP, add_backbone_arguments, add_out_argument, backbone_from_args, write_png

__all__ = [
    "FAMILY", "HEATMAP_FAMILIES", "SIGNED_OUTPUTS", "add_image_arguments", "add_option", "add_server_arguments",
    "register", "technique_options",
]

FAMILY = "attribution"

#: Registry families whose techniques get a generic heatmap command here.
HEATMAP_FAMILIES = ("attribution", "cams", "relevance", "blackbox")

#: Outputs drawn with the diverging (signed) colormap instead of a heatmap overlay.
SIGNED_OUTPUTS = ("relevance", "signed")


def _load(args: argparse.Namespace) -> Tuple[Any, np.ndarray]:
    from ..images import load_image

    backbone = backbone_from_args(args)
    return backbone, load_image(args.image, size=backbone.input_size)


def technique_options(technique: Technique, args: argparse.Namespace) -> Dict[str, Any]:
    """The technique's keyword options as given on the command line (unset ones left out).

    Args:
        technique: A registered technique.
        args: Parsed arguments.

    Returns:
        `{keyword: value}` for every option the user set.
    """
    values = {option.name: getattr(args, option.name, None) for option in technique.options}
    return {name: value for name, value in values.items() if value is not None}


def _model_and_image(args: argparse.Namespace) -> Tuple[Any, np.ndarray]:
    """The model to explain (a backbone, or a served classifier for `--server` / `--rest`) and
    the image at its input size."""
    from ..images import load_image

    server, rest = getattr(args, "server", None), getattr(args, "rest", None)
    if server or rest:
        from ..blackbox import PredictClient, RestPredictClient

        client = PredictClient(server, args.model_name) if server else RestPredictClient(rest, args.model_name)
        return client, load_image(args.image, size=args.size)
    return _load(args)


def _heatmap_command(args: argparse.Namespace) -> int:
    from ..attribution.technique_maps import as_heatmap, run_technique
    from ..images import load_image, overlay_heatmap

    technique = get_technique(args.command)
    model, image = _model_and_image(args)
    result = run_technique(technique, model, image, getattr(args, "class_index", None), **technique_options(technique, args))
    original = load_image(args.image)  # drawn at the photo's own size and aspect
    if technique.output in SIGNED_OUTPUTS:  # red for the class, blue against, centred on zero
        from ..relevance.pictures import relevance_picture

        write_png(args.out, relevance_picture(np.asarray(result), original))
        return 0
    heatmap = as_heatmap(result, technique.output)
    write_png(args.out, overlay_heatmap(original, heatmap, alpha=args.alpha, colormap=args.colormap))
    return 0


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


def add_image_arguments(
    parser: argparse.ArgumentParser, command: str, *, targeted: bool = True, out: bool = True
) -> None:
    """Add IMAGE, `--class` (for class-specific commands), `-o/--out` and the backbone options.

    Args:
        parser: The subcommand's parser.
        command: The subcommand (names the default output, `COMMAND.png`).
        targeted: Whether the command explains a class (adds `--class`).
        out: Whether the command writes a picture (adds `-o/--out`).
    """
    parser.add_argument("image", help=IMAGE_HELP)
    if targeted:
        parser.add_argument(
            "--class", dest="class_index", type=int, default=None,
            help="class index to explain (default: the predicted class)",
        )
    if out:
        add_out_argument(parser, f"{command}.png")
    add_backbone_arguments(parser)


def add_option(parser: argparse.ArgumentParser, option: Option) -> None:
    """Add one registry option as a flag (`--name`, hyphenated; underscores accepted too).

    Args:
        parser: The subcommand's parser.
        option: The technique's option.
    """
    flags = [option.flag]
    if "_" in option.name:
        flags.append("--" + option.name)
    default = "" if option.default is None else f" (default: {option.default})"
    parser.add_argument(
        *flags, dest=option.name, type=option.type, default=None, choices=option.choices,
        action="append" if option.repeat else "store", help=option.help + default,
    )


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    """Add `--server HOST:PORT` / `--rest URL` with `--model-name` and `--size`: explain a
    classifier served by TF Serving or `kerasviz serve` instead of a local backbone.

    Args:
        parser: The subcommand's parser.
    """
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--server", default=None, metavar="HOST:PORT", help="query a served classifier over gRPC")
    where.add_argument("--rest", default=None, metavar="URL", help="query a served classifier over REST")
    parser.add_argument("--model-name", "--model_name", dest="model_name", default="model",
                        help="the served model's name (default: model)")
    parser.add_argument("--size", type=int, default=224, help="image side the served model takes (default: 224)")


def _add_heatmap_command(subparsers: argparse._SubParsersAction, technique: Technique) -> None:
    parser = subparsers.add_parser(technique.command, help=technique.summary)
    add_image_arguments(parser, technique.command, targeted=technique.targeted)
    for option in technique.options:
        add_option(parser, option)
    if "queries" in technique.needs:
        add_server_arguments(parser)
    parser.add_argument("--alpha", type=float, default=0.5, help="heatmap opacity (0.5)")
    parser.add_argument("--colormap", default="jet", help="OpenCV colormap name (jet)")
    parser.set_defaults(handler=_heatmap_command)


def _add_guided_backprop(subparsers: argparse._SubParsersAction, technique: Technique) -> None:
    parser = subparsers.add_parser(technique.command, help=technique.summary)
    add_image_arguments(parser, technique.command)
    parser.add_argument("--layer", default=None, help="explain a channel of this layer instead")
    parser.add_argument("--channel", type=int, default=None, help="channel of --layer")
    parser.set_defaults(handler=_guided_backprop)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the attribution and CAM subcommands (registry order) to the command line.

    Args:
        subparsers: The `kerasviz` parser's subcommands.
    """
    for family in HEATMAP_FAMILIES:
        for technique in (t for t in TECHNIQUES if t.family == family):
            if technique.name == "guided_backprop":
                _add_guided_backprop(subparsers, technique)
            elif not technique.own_command:
                _add_heatmap_command(subparsers, technique)
        if family == "attribution":
            parser = subparsers.add_parser("grabcut", help="segment the class's object (Grad-CAM + GrabCut)")
            add_image_arguments(parser, "grabcut")
            parser.set_defaults(handler=_grabcut)
