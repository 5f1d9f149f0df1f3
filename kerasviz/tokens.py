"""Token models (vision transformers): a layer's `(N, tokens, C)` output as a `(N, h, w, C)` map.

A ViT layer holds `k` leading class / register tokens followed by `h * w` patch tokens in
row-major order. `token_grid` finds `(h, w, k)` from the token count — the smallest `k` (0..16)
that leaves a square grid, e.g. 197 tokens -> 14 x 14 after 1 class token — or takes it from the
caller (`token_grid=(h, w)` and/or `skip_tokens=k`) and says clearly when it cannot.
`tokens_to_maps` then drops the `k` tokens and reshapes: plain TensorFlow ops, usable inside a
`tf.function` (and differentiable, for Grad-CAM-style methods).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple, Optional, Sequence, Tuple

import tensorflow as tf

from .checks import check_int, check_size
from .errors import ModelError

__all__ = [
    "MAX_SKIP_TOKENS",
    "TokenGrid",
    "is_token_shape",
    "token_grid",
    "token_map_shape",
    "tokens_to_maps",
]

#: Most leading class / register tokens `token_grid` tries when detecting the grid.
MAX_SKIP_TOKENS = 16


class TokenGrid(NamedTuple):
    """How a token layer maps onto the image.

    Attributes:
        height: Patch rows.
        width: Patch columns.
        skip: Leading non-patch tokens (class / register tokens) dropped before the grid.
    """

    height: int
    width: int
    skip: int


def is_token_shape(shape: Sequence[Optional[int]]) -> bool:
    """Whether a layer output shape (batch axis included) looks like tokens `(N, T, C)`.

    Args:
        shape: The shape, e.g. `(None, 197, 768)`.

    Returns:
        True for rank 3 with a known token count.
    """
    return len(shape) == 3 and shape[1] is not None


def _square_side(count: int) -> Optional[int]:
    side = math.isqrt(count) if count > 0 else 0
    return side if side * side == count and side >= 2 else None


def token_grid(
    shape: Sequence[Optional[int]],
    *,
    grid: Optional[Any] = None,
    skip_tokens: Optional[int] = None,
    layer: str = "layer",
) -> TokenGrid:
    """The patch grid of a token layer: detected, or checked against what the caller gives.

    Args:
        shape: The layer's output shape `(N, T, C)` (batch axis included).
        grid: `(h, w)` patch grid (or an int for a square grid); `None` to detect.
        skip_tokens: Leading class / register tokens `k >= 0`; `None` for `T - h * w` when `grid`
            is given, else the smallest `k <= MAX_SKIP_TOKENS` leaving a square grid.
        layer: The layer's name, for messages.

    Returns:
        `TokenGrid(height, width, skip)` with `skip + height * width == T`.

    Raises:
        ModelError: Not a token layer, or no grid fits (the message says what to pass).
    """
    if not is_token_shape(shape):
        raise ModelError(
            f"Layer {layer!r} outputs shape {tuple(shape)}, neither a feature map (N, h, w, C) "
            "nor tokens (N, tokens, C) with a known token count. Pick a convolutional or "
            f"transformer layer. Received: layer={layer!r}"
        )
    count = int(shape[1])
    skip = None if skip_tokens is None else check_int(skip_tokens, "skip_tokens", low=0)
    if grid is not None:
        height, width = check_size(grid, "token_grid")
        skip = count - height * width if skip is None else skip
        if skip < 0 or skip + height * width != count:
            raise ModelError(
                f"Layer {layer!r} has {count} tokens, which is not {skip} skipped tokens + a "
                f"{height} x {width} grid. Pass `token_grid=(h, w)` and `skip_tokens=k` with "
                f"k + h * w = {count}. Received: token_grid={grid!r}, skip_tokens={skip_tokens!r}"
            )
        return TokenGrid(height, width, skip)
    candidates = [skip] if skip is not None else range(min(MAX_SKIP_TOKENS, count) + 1)
    for k in candidates:
        side = _square_side(count - k)
        if side is not None:
            return TokenGrid(side, side, k)
    raise ModelError(
        f"Layer {layer!r} has {count} tokens: no square patch grid remains after "
        f"{'skipping ' + str(skip) if skip is not None else 'skipping 0..' + str(MAX_SKIP_TOKENS)}"
        " leading tokens. Pass the grid, e.g. `token_grid=(h, w)` (and `skip_tokens=k` for k "
        f"class / register tokens). Received: token_grid=None, skip_tokens={skip_tokens!r}"
    )


def tokens_to_maps(tokens: Any, grid: TokenGrid) -> tf.Tensor:
    """Patch tokens `(N, T, C)` as a feature map `(N, h, w, C)` (graph-safe, differentiable).

    Args:
        tokens: Tensor `(N, T, C)` with `T == grid.skip + grid.height * grid.width`.
        grid: From `token_grid`.

    Returns:
        `(N, h, w, C)`: token `grid.skip + i * w + j` at row `i`, column `j`.
    """
    tokens = tf.convert_to_tensor(tokens)
    patches = tokens[:, grid.skip :, :]
    return tf.reshape(patches, (-1, grid.height, grid.width, tf.shape(tokens)[-1]))


def token_map_shape(shape: Sequence[Optional[int]], grid: TokenGrid) -> Tuple[int, int, Any]:
    """`(h, w, C)` of the map `tokens_to_maps` makes from a token layer of `shape` `(N, T, C)`."""
    return grid.height, grid.width, shape[-1]
