"""TF Serving's REST JSON: predict bodies (row `instances` / columnar `inputs`, `{"b64": ...}`) to
arrays, outputs to `predictions` / `outputs`, and the model status and metadata replies."""

from __future__ import annotations

import base64
import binascii
from typing import Any, Dict, Optional, Tuple

import grpc
import numpy as np
from google.protobuf import json_format
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import get_model_metadata_pb2

from .errors import ServingError
from .models import ModelManager
from .servable import Servable
from .tensors import numpy_dtype

__all__ = ["parse_predict_body", "format_predict_outputs", "status_json", "metadata_json"]

_INVALID = grpc.StatusCode.INVALID_ARGUMENT
#: Deepest JSON accepted: a tensor has at most 32 axes, plus the body, row and b64 objects.
MAX_JSON_DEPTH = 40


def _decode_strings(value: Any) -> Any:
    """Replace `{"b64": ...}` objects by bytes and text by UTF-8 bytes, recursively."""
    if isinstance(value, list):
        return [_decode_strings(item) for item in value]
    if isinstance(value, dict):
        if set(value) != {"b64"} or not isinstance(value["b64"], str):
            raise ServingError(_INVALID, 'a JSON object inside a tensor must be {"b64": "<base64 string>"}')
        try:
            return base64.b64decode(value["b64"], validate=True)
        except (binascii.Error, ValueError):
            raise ServingError(_INVALID, "a b64 value is not valid base64") from None
    return value.encode("utf-8") if isinstance(value, str) else value


def _to_array(name: str, value: Any, info: meta_graph_pb2.TensorInfo) -> np.ndarray:
    dtype = numpy_dtype(info)
    try:
        if dtype == np.dtype(object):
            array = np.array(_decode_strings(value), dtype=object)
            if not all(isinstance(item, bytes) for item in array.flat):
                raise ValueError("expected strings or {\"b64\": ...} objects, evenly nested")
            return array
        raw = np.asarray(value)  # numbers only: strings, objects and ragged lists are refused
        if raw.dtype.kind not in "biuf" or (dtype.kind in "iub" and raw.dtype.kind == "f"):
            raise ValueError(f"expected {dtype} numbers, evenly nested")
        if dtype.kind in "iu" and raw.size and (raw.min() < np.iinfo(dtype).min or raw.max() > np.iinfo(dtype).max):
            raise ValueError(f"values outside the {dtype} range")
        with np.errstate(over="ignore"):  # floats beyond float32 become inf and are refused later
            return raw.astype(dtype)
    except (ValueError, TypeError, OverflowError, RuntimeError) as error:  # RuntimeError: NumPy's rank limit
        raise ServingError(_INVALID, f"input '{name}' is not a {dtype} tensor: {error}") from None


def _check_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON nested deeper than `limit` (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            raise ServingError(_INVALID, f"the request body is nested deeper than {limit} levels")
        if isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())


def parse_predict_body(body: Any, signature: meta_graph_pb2.SignatureDef) -> Tuple[Dict[str, np.ndarray], bool]:
    """Turn a decoded predict request body into input arrays.

    Args:
        body: The JSON object (`instances` or `inputs`, optional `signature_name`).
        signature: The signature being called.

    Returns:
        `(inputs, row_format)`: input name -> array, and True for the `instances` format.

    Raises:
        ServingError: INVALID_ARGUMENT for a malformed body or values not fitting the dtypes.
    """
    _check_depth(body)
    if not isinstance(body, dict) or ("instances" in body) == ("inputs" in body):
        raise ServingError(_INVALID, 'the request body must be a JSON object with either "instances" or "inputs"')
    names = list(signature.inputs)
    if "instances" in body:
        instances = body["instances"]
        if not isinstance(instances, list) or not instances:
            raise ServingError(_INVALID, '"instances" must be a non-empty list')
        named = all(isinstance(row, dict) and set(row) != {"b64"} for row in instances)
        if not named:
            if len(names) != 1:
                raise ServingError(_INVALID, f"each instance must be an object with inputs {sorted(names)}")
            columns = {names[0]: instances}
        else:
            keys = set(instances[0])
            if any(set(row) != keys for row in instances):
                raise ServingError(_INVALID, "every instance must name the same inputs")
            columns = {key: [row[key] for row in instances] for key in keys}
        row_format = True
    else:
        inputs = body["inputs"]
        named = isinstance(inputs, dict) and set(inputs) != {"b64"}
        if not named and len(names) != 1:
            raise ServingError(_INVALID, f'"inputs" must be an object with inputs {sorted(names)}')
        columns = inputs if named else {names[0]: inputs}
        row_format = False
    if not columns:
        raise ServingError(_INVALID, f"empty request: signature expects inputs {sorted(names)}")
    arrays = {}
    for key, value in columns.items():
        if key not in signature.inputs:
            raise ServingError(_INVALID, f"unexpected input '{key}'; the signature has {sorted(names)}")
        arrays[key] = _to_array(key, value, signature.inputs[key])
    return arrays, row_format


def _json_value(name: str, array: np.ndarray) -> Any:
    if array.dtype != np.dtype(object):
        return array.tolist()

    def encode(item: bytes) -> Any:
        if not name.endswith("_bytes"):
            try:
                return item.decode("utf-8")
            except UnicodeDecodeError:
                pass
        return {"b64": base64.b64encode(item).decode("ascii")}

    return np.vectorize(encode, otypes=[object])(array).tolist() if array.size else []


def format_predict_outputs(outputs: Dict[str, np.ndarray], row_format: bool) -> Dict[str, Any]:
    """TF Serving's response body: `predictions` (row) or `outputs` (columnar).

    String outputs are written as `{"b64": ...}` when the output name ends in `_bytes` (TF
    Serving's rule) or the bytes are not UTF-8 text (e.g. PNG data).

    Args:
        outputs: Output name -> array.
        row_format: True when the request used `instances`.

    Returns:
        The JSON-ready dict.

    Raises:
        ServingError: INVALID_ARGUMENT when row format is asked for outputs without a common batch.
    """
    values = {key: _json_value(key, array) for key, array in outputs.items()}
    if not row_format:
        return {"outputs": next(iter(values.values())) if len(values) == 1 else values}
    batch = {array.shape[0] if array.ndim else None for array in outputs.values()}
    if len(batch) != 1 or None in batch:
        raise ServingError(_INVALID, 'outputs lack a common batch size; use the columnar "inputs" format')
    if len(values) == 1:
        return {"predictions": next(iter(values.values()))}
    n = batch.pop()
    return {"predictions": [{key: value[i] for key, value in values.items()} for i in range(n)]}


def status_json(manager: ModelManager, version: Optional[int]) -> Dict[str, Any]:
    """GetModelStatus as TF Serving's REST JSON (every known version, or one)."""
    return {
        "model_version_status": [
            {
                "version": str(s.version),
                "state": s.state,
                "status": {"error_code": s.code.name, "error_message": s.message},
            }
            for s in manager.statuses(version)
        ]
    }


def metadata_json(manager: ModelManager, servable: Servable) -> Dict[str, Any]:
    """GetModelMetadata as TF Serving's REST JSON (the `signature_def` map)."""
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    for key, signature in servable.signature_defs.items():
        signature_map.signature_def[key].CopyFrom(signature)
    return {
        "model_spec": {"name": manager.name, "signature_name": "", "version": str(servable.version)},
        "metadata": {"signature_def": json_format.MessageToDict(signature_map, preserving_proto_field_name=True)},
    }
