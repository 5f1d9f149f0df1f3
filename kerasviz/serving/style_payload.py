"""What a style client sends and receives: the plan for calling a signature (its keys, PNG or
pixels), style weights, and PNG bytes written directly (fast) and read back (Pillow).
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from typing import Any, Dict, Optional

import grpc
import numpy as np
from PIL import Image
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import meta_graph_pb2

from ..errors import ParameterError
from ..faststyle.inference import check_style_weights
from ..images import to_uint8
from .errors import ServingError

__all__ = [
    "PNG_COMPRESSION",
    "SignaturePlan",
    "decode_output",
    "decode_png",
    "encode_png",
    "image_payload",
    "make_plan",
    "plan_style_weights",
    "png_chunk",
]

#: zlib level of the PNG bytes clients send (0 = stored: fastest, as large as the pixels).
PNG_COMPRESSION = 0


@dataclass(frozen=True)
class SignaturePlan:
    """How to call one signature: its input / output keys and whether images travel as PNG bytes."""

    signature: str
    image_key: str
    output_key: str
    weights_key: Optional[str]
    n_styles: Optional[int]
    encoded: bool
    output_info: meta_graph_pb2.TensorInfo


def make_plan(signatures: Dict[str, meta_graph_pb2.SignatureDef], wanted: Optional[str]) -> SignaturePlan:
    """How to call a style model's signature, read from its signature defs.

    Args:
        signatures: The model's signature defs by name.
        wanted: Signature to call; `None` prefers one taking encoded images, else
            `serving_default`.

    Returns:
        A `SignaturePlan`.

    Raises:
        ServingError: FAILED_PRECONDITION, no such signature.
        ParameterError: The signature does not look like a style network.
    """
    if wanted is None:  # prefer the signature taking encoded images: the smallest requests
        encoded = [n for n, s in signatures.items() if any(i.dtype == types_pb2.DT_STRING for i in s.inputs.values())]
        wanted = sorted(encoded)[0] if encoded else "serving_default"
    if wanted not in signatures:
        raise ServingError(
            grpc.StatusCode.FAILED_PRECONDITION,
            f"Serving signature name: \"{wanted}\" not found in signature def; the model has {sorted(signatures)}",
        )
    signature = signatures[wanted]
    strings = [k for k, i in signature.inputs.items() if i.dtype == types_pb2.DT_STRING]
    rank4 = [k for k, i in signature.inputs.items() if len(i.tensor_shape.dim) == 4]
    image_keys = strings or rank4
    if len(image_keys) != 1 or len(signature.inputs) > 2:
        raise ParameterError(
            f"Signature '{wanted}' does not look like a style network (one image input, optional "
            f"style_weights). Received: inputs={sorted(signature.inputs)}"
        )
    others = [k for k in signature.inputs if k != image_keys[0]]
    weights_key = others[0] if others else None
    n_styles = signature.inputs[weights_key].tensor_shape.dim[-1].size if weights_key else None
    encoded = bool(strings)
    outputs = [k for k, i in signature.outputs.items() if (i.dtype == types_pb2.DT_STRING) == encoded]
    if not outputs:
        raise ParameterError(f"Signature '{wanted}' has no image output. Received: outputs={sorted(signature.outputs)}")
    output_key = "stylized" if "stylized" in outputs else sorted(outputs)[0]
    return SignaturePlan(wanted, image_keys[0], output_key, weights_key, n_styles, encoded, signature.outputs[output_key])


def plan_style_weights(style_weights: Any, n_images: int, plan: SignaturePlan) -> Optional[np.ndarray]:
    """Checked `(N, n_styles)` style weights for the plan, or `None` for a one-style model.

    Raises:
        ParameterError: Weights for a one-style model, or weights that do not fit.
    """
    if plan.weights_key is None:
        if style_weights is not None:
            raise ParameterError(f"This model has one style; drop `style_weights`. Received: style_weights={style_weights!r}")
        return None
    return check_style_weights(style_weights, plan.n_styles, n_images)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, kind, data, CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(image: np.ndarray, level: int = PNG_COMPRESSION) -> bytes:
    """An RGB uint8 image as PNG, written directly (no row filters; zlib at `level`).

    At level 0 (stored blocks) this takes a fraction of a millisecond for 256², where Pillow's
    encoder takes 10-20 ms: the request is then as large as the raw pixels (still a quarter of
    float32), which suits loopback and LANs; raise `png_compression` for slow links.
    """
    height, width, _ = image.shape
    rows = np.empty((height, 1 + 3 * width), np.uint8)
    rows[:, 0] = 0  # filter type None
    rows[:, 1:] = image.reshape(height, -1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(rows.tobytes(), level))
        + png_chunk(b"IEND", b"")
    )


def decode_png(data: bytes) -> np.ndarray:
    """A PNG the server sent, as RGB uint8 (Pillow's decoder, bounded by its pixel limit)."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def decode_output(values: np.ndarray, plan: SignaturePlan) -> np.ndarray:
    """The signature's output as uint8 images `(N, H, W, 3)` (PNG bytes decoded)."""
    if plan.encoded:
        return np.stack([decode_png(bytes(item)) for item in values.reshape(-1)])
    return to_uint8(values)


def image_payload(pixels: np.ndarray, encoded: bool) -> np.ndarray:
    """Images as a request sends them: PNG bytes (object array) or float32 pixels.

    Args:
        pixels: uint8 `(N, H, W, 3)`.
        encoded: Send PNG bytes (to a signature taking encoded images).

    Returns:
        object `(N,)` of PNG bytes, or float32 `(N, H, W, 3)`.
    """
    return np.array([encode_png(p) for p in pixels], dtype=object) if encoded else pixels.astype(np.float32)
