"""The one public surface of the CAM family: its signature and its docstring, written once.

Every CAM takes `(model, images, target=None, *, layer=None, batch_size=..., token_grid=None,
skip_tokens=None)` plus its own options, and returns `(N, H, W)` maps in `[0, 1]`. A CAM module
holds only its formula and its own options; `cam_docstring` adds the shared Args / Returns /
Raises, and `gradient_cam_function` builds a whole gradient CAM from its coarse-map formula.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Optional

import numpy as np

from ..targets import TargetLike
from .cam_maps import Combine, gradient_cam

__all__ = ["CAM_ARGS", "LAYER_ARG", "UNIT_MAPS", "cam_docstring", "documented_cam", "gradient_cam_function"]

#: The Args every CAM shares, in signature order (`{batch_size}` is each CAM's default).
CAM_ARGS = """\
    model: A `Backbone` or a `keras.Model` taking pixels in `[0, 255]` (softmax removed).
    images: `(H, W, 3)` or `(N, H, W, 3)` pixels in `[0, 255]`, at the model's input size.
    target: Class index, one per image, callable `scores(logits) -> (N,)`, or `None` for
        each image's predicted class. Scores are logits.
{layer}    batch_size: Largest batch per compiled call.
{extra_args}    token_grid: For a token layer `(N, T, C)` of a vision transformer: its patch grid
        `(h, w)`; `None` detects a square grid after up to 16 leading tokens.
    skip_tokens: For a token layer: leading class / register tokens to drop (`None`:
        detected, or `T - h * w` with `token_grid`).
"""

#: The `layer` entry of most CAMs.
LAYER_ARG = """\
    layer: A layer with a 4-D output, or a token layer `(N, tokens, C)` of a vision
        transformer; default the backbone's `gradcam_layer` (its last feature map, e.g.
        Lite0's `top_activation`). On a ViT pick a token layer whose patch tokens still
        reach the class token (the input of the last attention block), not the final norm.
"""

#: The `Returns` of most CAMs.
UNIT_MAPS = """\
    float32 `(N, H, W)` (or `(H, W)`) in `[0, 1]`: upsampled bilinearly and divided by each
    map's maximum; a map with no positive evidence is all zeros (never NaN).
"""

_RETURNS_RAISES = """
Returns:
{returns}
Raises:
    ImageError: Invalid images.
    TargetError: Invalid target.
    LayerNotFoundError: Unknown layer.
    ModelError: The layer is neither a 4-D feature map nor a token layer with a patch grid;
        a headless or subclassed model; unusable image size.
    ParameterError: Bad `batch_size`{extra_raises}; token options for a feature-map layer.
"""


def _indent(text: str, spaces: int) -> str:
    return "".join(" " * spaces + line if line.strip() else line for line in text.splitlines(True))


def cam_docstring(
    summary: str,
    *,
    extra_args: str = "",
    extra_raises: str = "",
    layer: str = LAYER_ARG,
    returns: str = UNIT_MAPS,
) -> str:
    """A CAM's docstring: its own summary and options, then the family's shared sections.

    Args:
        summary: The first line, then any paragraphs about the formula.
        extra_args: The CAM's own Args lines (4-space indented, as in `CAM_ARGS`), inserted
            after `batch_size`.
        extra_raises: Extra names for the ParameterError line, e.g. `", channels"`.
        layer: The `layer` entry, where a CAM takes other layers than `LAYER_ARG` says.
        returns: The Returns text, where a CAM normalizes otherwise than `UNIT_MAPS` says.

    Returns:
        The docstring (for `function.__doc__`).
    """
    args = CAM_ARGS.format(extra_args=extra_args, layer=layer)
    tail = _RETURNS_RAISES.format(extra_raises=extra_raises, returns=returns)
    body = f"{inspect.cleandoc(summary)}\n\nArgs:\n{args}{tail}"
    first, _, rest = body.partition("\n")
    return first + "\n" + _indent(rest, 4)


def documented_cam(
    summary: str, **sections: str
) -> Callable[[Callable[..., np.ndarray]], Callable[..., np.ndarray]]:
    """Decorator: give a CAM with its own options the family's docstring (see `cam_docstring`).

    Args:
        summary: The first line, then any paragraphs about the formula.
        **sections: `extra_args`, `extra_raises`, `layer`, `returns`, as `cam_docstring` takes.

    Returns:
        A decorator that sets `__doc__` and returns the function unchanged.
    """

    def decorate(function: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        function.__doc__ = cam_docstring(summary, **sections)
        return function

    return decorate


def gradient_cam_function(
    name: str,
    combine: Combine,
    summary: str,
    *,
    warn_unreached: bool = False,
) -> Callable[..., np.ndarray]:
    """A public gradient CAM from its coarse-map formula.

    Args:
        name: The function's name, e.g. `"hires_cam"`.
        combine: `(activations (N, h, w, K), gradients (N, h, w, K)) -> (N, h, w)` coarse
            maps before the ReLU.
        summary: The docstring's summary and formula paragraphs.
        warn_unreached: Warn when the score's gradient at the layer is zero for every image.

    Returns:
        `fn(model, images, target=None, *, layer=None, batch_size=32, token_grid=None,
        skip_tokens=None) -> (N, H, W)` maps in `[0, 1]`.
    """

    def cam(
        model: Any,
        images: Any,
        target: Optional[TargetLike] = None,
        *,
        layer: Optional[str] = None,
        batch_size: int = 32,
        token_grid: Optional[Any] = None,
        skip_tokens: Optional[int] = None,
    ) -> np.ndarray:
        return gradient_cam(
            model, images, target, combine, layer=layer, batch_size=batch_size,
            token_grid=token_grid, skip_tokens=skip_tokens, technique=name,
            warn_unreached=warn_unreached,
        )

    caller = inspect.currentframe().f_back  # type: ignore[union-attr]
    cam.__name__ = cam.__qualname__ = name
    cam.__module__ = caller.f_globals.get("__name__", __name__) if caller else __name__
    cam.__doc__ = cam_docstring(summary)
    return cam
