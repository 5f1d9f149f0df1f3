"""Fast-style subcommands: `train-style` (train on one device or many workers, checkpoint,
resume, save / export a transform network), `export-style` (SavedModel or LiteRT) and `stylize`
(an image or a video, through a local model or TF Serving / `kerasviz serve` with `--server`).

Images are named by a file path or `skimage:NAME` (a `skimage.data` picture, e.g.
`skimage:chelsea`, `skimage:immunohistochemistry`), so a network can be trained from bundled
pictures alone. The `stylize` handler and its inputs live in `stylize_command.py`. TensorFlow and
Keras are imported inside the handlers only (`kerasviz --help` stays light).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, List

from ..errors import ParameterError
from .common import add_backbone_arguments, backbone_from_args
from .stylize_command import INTERRUPTED, add_stylize_arguments, load_keras_network, stylize_with_saved_model

__all__ = ["FAMILY", "QUANTIZATIONS", "STRATEGIES", "register"]

#: `--strategy` and `--quantization` choices, written here so building the parser imports no
#: TensorFlow (tests/cli/test_faststyle_cli.py checks they equal `faststyle.distribute.STRATEGIES`
#: and `faststyle.litert.QUANTIZATIONS`).
STRATEGIES = ("default", "mirrored", "multi_worker")
QUANTIZATIONS = ("float16", "dynamic")

#: Section of `kerasviz --help` (a `kerasviz.registry.FAMILIES` name).
FAMILY = "style"



def _content(names: List[str], image_size: int, augment: bool = False) -> Any:
    """A folder path as is; files / skimage pictures as a batch of centred squares."""
    import numpy as np

    from ..images import load_image, resize_image

    if len(names) == 1 and Path(names[0]).is_dir():
        return names[0]
    side = int(round((2.0 if augment else 1.25) * image_size))  # room for random crops (and scales)
    batch = []
    for name in names:
        image = load_image(name)
        height, width = image.shape[:2]
        scale = side / min(height, width)
        image = resize_image(image, (max(side, round(height * scale)), max(side, round(width * scale))))
        top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
        batch.append(image[top : top + side, left : left + side])
    return np.stack(batch)


def _train(args: argparse.Namespace) -> int:
    """Handler of `train-style`: Ctrl-C anywhere ends with a one-line message and exit code 130."""
    try:
        return _run_training(args)
    except KeyboardInterrupt:
        kept = (f"the last checkpoint in {args.checkpoint_dir} is kept: run the same command again to resume"
                if args.checkpoint_dir else "no --checkpoint-dir was given, so nothing was kept")
        print(f"\nkerasviz train-style: interrupted; {kept}", file=sys.stderr)
        return INTERRUPTED


def _run_training(args: argparse.Namespace) -> int:
    from ..faststyle import make_strategy

    strategy = make_strategy(args.strategy)  # first: multi-worker collectives start before any other TF work
    from ..faststyle import (
        NetworkOptions,
        TrainingData,
        TrainingLoss,
        TrainingRun,
        export_style_model,
        train_style_network,
    )
    from ..faststyle.distribute import is_chief
    from ..images import load_image
    from ..synthesis import LossWeights

    backbone = backbone_from_args(args)
    styles = [load_image(name) for name in args.style]
    style_factor = args.style_weight[0] if len(args.style_weight) == 1 else args.style_weight
    result = train_style_network(
        _content(args.content, args.image_size, args.augment),
        styles,
        backbone=backbone,
        steps=args.steps,
        learning_rate=args.learning_rate,
        data=TrainingData(args.image_size, args.batch_size, augment=args.augment, style_size=args.style_size),
        network=NetworkOptions(args.width, upsample=args.upsample, output=args.output),
        loss=TrainingLoss(
            args.content_layers, args.style_layers,
            weights=LossWeights(content=args.content_weight, style=style_factor, tv=args.tv_weight),
            normalized=args.normalized_loss, jitter=args.loss_jitter, flips=args.loss_flips,
            style_backbone=args.style_backbone,
        ),
        run=TrainingRun(args.checkpoint_dir, args.checkpoint_every, strategy=strategy, initial_weights=args.init),
        seed=args.seed,
    )
    last = result.history[-1] if result.history else {}
    print(f"trained {result.step} steps (from {result.start_step}); last losses: "
          + ", ".join(f"{k}={v:.4g}" for k, v in last.items() if k != "step"))
    if not is_chief(strategy):  # the chief writes the results; the other workers only trained
        return 0
    if args.save:
        Path(args.save).parent.mkdir(parents=True, exist_ok=True)
        result.net.save(args.save)
        print(f"wrote {args.save}")
    if args.export:
        print(f"exported {export_style_model(result.net, args.export)}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from ..faststyle import export_style_model, export_style_tflite

    net = load_keras_network(args.network)
    if args.format == "tflite":
        out = args.out if args.out.endswith(".tflite") else str(Path(args.out) / "style.tflite")
        size = None if not args.image_size else args.image_size[0] if len(args.image_size) == 1 else tuple(args.image_size)
        print(f"wrote {export_style_tflite(net, out, quantization=args.quantization, image_size=size)}")
    else:
        if args.quantization or args.image_size:
            raise ParameterError(
                "--quantization and --image-size apply to --format tflite only. "
                f"Received: quantization={args.quantization!r}, image_size={args.image_size!r}"
            )
        print(f"exported {export_style_model(net, args.out)}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `train-style`, `export-style` and `stylize` to the command line."""
    parser = subparsers.add_parser("train-style", help="train a fast style network (resumable; one device or many workers)")
    parser.add_argument("--content", nargs="+", required=True,
                        help="a folder of images, or image files / skimage:NAME pictures")
    parser.add_argument("--style", nargs="+", required=True, help="style images (files or skimage:NAME); several train one multi-style net")
    parser.add_argument("--image-size", type=int, default=256, help="training crop size (default 256)")
    parser.add_argument("--batch-size", type=int, default=4, help="global batch size (split over replicas)")
    parser.add_argument("--steps", type=int, default=2000, help="total steps (a resumed run continues up to this)")
    parser.add_argument("--width", type=int, default=32, help="transform-net width (16 or 32)")
    parser.add_argument("--content-layers", nargs="+", default=None, help="default: the backbone's content_layers")
    parser.add_argument("--style-layers", nargs="+", default=None, help="default: the backbone's style_layers")
    parser.add_argument("--content-weight", type=float, default=1.0, help="weight of the content (feature reconstruction) loss "
                        "(default: %(default)s)")
    parser.add_argument("--style-weight", type=float, nargs="+", default=[10.0], help="one, or one per style")
    parser.add_argument("--tv-weight", type=float, default=1.0, help="weight of the total-variation smoothness loss (default: %(default)s)")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="Adam learning rate (default: %(default)s)")
    parser.add_argument("--checkpoint-dir", default=None, help="checkpoints; resumes from the newest")
    parser.add_argument("--checkpoint-every", type=int, default=100, help="steps between checkpoints (with --checkpoint-dir) (default: "
         "%(default)s)")
    parser.add_argument("--strategy", choices=STRATEGIES, default="default",
                        help="default (one device), mirrored (all local GPUs) or multi_worker (the cluster in "
                             "TF_CONFIG; docs/multiworker.md)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights and of the crops (default: %(default)s)")
    parser.add_argument("--augment", action="store_true",
                        help="random scales (1-2x) and left-right flips of the content crops")
    parser.add_argument("--style-size", type=int, default=None,
                        help="shorter side of the style images, which sets the stroke size (default: --image-size)")
    parser.add_argument("--upsample", choices=("resize_conv", "bilinear_conv", "transpose"), default="resize_conv",
                        help="upsampling: nearest or bilinear x2 then a 3x3 convolution, or transposed convolutions (default: resize_conv)")
    parser.add_argument("--output", choices=("tanh", "linear"), default="tanh",
                        help="output activation: scaled tanh, or linear clipped at inference (no stuck saturated blobs) (default: tanh)")
    parser.add_argument("--normalized-loss", action="store_true",
                        help="divide each loss layer's error by its target's mean square, so weights do not "
                             "depend on the backbone's feature scale")
    parser.add_argument("--loss-jitter", type=int, default=0,
                        help="shift the loss network's view by up to this many pixels each step, so the net "
                             "cannot hide blobs in its border blind spots (default: 0)")
    parser.add_argument("--loss-flips", action="store_true",
                        help="flip the loss network's view at random each step, so the net cannot keep a blob at a fixed spot")
    parser.add_argument("--style-backbone", default=None,
                        help="loss network of the Gram loss, e.g. vgg16_hed with a Lite0 content loss (default: --backbone)")
    parser.add_argument("--init", default=None,
                        help="start from this network (.keras, same architecture) instead of random weights")
    parser.add_argument("--save", default=None, help="write the trained network as a .keras file")
    parser.add_argument("--export", default=None, help="export a SavedModel version under this base path")
    add_backbone_arguments(parser)
    parser.set_defaults(handler=_train)

    parser = subparsers.add_parser("export-style", help="export a saved network (.keras) as a SavedModel version or a LiteRT file")
    parser.add_argument("network", help="a network saved by `train-style --save NET.keras`")
    parser.add_argument("--format", choices=("savedmodel", "tflite"), default="savedmodel",
                        help="SavedModel version folder for TF Serving, or a LiteRT .tflite file (default: "
         "savedmodel)")
    parser.add_argument("--out", required=True, help="SavedModel base path (a new numeric version goes under it) or FILE.tflite")
    parser.add_argument("--quantization", choices=QUANTIZATIONS, default=None,
                        help="tflite only: float16 or dynamic (int8 weights); default float32")
    parser.add_argument("--image-size", type=int, nargs="+", default=None,
                        help="tflite only: fixed SIZE or HEIGHT WIDTH (default: any size)")
    parser.set_defaults(handler=_export)

    parser = subparsers.add_parser("stylize", help="stylize an image or a video with a fast style network (local or served)")
    add_stylize_arguments(parser)
    parser.set_defaults(handler=stylize_with_saved_model)
