"""Dataset and concept subcommands: `collect`, `explain-dataset`, `atlas`, `dff`, `tcav`, `craft`.

Each handler is a thin layer over a `kerasviz.concepts` function; folders follow the one folder
rule (`kerasviz.images.folders`) and `--option key=value` passes Apache Beam pipeline options.
"""

from __future__ import annotations

import argparse
import os
from typing import Any, Dict, List

from ..errors import ParameterError
from .common import IMAGE_HELP, add_backbone_arguments, add_out_argument, backbone_from_args, write_png

__all__ = ["FAMILY", "register"]

#: Section of `kerasviz --help` (a `kerasviz.technique.FAMILIES` name).
FAMILY = "concepts"

_RUNNER_HELP = "Apache Beam runner (DirectRunner, FlinkRunner, SparkRunner, DataflowRunner); default: in process"


def pipeline_options(pairs: List[str]) -> Dict[str, Any]:
    """`["direct_num_workers=2", ...]` as keyword arguments (ints and floats parsed).

    Args:
        pairs: `key=value` strings from `--option`.

    Returns:
        `{key: value}`.

    Raises:
        ParameterError: A pair without `=`.
    """
    options: Dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ParameterError(f"--option takes KEY=VALUE. Received: --option {pair}")
        for kind in (int, float):
            try:
                options[key] = kind(value)
                break
            except ValueError:
                options[key] = value
    return options


def _images(names: List[str], size: Any) -> Any:
    """Image arguments (files, `skimage:NAME`, or folders of images) as one batch."""
    import numpy as np

    from ..images import load_image
    from ..images.folders import readable_image_files

    paths: List[str] = []
    for name in names:
        paths += readable_image_files(name) if os.path.isdir(name) else [name]
    return np.stack([load_image(path, size) for path in paths])


def _model(args: argparse.Namespace) -> Any:
    """`--model FILE.keras` if given, else the `--backbone`."""
    if getattr(args, "model", None):
        import keras

        from ..backbones import load_backbone

        return load_backbone(keras.saving.load_model(args.model))
    return backbone_from_args(args)


def _collect(args: argparse.Namespace) -> int:
    from ..concepts import collect_activations

    result = collect_activations(
        _model(args), args.source, args.layer, out=args.out, batch_size=args.batch_size,
        spatial=args.spatial, runner=args.runner, **pipeline_options(args.option),
    )
    print(f"wrote {len(result.shards)} shards, {result.rows} rows to {result.out} ({len(result.skipped)} files skipped)")
    return 0


def _explain_dataset(args: argparse.Namespace) -> int:
    from ..concepts import explain_dataset

    explain_dataset(
        _model(args), args.source, args.method, args.out, target=args.class_index, batch_size=args.batch_size,
        runner=args.runner, png=args.png, **pipeline_options(args.option),
    )
    print(f"wrote maps to {args.out}")
    return 0


def _atlas(args: argparse.Namespace) -> int:
    from ..concepts import activation_atlas, save_atlas

    backbone = _model(args)
    atlas = activation_atlas(
        backbone, args.source, args.layer, grid=args.grid, steps=args.steps, class_filter=args.class_filter,
        projection=args.projection,
    )
    for path in save_atlas(atlas, args.out, args.html, class_names=getattr(backbone, "class_names", None)):
        print(f"wrote {path}")
    return 0


def _dff(args: argparse.Namespace) -> int:
    from ..concepts import dff_picture

    backbone = _model(args)
    images = _images(args.images, backbone.input_size) if args.images else None
    picture, details = dff_picture(backbone, images, n_concepts=args.concepts, layer=args.layer)
    print(details)
    write_png(args.out, picture)
    return 0


def _craft(args: argparse.Namespace) -> int:
    from ..concepts import craft_picture

    backbone = _model(args)
    images = _images(args.images, backbone.input_size) if args.images else None
    picture, details = craft_picture(backbone, images, target=args.class_index, n_concepts=args.concepts, layer=args.layer)
    print(details)
    write_png(args.out, picture)
    return 0


def _tcav(args: argparse.Namespace) -> int:
    from ..concepts import tcav

    backbone = _model(args)
    size = backbone.input_size
    result = tcav(
        backbone, args.layer, _images([args.concept], size), _images([args.random], size), args.class_index,
        runs=args.runs, images=_images([args.images], size) if args.images else None,
    )
    print(f"TCAV score {result.score:.3f}, p = {result.p_value:.3g} (two-sided t-test against {args.runs} random concepts)")
    return 0


def _model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None, metavar="FILE.keras", help="a saved Keras model instead of --backbone")
    add_backbone_arguments(parser)


def _pipeline_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--batch-size", type=int, default=64, help="images per forward pass (default: 64)")
    parser.add_argument("--runner", default=None, help=_RUNNER_HELP)
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="a Beam pipeline option, e.g. direct_num_workers=2 (repeatable)")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the dataset and concept commands to the command line.

    Args:
        subparsers: The `kerasviz` parser's subcommands.
    """
    parser = subparsers.add_parser("collect", help="stream a dataset's activations to sharded Parquet (resumable; Beam)")
    parser.add_argument("source", help="a folder of images or TFRecord files")
    parser.add_argument("--layer", action="append", required=True, help="layer to record (repeatable)")
    parser.add_argument("--out", "-o", required=True, help="output folder of Parquet shards")
    parser.add_argument("--spatial", default="mean", help="mean, all or sample:K positions per image (default: mean)")
    _pipeline_arguments(parser)
    _model_arguments(parser)
    parser.set_defaults(handler=_collect)

    parser = subparsers.add_parser("explain-dataset", help="attribution maps of a whole dataset to Parquet / PNG")
    parser.add_argument("source", help="a folder of images or TFRecord files")
    parser.add_argument("--method", default="gradcam", help="a registered technique (default: gradcam)")
    parser.add_argument("--class", dest="class_index", type=int, default=None, help="class (default: each image's top class)")
    parser.add_argument("--out", "-o", required=True, help="output folder")
    parser.add_argument("--png", action="store_true", help="also write one PNG per image")
    _pipeline_arguments(parser)
    _model_arguments(parser)
    parser.set_defaults(handler=_explain_dataset)

    parser = subparsers.add_parser("atlas", help="activation atlas of a layer (PNG and a zoomable HTML page)")
    parser.add_argument("source", help="a folder of images, or a folder written by `kerasviz collect`")
    parser.add_argument("--layer", required=True, help="the layer to map")
    parser.add_argument("--grid", type=int, default=20, help="cells per side (default: 20)")
    parser.add_argument("--steps", type=int, default=256, help="feature-visualization steps per cell (default: 256)")
    parser.add_argument("--class", dest="class_filter", type=int, action="append", default=None,
                        help="keep positions whose image's top class is this (repeatable)")
    parser.add_argument("--projection", default="umap", choices=("umap", "pca"), help="2-D layout (default: umap)")
    add_out_argument(parser, "atlas.png")
    parser.add_argument("--html", default="atlas.html", help="the zoomable page (default: atlas.html)")
    _model_arguments(parser)
    parser.set_defaults(handler=_atlas)

    for name, handler, help_text in (
        ("dff", _dff, "deep feature factorization: concepts shared by images, coloured over them"),
        ("craft", _craft, "CRAFT: a class's concepts from crops, ranked by Sobol importance"),
    ):
        parser = subparsers.add_parser(name, help=help_text)
        parser.add_argument("images", nargs="*", help=f"images or folders (default: the bundled photos); each {IMAGE_HELP}")
        if name == "craft":
            parser.add_argument("--class", dest="class_index", type=int, default=285, help="class to explain (default: 285)")
        parser.add_argument("--concepts", type=int, default=4 if name == "dff" else 3, help="number of concepts")
        parser.add_argument("--layer", default=None, help="layer to factorize (default: the Grad-CAM layer)")
        add_out_argument(parser, f"{name}.png")
        _model_arguments(parser)
        parser.set_defaults(handler=handler)

    parser = subparsers.add_parser("tcav", help="TCAV: how much a concept (folder of examples) drives a class")
    parser.add_argument("--layer", required=True, help="the layer whose activations hold the concept")
    parser.add_argument("--concept", required=True, help="folder of images showing the concept")
    parser.add_argument("--random", required=True, help="folder of random images")
    parser.add_argument("--images", default=None, help="folder of images of the class (default: the concept images)")
    parser.add_argument("--class", dest="class_index", type=int, required=True, help="the class")
    parser.add_argument("--runs", type=int, default=20, help="random concepts for the t-test (default: 20)")
    _model_arguments(parser)
    parser.set_defaults(handler=_tcav)
