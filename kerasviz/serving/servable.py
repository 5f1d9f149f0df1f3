"""One loaded SavedModel version: its signatures, a validated `predict` that can be cancelled between
chunks of a batch, and its warm-up records.

A request's `Call` carries its deadline and a way to ask whether the client has gone (a cancelled
gRPC call, a closed REST connection). A batch is run in chunks (one image at a time for encoded
images, a few at a time for pixels), and the call is checked between chunks, so abandoned requests
stop within one chunk instead of running to the end.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional

import grpc
import numpy as np
import tensorflow as tf
from google.protobuf.message import DecodeError
from tensorflow_serving.apis import prediction_log_pb2

from .errors import ServingError
from .tensors import proto_to_array, read_signature_defs, validate_inputs
from .versioned_export import WARMUP_FILE

__all__ = ["Call", "Servable", "MAX_WARMUP_RECORDS", "first_line"]

MAX_WARMUP_RECORDS = 1000  # TF Serving's own cap on warm-up records
PIXEL_CHUNK = 8  # images per call between cancellation checks (encoded images: 1)
_FUNCTION_NODE = re.compile(r"\{\{[^}]*\}\}\s*")
# Lines of a graph-mode error before its reason (the stack lines are indented).
_GRAPH_ERROR_HEADERS = ("Graph execution error:", "Detected at node", "<stack traces unavailable>")
_log = logging.getLogger(__name__)


def first_line(text: str) -> str:
    """The first informative line of an error message: without TensorFlow's `{{function_node ...}}`
    prefixes, and past a graph error's "Graph execution error:" / "Detected at node ..." header and
    stack lines to the check's own message (an `Assert`'s text, an op's complaint).

    Args:
        text: Any message.

    Returns:
        At most 500 characters.
    """
    lines = _FUNCTION_NODE.sub("", text or "").splitlines()
    useful = [line.strip() for line in lines if line.strip() and not line[:1].isspace()]
    reasons = [line for line in useful if not line.startswith(_GRAPH_ERROR_HEADERS)]
    return (reasons or useful or ["unknown error"])[0][:500]


@dataclass
class Call:
    """What a request's transport knows: its deadline and whether the client went away.

    Attributes:
        deadline: `time.monotonic()` seconds after which the work is abandoned (None = none).
        is_cancelled: Returns True once the client cancelled or disconnected.
    """

    deadline: Optional[float] = None
    is_cancelled: Callable[[], bool] = field(default=lambda: False)

    def check(self) -> None:
        """Raise CANCELLED or DEADLINE_EXCEEDED when the request should stop now.

        Raises:
            ServingError: CANCELLED / DEADLINE_EXCEEDED.
        """
        if self.is_cancelled():
            raise ServingError(grpc.StatusCode.CANCELLED, "the client cancelled the request")
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise ServingError(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline exceeded")


def _batch_axis(signature) -> bool:
    """True when every input and output has a variable leading (batch) axis."""
    infos = list(signature.inputs.values()) + list(signature.outputs.values())
    return bool(infos) and all(
        not i.tensor_shape.unknown_rank and i.tensor_shape.dim and i.tensor_shape.dim[0].size == -1 for i in infos
    )


class Servable:
    """One loaded SavedModel version: its signatures and a validated `predict`.

    Args:
        version: The version number.
        path: The version folder.

    Raises:
        Exception: whatever TensorFlow raises for a folder that is not a loadable SavedModel.
    """

    def __init__(self, version: int, path: Path) -> None:
        self.version = version
        self.path = path
        self.signature_defs = read_signature_defs(path)
        self._loaded = tf.saved_model.load(str(path))
        self._functions = {name: self._loaded.signatures[name] for name in self.signature_defs}
        self.batchable = {name: _batch_axis(sig) for name, sig in self.signature_defs.items()}

    def signature(self, name: str):
        """The `SignatureDef` called `name` (empty = `serving_default`).

        Args:
            name: Signature name.

        Returns:
            `(resolved name, SignatureDef)`.

        Raises:
            ServingError: FAILED_PRECONDITION for a signature the model does not have.
        """
        name = name or tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY
        if name not in self.signature_defs:
            raise ServingError(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"Serving signature name: \"{name}\" not found in signature def; the model has "
                f"{sorted(self.signature_defs)}",
            )
        return name, self.signature_defs[name]

    def run(self, name: str, inputs: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Call signature `name` once on already validated inputs.

        Args:
            name: A signature name of this model.
            inputs: Input name -> array.

        Returns:
            Every output, name -> array.

        Raises:
            ServingError: INVALID_ARGUMENT (TensorFlow refused the values), INTERNAL (anything else).
        """
        try:
            outputs = self._functions[name](**{k: tf.constant(v) for k, v in inputs.items()})
            return {key: value.numpy() for key, value in outputs.items()}
        except tf.errors.InvalidArgumentError as error:
            raise ServingError(grpc.StatusCode.INVALID_ARGUMENT, first_line(error.message)) from None
        except (tf.errors.OpError, ValueError, TypeError) as error:
            _log.exception("signature %s of version %s failed", name, self.version)
            raise ServingError(grpc.StatusCode.INTERNAL, first_line(str(error))) from None

    def predict(
        self,
        signature_name: str,
        inputs: Mapping[str, np.ndarray],
        output_filter: Optional[List[str]] = None,
        call: Optional[Call] = None,
        batcher: Any = None,
    ) -> Dict[str, np.ndarray]:
        """Validate inputs against the signature, run it, and return the (filtered) outputs.

        Args:
            signature_name: Signature to call ("" = `serving_default`).
            inputs: Input name -> array (already decoded).
            output_filter: Output names to return (empty = all).
            call: The request's deadline and cancellation (checked between chunks).
            batcher: A `BatchScheduler` merging same-shaped requests, or None.

        Returns:
            Output name -> array.

        Raises:
            ServingError: FAILED_PRECONDITION (signature), INVALID_ARGUMENT (inputs, filter, or
                TensorFlow refusing the values), CANCELLED / DEADLINE_EXCEEDED, INTERNAL.
        """
        name, signature = self.signature(signature_name)
        validate_inputs(name, signature, inputs)
        unknown = sorted(set(output_filter or ()) - set(signature.outputs))
        if unknown:
            raise ServingError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"output_filter names {unknown} that signature '{name}' does not have "
                f"({sorted(signature.outputs)})",
            )
        call = call or Call()
        call.check()
        if batcher is not None and self.batchable[name]:
            outputs = batcher.run(self, name, inputs, call)
        else:
            outputs = self._run_chunked(name, inputs, call)
        keep = output_filter or list(signature.outputs)
        return {key: outputs[key] for key in keep}

    def _run_chunked(self, name: str, inputs: Mapping[str, np.ndarray], call: Call) -> Dict[str, np.ndarray]:
        size = len(next(iter(inputs.values()))) if self.batchable[name] else 1
        chunk = 1 if any(a.dtype == object for a in inputs.values()) else PIXEL_CHUNK
        if size <= chunk:
            return self.run(name, inputs)
        parts = []
        for start in range(0, size, chunk):
            call.check()
            parts.append(self.run(name, {k: v[start : start + chunk] for k, v in inputs.items()}))
        return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}

    def warm_up(self) -> int:
        """Replay the version's `assets.extra/tf_serving_warmup_requests` Predict records.

        Returns:
            The number of records replayed.

        Raises:
            ServingError: DATA_LOSS for a corrupt file or record; the failing record's status
                otherwise (the version is then not served).
        """
        path = self.path / WARMUP_FILE
        if not path.is_file():
            return 0
        count = 0
        try:
            for record in tf.data.TFRecordDataset(str(path)).take(MAX_WARMUP_RECORDS):
                self._replay(prediction_log_pb2.PredictionLog.FromString(record.numpy()))
                count += 1
        except (tf.errors.DataLossError, DecodeError) as error:
            raise ServingError(
                grpc.StatusCode.DATA_LOSS, f"the warm-up file is corrupt: {first_line(str(error))}"
            ) from None
        return count

    def _replay(self, log: prediction_log_pb2.PredictionLog) -> None:
        if not log.HasField("predict_log"):
            raise ServingError(grpc.StatusCode.UNIMPLEMENTED, "only Predict warm-up records are supported")
        request = log.predict_log.request
        _, signature = self.signature(request.model_spec.signature_name)
        arrays = {}
        for key, proto in request.inputs.items():
            if key not in signature.inputs:
                raise ServingError(grpc.StatusCode.INVALID_ARGUMENT, f"warm-up record has unknown input '{key}'")
            arrays[key] = proto_to_array(key, proto, signature.inputs[key])
        self.predict(request.model_spec.signature_name, arrays, list(request.output_filter))
