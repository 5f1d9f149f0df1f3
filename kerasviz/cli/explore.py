"""`kerasviz explore`: the interactive explorer in the browser (see `kerasviz.explorer`)."""

from __future__ import annotations

import argparse

from .common import add_backbone_arguments

#: Section of `kerasviz --help` (a `kerasviz.registry.FAMILIES` name).
FAMILY = "basics"


def _explore(args: argparse.Namespace) -> int:
    from ..errors import ParameterError
    from ..explorer import create_app, serve

    if args.model and args.backbone != "efficientnet_lite0":
        raise ParameterError(f"Give --backbone or --model, not both. Received: --backbone {args.backbone} --model {args.model}")
    if args.max_upload_mb <= 0:
        raise ParameterError(f"--max-upload-mb must be positive. Received: --max-upload-mb {args.max_upload_mb}")

    def load_model():
        from ..backbones import load_backbone

        if args.model:
            import keras

            from ..errors import ModelError

            try:
                model = keras.models.load_model(args.model)
            except (OSError, ValueError) as error:
                raise ModelError(f"Cannot load the model file: {error}. Received: --model {args.model}") from None
            return load_backbone(model)
        from .common import backbone_from_args

        return backbone_from_args(args)

    if args.images:
        from ..images import readable_image_files

        readable_image_files(args.images)  # a missing or empty folder fails here, before serving
    app = create_app(
        load_model, images_folder=args.images, cache_dir=args.cache_dir,
        max_request_bytes=int(args.max_upload_mb * 1024 * 1024), warm_up=not args.no_warm_up,
    )
    serve(app, args.host, args.port)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `explore` to the command line."""
    parser = subparsers.add_parser(
        "explore", help="interactive explorer in the browser (predict, explain, layers, neurons, style)"
    )
    add_backbone_arguments(parser)
    parser.add_argument("--model", metavar="FILE.keras", help="a saved Keras classifier taking pixels in [0, 255] (instead of --backbone)")
    parser.add_argument("--images", metavar="FOLDER", help="a folder of images to pick from and to search for top patches")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1; anything else warns)")
    parser.add_argument("--port", type=int, default=8050, help="TCP port (default 8050)")
    parser.add_argument("--cache-dir", metavar="DIR", help="cache of feature visualizations and the patch index "
                        "(default ~/.cache/kerasviz/explorer)")
    parser.add_argument("--max-upload-mb", type=float, default=20.0, help="largest request body in MB (default 20)")
    parser.add_argument("--no-warm-up", action="store_true", help="do not trace Grad-CAM and the activation grid "
                        "before answering /api/health")
    parser.set_defaults(handler=_explore)
