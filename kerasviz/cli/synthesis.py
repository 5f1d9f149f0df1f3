"""Synthesis subcommands: `visualize-class`, `visualize-feature`, `fool`, `dream`, `invert`
(TensorFlow, Keras and NumPy are imported inside the handlers only)."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_backbone_arguments, backbone_from_args, write_png

#: Section of `kerasviz --help` (a `kerasviz.registry.FAMILIES` name).
FAMILY = "synthesis"


def _grid(images: Any) -> Any:
    from ..images import image_grid

    return images if images.ndim == 3 else image_grid(list(images))


def _visualize_class(args: argparse.Namespace) -> int:
    from ..synthesis import Execution, visualize_class

    backbone = backbone_from_args(args)
    images = visualize_class(
        backbone, args.classes if len(args.classes) > 1 else args.classes[0], size=args.size, steps=args.steps,
        param=args.param, tv_weight=args.tv_weight, execution=Execution(seed=args.seed),
    )
    write_png(args.out, _grid(images))
    return 0


def layer_and_rest(args: argparse.Namespace, rest: str) -> Any:
    """The layer from `--layer` or, as before, the first positional word; the other words.

    Args:
        args: Parsed arguments with `layer_flag` and the positional list `rest`.
        rest: Name of the positional list (e.g. `"channels"`).

    Returns:
        `(layer, remaining positional words)`.

    Raises:
        ParameterError: No layer given either way.
    """
    from ..errors import ParameterError

    words = list(getattr(args, rest))
    if args.layer_flag:
        return args.layer_flag, words
    if not words:
        raise ParameterError("Name a layer: --layer NAME (see `kerasviz layers`). Received: no layer")
    return words[0], words[1:]


def _visualize_feature(args: argparse.Namespace) -> int:
    from ..errors import ParameterError
    from ..synthesis import Execution, visualize_feature

    layer, words = layer_and_rest(args, "channels")
    try:
        channels = [int(word) for word in words]
    except ValueError:
        raise ParameterError(f"Channels are integers. Received: {' '.join(words)}") from None
    if not channels:
        raise ParameterError("Give at least one channel index. Received: none")
    backbone = backbone_from_args(args)
    channels = channels if len(channels) > 1 else channels[0]
    images = visualize_feature(
        backbone, layer, channels, size=args.size, steps=args.steps, param=args.param,
        execution=Execution(seed=args.seed),
    )
    write_png(args.out, _grid(images))
    return 0


def _fool(args: argparse.Namespace) -> int:
    import numpy as np

    from ..images import load_image
    from ..synthesis import adversarial_example, fooling_image

    backbone = backbone_from_args(args)
    image = load_image(args.image, size=backbone.input_size)
    names = backbone.class_names or [str(i) for i in range(backbone.num_classes)]
    if args.eps is None:
        result, report = fooling_image(backbone, image, args.target, max_steps=args.steps)
        print(
            f"{'fooled' if report.fooled[0] else 'NOT fooled'}: {names[report.original_class[0]]} -> "
            f"{names[report.predicted_class[0]]} (p={report.target_probability[0]:.3f}) in {report.steps[0]} "
            f"steps, mean |change| {report.mean_abs_change[0]:.2f}, L-inf {report.linf[0]:.1f} pixel levels"
        )
    else:
        result = adversarial_example(backbone, image, args.eps, method=args.method, target=args.target, steps=args.steps)
        before, after = backbone.predict(np.stack([image, result])).argmax(axis=1)
        print(f"{args.method} eps={args.eps:g}: {names[before]} -> {names[after]}")
    write_png(args.out, result)
    return 0


def _dream(args: argparse.Namespace) -> int:
    from ..images import load_image
    from ..synthesis import deep_dream

    backbone = backbone_from_args(args)
    image = load_image(args.image, size=args.size)
    dream = deep_dream(
        backbone, image, args.layers or None, octaves=args.octaves, steps=args.steps, step_size=args.step_size,
        tile_size=args.tile_size,
    )
    write_png(args.out, dream)
    return 0


def _invert(args: argparse.Namespace) -> int:
    from ..images import load_image
    from ..synthesis import invert_features

    layer, _ = layer_and_rest(args, "layer")
    backbone = backbone_from_args(args)
    image = load_image(args.image, size=args.size)
    write_png(args.out, invert_features(backbone, image, layer, steps=args.steps, tv_weight=args.tv_weight))
    return 0


def add_out_argument(parser: argparse.ArgumentParser, default: str) -> None:
    """`-o / --out / --output`: the output PNG, with its default named in the help.

    Args:
        parser: A subcommand's parser.
        default: The default file name (written into the working directory).
    """
    parser.add_argument("-o", "--out", "--output", dest="out", default=default,
                        help=f"output PNG (default {default} in the working directory)")


def _add_visualization_arguments(parser: argparse.ArgumentParser, out: str) -> None:
    """The options `visualize-class` and `visualize-feature` share (and the backbone)."""
    add_out_argument(parser, out)
    parser.add_argument("--size", type=int, default=128, help="image side in pixels (default 128)")
    parser.add_argument("--steps", type=int, default=128, help="gradient steps (default 128)")
    parser.add_argument("--param", default="fourier", choices=["fourier", "decorrelated", "pixel"],
                        help="image parameterization (default fourier)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    add_backbone_arguments(parser)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the synthesis subcommands to the command line."""
    parser = subparsers.add_parser("visualize-class", help="synthesize the image a class likes best")
    parser.add_argument("classes", type=int, nargs="+", help="class indices (one image each, as a grid)")
    parser.add_argument("--tv-weight", type=float, default=0.0, help="total-variation penalty (default 0)")
    _add_visualization_arguments(parser, "class.png")
    parser.set_defaults(handler=_visualize_class)

    parser = subparsers.add_parser("visualize-feature", help="synthesize images that excite channels of a layer")
    parser.add_argument("channels", nargs="+", metavar="[LAYER] CHANNEL",
                        help="channel indices (one image each, as a grid), after the layer unless --layer names it")
    parser.add_argument("--layer", dest="layer_flag", default=None, help="layer name (see `kerasviz layers`)")
    _add_visualization_arguments(parser, "feature.png")
    parser.set_defaults(handler=_visualize_feature)

    parser = subparsers.add_parser("fool", help="fooling image or FGSM / PGD adversarial example")
    parser.add_argument("image", help="image file, skimage:NAME or painting:NAME (resized to the backbone's input size)")
    parser.add_argument("--target", type=int, default=None, help="class to reach (required without --eps)")
    parser.add_argument("--eps", type=float, default=None, help="L-inf budget in pixel levels: FGSM / PGD mode")
    parser.add_argument("--method", default="pgd", choices=["pgd", "fgsm"], help="attack with --eps (default pgd)")
    parser.add_argument("--steps", type=int, default=200, help="maximum steps (default 200; PGD uses it too)")
    add_out_argument(parser, "fooling.png")
    add_backbone_arguments(parser)
    parser.set_defaults(handler=_fool)

    parser = subparsers.add_parser("dream", help="DeepDream an image")
    parser.add_argument("image", help="image file, skimage:NAME or painting:NAME")
    parser.add_argument("--layers", nargs="*", help="layers to amplify (default: the backbone's dream layers)")
    parser.add_argument("--size", type=int, default=None, help="resize to this side first (default: keep)")
    parser.add_argument("--octaves", type=int, default=3, help="number of scales (default 3)")
    parser.add_argument("--steps", type=int, default=20, help="steps per octave (default 20)")
    parser.add_argument("--step-size", type=float, default=2.0, help="pixel levels per step (default 2)")
    parser.add_argument("--tile-size", type=int, default=None, help="process in rolled tiles of this side")
    add_out_argument(parser, "dream.png")
    add_backbone_arguments(parser)
    parser.set_defaults(handler=_dream)

    parser = subparsers.add_parser("invert", help="reconstruct an image from one layer's activations")
    parser.add_argument("image", help="image file, skimage:NAME or painting:NAME")
    parser.add_argument("layer", nargs="*", metavar="LAYER", help="layer name (or --layer NAME; see `kerasviz layers`)")
    parser.add_argument("--layer", dest="layer_flag", default=None, help="layer name (see `kerasviz layers`)")
    parser.add_argument("--size", type=int, default=128, help="resize to this side first (default 128)")
    parser.add_argument("--steps", type=int, default=200, help="optimization steps (default 200)")
    parser.add_argument("--tv-weight", type=float, default=0.5, help="total-variation prior weight (default 0.5)")
    add_out_argument(parser, "inversion.png")
    add_backbone_arguments(parser)
    parser.set_defaults(handler=_invert)
