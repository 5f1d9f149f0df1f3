"""Inspect subcommands: `filters`, `activations`, `neighbors`, `embed`, `patches` (each writes a PNG)."""

from __future__ import annotations

import argparse
from typing import List

from .common import IMAGE_HELP, add_backbone_arguments, add_out_argument, backbone_from_args, write_png

#: Section of `kerasviz --help` (a `kerasviz.registry.FAMILIES` name).
FAMILY = "inspect"


def _filters(args: argparse.Namespace) -> int:
    from ..inspect import first_layer_filters, layer_filters

    backbone = backbone_from_args(args)
    if args.layer is None:
        picture = first_layer_filters(backbone)
    else:
        picture = layer_filters(
            backbone, args.layer, max_filters=args.max_filters, max_channels=args.max_channels
        )
    write_png(args.out, picture)
    return 0


def _activations(args: argparse.Namespace) -> int:
    from ..images import load_image
    from ..inspect import activation_maps

    backbone = backbone_from_args(args)
    image = load_image(args.image, size=args.size or backbone.input_size)
    layer = args.layer or backbone.gradcam_layer
    maps, picture = activation_maps(
        backbone, image, layer, args.channels, max_tiles=args.max_tiles, colormap=args.colormap
    )
    print(f"{layer}: {maps.shape[0]} maps of {maps.shape[1]}x{maps.shape[2]}")
    write_png(args.out, picture)
    return 0


def _thumbnails(sources: List, size: int):
    import numpy as np

    from ..images import load_image

    return np.stack([load_image(source, size=size) for source in sources])


def _query_rows(queries: List[str], sources: List[str]) -> List[int]:
    import os

    from ..errors import ParameterError

    rows = []
    for query in queries:
        if query.lstrip("-").isdigit():
            rows.append(int(query))
            continue
        matches = (
            [i for i, s in enumerate(sources) if os.path.samefile(s, query)]
            if os.path.exists(query)
            else []
        )
        if not matches:
            raise ParameterError(
                f"A query must be an image index (0..{len(sources) - 1}, in sorted path order) or "
                f"a readable image file of the folder. Received: query={query!r}"
            )
        rows.append(matches[0])
    return rows


def _check_folder(folder: str) -> None:
    """Fail on a missing or empty folder before the (slow) model load."""
    from ..images.folders import list_image_files

    list_image_files(folder)


def _neighbors(args: argparse.Namespace) -> int:
    import os

    from ..errors import ParameterError
    from ..inspect import extract_features, neighbors_grid

    _check_folder(args.folder)
    missing = [q for q in args.queries if not q.lstrip("-").isdigit() and not os.path.isfile(q)]
    if missing:
        raise ParameterError(
            "A query must be an image index (in sorted path order) or an image file of the "
            f"folder. Received: query={missing[0]!r}"
        )
    backbone = backbone_from_args(args)
    features, sources = extract_features(
        backbone, args.folder, args.layer, batch_size=args.batch_size, return_sources=True
    )
    rows = _query_rows(args.queries, sources)
    names = [str(s).rsplit("/", 1)[-1] for s in sources]
    picture = neighbors_grid(
        _thumbnails(sources, args.thumb), features, rows, args.k, metric=args.metric, labels=names
    )
    write_png(args.out, picture)
    return 0


def _embed(args: argparse.Namespace) -> int:
    from ..inspect import embed_2d, embedding_plot, extract_features

    _check_folder(args.folder)
    backbone = backbone_from_args(args)
    features, sources = extract_features(
        backbone, args.folder, args.layer, batch_size=args.batch_size, return_sources=True
    )
    points = embed_2d(features, args.method)
    picture = embedding_plot(
        points, _thumbnails(sources, args.thumb), size=args.size, thumb=args.thumb, grid=args.grid
    )
    write_png(args.out, picture)
    return 0


def _patches(args: argparse.Namespace) -> int:
    from ..inspect import max_activating_patches

    _check_folder(args.folder)
    backbone = backbone_from_args(args)
    result = max_activating_patches(
        backbone, args.folder, args.layer, args.channel, args.k, batch_size=args.batch_size
    )
    for value, source, (row, col) in zip(result.activations, result.sources, result.positions):
        print(f"{value:10.4f}  {source}  unit ({row}, {col})")
    field = result.field
    print(f"receptive field {field.size[0]}x{field.size[1]}, stride {field.stride[0]}")
    write_png(args.out, result.grid)
    return 0


def _folder_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", help="folder of images (searched recursively)")
    parser.add_argument("--layer", help="feature layer (default: the classifier's input)")
    parser.add_argument("--batch-size", type=int, default=32, help="images per forward pass")
    add_backbone_arguments(parser)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `filters`, `activations`, `neighbors`, `embed` and `patches` to the command line."""
    parser = subparsers.add_parser("filters", help="draw a convolution layer's filters")
    parser.add_argument("--layer", help="Conv2D / DepthwiseConv2D layer (default: the first, RGB)")
    parser.add_argument("--max-filters", type=int, default=8, help="filters shown (rows)")
    parser.add_argument("--max-channels", type=int, default=8, help="input channels per filter")
    add_out_argument(parser, "filters.png")
    add_backbone_arguments(parser)
    parser.set_defaults(handler=_filters)

    parser = subparsers.add_parser("activations", help="draw one image's activation maps")
    parser.add_argument("image", help=IMAGE_HELP)
    parser.add_argument("--layer", help="layer with a feature map (default: the Grad-CAM layer)")
    parser.add_argument(
        "--channels", type=int, nargs="*", help="channel indices (default: most active)"
    )
    parser.add_argument("--max-tiles", type=int, default=64, help="most maps drawn")
    parser.add_argument("--colormap", default="viridis", help="viridis, gray, jet, ...")
    parser.add_argument("--size", type=int, help="resize the image to SIZE x SIZE first")
    add_out_argument(parser, "activations.png")
    add_backbone_arguments(parser)
    parser.set_defaults(handler=_activations)

    parser = subparsers.add_parser(
        "neighbors", help="query images with their nearest neighbours in feature and pixel space"
    )
    _folder_arguments(parser)
    parser.add_argument("--queries", nargs="+", default=["0"], help="image indices or file paths")
    parser.add_argument("--k", type=int, default=5, help="neighbours per query")
    parser.add_argument("--metric", default="cosine", help="feature-space metric")
    parser.add_argument("--thumb", type=int, default=64, help="tile size (pixel space uses it too)")
    add_out_argument(parser, "neighbors.png")
    parser.set_defaults(handler=_neighbors)

    parser = subparsers.add_parser("embed", help="thumbnails placed by a 2-D map of their features")
    _folder_arguments(parser)
    parser.add_argument("--method", default="tsne", choices=["pca", "tsne", "umap"], help="2-D projection of the features (default: tsne)")
    parser.add_argument("--grid", action="store_true", help="snap thumbnails to a grid")
    parser.add_argument("--size", type=int, default=1024, help="canvas side in pixels")
    parser.add_argument("--thumb", type=int, default=48, help="thumbnail side in pixels")
    add_out_argument(parser, "embedding.png")
    parser.set_defaults(handler=_embed)

    parser = subparsers.add_parser("patches", help="the patches that excite one channel most")
    parser.add_argument("folder", help="folder of images (searched recursively)")
    parser.add_argument("--layer", required=True, help="layer with a feature map")
    parser.add_argument("--channel", type=int, required=True, help="channel index")
    parser.add_argument("--k", type=int, default=9, help="number of patches")
    parser.add_argument("--batch-size", type=int, default=32, help="images per forward pass")
    add_out_argument(parser, "patches.png")
    add_backbone_arguments(parser)
    parser.set_defaults(handler=_patches)
