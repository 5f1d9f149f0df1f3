"""Signatures and tensors of a served model: reading `SignatureDef`s, TensorProto <-> NumPy, and
checking a request's inputs against the signature before anything reaches TensorFlow."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterable, Mapping

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2

from .errors import ServingError

__all__ = [
    "read_signature_defs",
    "numpy_dtype",
    "check_input_names",
    "proto_to_array",
    "array_to_proto",
    "validate_inputs",
]

_INVALID = grpc.StatusCode.INVALID_ARGUMENT


def read_signature_defs(version_dir: Path) -> Dict[str, meta_graph_pb2.SignatureDef]:
    """The public `SignatureDef`s of a SavedModel, exactly as TF Serving reports them.

    Args:
        version_dir: A SavedModel folder (holding `saved_model.pb`).

    Returns:
        Signature name -> `SignatureDef`, without TensorFlow's internal `__...__` entries.

    Raises:
        OSError: `saved_model.pb` cannot be read.
        google.protobuf.message.DecodeError: it is not a SavedModel proto.
    """
    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString((Path(version_dir) / "saved_model.pb").read_bytes())
    if not saved_model.meta_graphs:
        raise ValueError(f"{version_dir} holds a SavedModel without a MetaGraph")
    signatures = saved_model.meta_graphs[0].signature_def
    return {name: signatures[name] for name in signatures if not name.startswith("__")}


def numpy_dtype(info: meta_graph_pb2.TensorInfo) -> np.dtype:
    """The NumPy dtype of a signature tensor (`object` for strings).

    Args:
        info: A signature input or output.

    Returns:
        The dtype arrays for this tensor must have.
    """
    if info.dtype == types_pb2.DT_STRING:
        return np.dtype(object)
    return np.dtype(tf.as_dtype(info.dtype).as_numpy_dtype)


def check_input_names(signature_name: str, signature: meta_graph_pb2.SignatureDef, names: Iterable[str]) -> None:
    """Refuse an empty request, missing inputs and inputs the signature does not have.

    Args:
        signature_name: Used in messages.
        signature: The signature the request calls.
        names: Input names in the request.

    Raises:
        ServingError: INVALID_ARGUMENT.
    """
    names = set(names)
    expected = set(signature.inputs)
    if not names:
        raise ServingError(_INVALID, f"empty request: signature '{signature_name}' expects inputs {sorted(expected)}")
    missing, extra = sorted(expected - names), sorted(names - expected)
    if missing or extra:
        raise ServingError(
            _INVALID,
            f"signature '{signature_name}' expects inputs {sorted(expected)}; missing {missing}, "
            f"unexpected {extra}",
        )


# The repeated field holding each dtype's values (tensor.proto); any other field is refused.
_VALUE_FIELD = {
    types_pb2.DT_FLOAT: "float_val",
    types_pb2.DT_DOUBLE: "double_val",
    types_pb2.DT_HALF: "half_val",
    types_pb2.DT_BFLOAT16: "half_val",
    types_pb2.DT_INT8: "int_val",
    types_pb2.DT_INT16: "int_val",
    types_pb2.DT_INT32: "int_val",
    types_pb2.DT_UINT8: "int_val",
    types_pb2.DT_UINT16: "int_val",
    types_pb2.DT_INT64: "int64_val",
    types_pb2.DT_UINT32: "uint32_val",
    types_pb2.DT_UINT64: "uint64_val",
    types_pb2.DT_BOOL: "bool_val",
    types_pb2.DT_STRING: "string_val",
    types_pb2.DT_COMPLEX64: "scomplex_val",
    types_pb2.DT_COMPLEX128: "dcomplex_val",
}


def _value_count(name: str, proto: tensor_pb2.TensorProto) -> int:
    """The number of values in the proto's one value field, after refusing values in a field of
    another dtype or in two places at once (TensorFlow would read zeros then, TF Serving refuses)."""
    fields = [field.name for field, _ in proto.ListFields() if field.name.endswith("_val")]
    if proto.tensor_content:
        fields.append("tensor_content")
    dtype = types_pb2.DataType.Name(proto.dtype)
    if len(fields) > 1:
        raise ServingError(_INVALID, f"input '{name}' has values in several fields {fields}; send one")
    expected = _VALUE_FIELD.get(proto.dtype)
    if fields and fields[0] not in ("tensor_content", expected):
        raise ServingError(
            _INVALID, f"input '{name}' is {dtype} but its values are in '{fields[0]}'; {dtype} values go in '{expected}'"
        )
    return len(getattr(proto, expected)) if fields and expected else 0


def proto_to_array(name: str, proto: tensor_pb2.TensorProto, info: meta_graph_pb2.TensorInfo) -> np.ndarray:
    """Decode one request TensorProto after checking its dtype and that its data fills its shape.

    TensorFlow would broadcast a short value list over a huge declared shape; an exact element
    count is required here so a tiny request cannot allocate gigabytes.

    Args:
        name: The input's name (for messages).
        proto: The request's tensor.
        info: The signature's description of this input.

    Returns:
        The array, dtype `numpy_dtype(info)`.

    Raises:
        ServingError: INVALID_ARGUMENT for a wrong dtype, an unknown or negative shape, values in
            the field of another dtype or in two fields at once, or data that does not match the
            shape.
    """
    if proto.dtype != info.dtype:
        raise ServingError(
            _INVALID,
            f"input '{name}' must be {types_pb2.DataType.Name(info.dtype)}, "
            f"got {types_pb2.DataType.Name(proto.dtype)}",
        )
    if proto.tensor_shape.unknown_rank:
        raise ServingError(_INVALID, f"input '{name}' has no shape")
    shape = [d.size for d in proto.tensor_shape.dim]
    if any(size < 0 for size in shape):
        raise ServingError(_INVALID, f"input '{name}' has a negative dimension: {shape}")
    count = int(np.prod(shape, dtype=np.int64))
    values = _value_count(name, proto)
    if proto.tensor_content:
        itemsize = numpy_dtype(info).itemsize
        received = len(proto.tensor_content) // itemsize if proto.dtype != types_pb2.DT_STRING else -1
        if received != count or len(proto.tensor_content) % itemsize:
            raise ServingError(_INVALID, f"input '{name}': tensor_content does not match shape {shape}")
    elif values != count:
        raise ServingError(_INVALID, f"input '{name}': {values} values do not fill shape {shape}")
    try:
        return tf.make_ndarray(proto)
    except (TypeError, ValueError) as error:
        raise ServingError(_INVALID, f"input '{name}' cannot be decoded: {error}") from None


def array_to_proto(array: np.ndarray) -> tensor_pb2.TensorProto:
    """Encode an array (numbers, or `object` / `bytes` for strings) as a TensorProto.

    Args:
        array: Any NumPy array.

    Returns:
        The TensorProto.
    """
    return tf.make_tensor_proto(array)


def _expected_shape(info: meta_graph_pb2.TensorInfo):
    if info.tensor_shape.unknown_rank:
        return None
    return [d.size for d in info.tensor_shape.dim]


def validate_inputs(
    signature_name: str, signature: meta_graph_pb2.SignatureDef, arrays: Mapping[str, np.ndarray]
) -> None:
    """Check decoded inputs against the signature: names, dtype, rank, fixed sizes, batch, finiteness.

    Args:
        signature_name: Used in messages.
        signature: The signature called.
        arrays: Input name -> array.

    Raises:
        ServingError: INVALID_ARGUMENT, saying which input and what was wrong.
    """
    check_input_names(signature_name, signature, arrays)
    batch_sizes = {}
    for name, array in arrays.items():
        info = signature.inputs[name]
        expected_dtype = numpy_dtype(info)
        if array.dtype != expected_dtype:
            raise ServingError(_INVALID, f"input '{name}' must be {expected_dtype}, got {array.dtype}")
        shape = _expected_shape(info)
        if shape is not None:
            if array.ndim != len(shape):
                raise ServingError(
                    _INVALID,
                    f"input '{name}' must have rank {len(shape)} (shape {shape}, -1 = any), got "
                    f"shape {list(array.shape)}",
                )
            if any(want not in (-1, got) for want, got in zip(shape, array.shape, strict=True)):
                raise ServingError(
                    _INVALID, f"input '{name}' must have shape {shape} (-1 = any), got {list(array.shape)}"
                )
        if array.size == 0:
            raise ServingError(_INVALID, f"input '{name}' is empty: shape {list(array.shape)}")
        if array.ndim:
            batch_sizes[name] = array.shape[0]
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ServingError(_INVALID, f"input '{name}' contains NaN or infinity")
    if len(set(batch_sizes.values())) > 1:
        raise ServingError(_INVALID, f"inputs disagree on the batch size: {batch_sizes}")
