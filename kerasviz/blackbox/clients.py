"""`PredictClient` (gRPC) and `RestPredictClient` (REST): any image classifier served by TF Serving
or `kerasviz serve`, as a predictor for the black-box explanations.

They are the style clients' transports (same channels, TLS, tokens, retries with backoff on
UNAVAILABLE, `ServingError` with the server's status) asking a classifier signature instead:
float32 pixels go to the signature's image input (exactly, so a served model gives the same
numbers as in process) and its `probabilities` output comes back. Batches are split so that one
request stays under `max_message_bytes` (the server's message / body limit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import meta_graph_pb2

from ..checks import check_int, check_number
from ..errors import ParameterError
from ..serving.client import StyleClient
from ..serving.errors import ServingError
from ..serving.rest_client import RestStyleClient
from .predictors import Predictor

__all__ = ["ClassifierSignature", "PredictClient", "RestPredictClient", "read_classifier_signature"]

#: TF Serving's and `kerasviz serve`'s default message limit.
DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024
_REST_BYTES_PER_VALUE = 21  # a float32 as JSON text (shortest float64 repr) and its separator


@dataclass(frozen=True)
class ClassifierSignature:
    """Where the pixels go in and the probabilities come out.

    Attributes:
        name: The signature.
        input_key: Its float32 image input.
        output_key: Its `(N, classes)` probabilities output.
        input_size: `(H, W)` when the signature fixes it, else None.
    """

    name: str
    input_key: str
    output_key: str
    input_size: Optional[Tuple[int, int]]


def _dims(info: meta_graph_pb2.TensorInfo) -> Optional[list]:
    return None if info.tensor_shape.unknown_rank else [d.size for d in info.tensor_shape.dim]


def read_classifier_signature(signatures: Dict[str, meta_graph_pb2.SignatureDef], name: str) -> ClassifierSignature:
    """Find the image input and the probabilities output of a served signature.

    Args:
        signatures: The model's signatures (from GetModelMetadata).
        name: The signature to use.

    Returns:
        The `ClassifierSignature`.

    Raises:
        ServingError: FAILED_PRECONDITION: no such signature, or it does not take float32
            images `(N, H, W, 3)` / return `(N, classes)` probabilities.
    """
    if name not in signatures:
        raise ServingError(grpc.StatusCode.FAILED_PRECONDITION, f"the model has no signature {name!r}; it has {sorted(signatures)}")
    signature = signatures[name]
    images = [k for k, v in signature.inputs.items() if v.dtype == types_pb2.DT_FLOAT and (_dims(v) or [0] * 4)[-1:] in ([3], [-1])]
    input_key = "images" if "images" in images else images[0] if len(images) == 1 and len(signature.inputs) == 1 else None
    outputs = [k for k, v in signature.outputs.items() if v.dtype == types_pb2.DT_FLOAT and len(_dims(v) or [0, 0]) == 2]
    output_key = "probabilities" if "probabilities" in outputs else outputs[0] if len(outputs) == 1 else None
    if input_key is None or output_key is None:
        raise ServingError(
            grpc.StatusCode.FAILED_PRECONDITION,
            f"signature {name!r} is not an image classifier: it needs one float32 image input (N, H, W, 3) "
            f"and a float32 'probabilities' output (N, classes) (export it with kerasviz.export_classifier); "
            f"it has inputs {sorted(signature.inputs)} and outputs {sorted(signature.outputs)}",
        )
    dims = _dims(signature.inputs[input_key]) or []
    size = (dims[1], dims[2]) if len(dims) == 4 and dims[1] > 0 and dims[2] > 0 else None
    return ClassifierSignature(name, input_key, output_key, size)


class _ClassifierQueries:
    """What both predictor clients add to their style-client transport."""

    timeout: float
    max_message_bytes: int
    bytes_per_value: int
    _classifier: Optional[ClassifierSignature]

    def _setup(self, timeout: Any, max_message_bytes: Any) -> None:
        self.timeout = check_number(timeout, "timeout", low=0, open_low=True)
        self.max_message_bytes = check_int(max_message_bytes, "max_message_bytes", low=1024)
        self._classifier = None

    def classifier_signature(self) -> ClassifierSignature:
        """The served signature's image input and probabilities output (asked once).

        Returns:
            The `ClassifierSignature`.

        Raises:
            ServingError: the server is unreachable or the signature is not a classifier.
        """
        if self._classifier is None:
            signatures = self._retry(lambda: self._signatures(self.timeout))
            self._classifier = read_classifier_signature(signatures, self.signature or "serving_default")
        return self._classifier

    def max_batch(self, size: Tuple[int, int]) -> int:
        """Most images of `size` per request under `max_message_bytes` (90 %, leaving headroom).

        Args:
            size: `(H, W)`.

        Returns:
            >= 1.
        """
        per_image = size[0] * size[1] * 3 * self.bytes_per_value
        return max(1, int(0.9 * self.max_message_bytes) // per_image)

    def predict_probabilities(self, images: Any) -> np.ndarray:
        """The served probabilities of a batch (one request per `max_batch` images).

        Args:
            images: float `(N, H, W, 3)` pixels in [0, 255] (sent as float32, exactly).

        Returns:
            float32 `(N, classes)` as the server returned them (unchecked).

        Raises:
            ServingError: the server refused a request, timed out, or stayed unavailable.
        """
        plan = self.classifier_signature()
        pixels = np.ascontiguousarray(images, np.float32)
        step = self.max_batch(pixels.shape[1:3])
        parts = []
        for start in range(0, len(pixels), step):
            inputs = {plan.input_key: pixels[start : start + step]}
            parts.append(self._retry(lambda inputs=inputs: self._probabilities(plan, inputs)))
        return np.concatenate(parts)

    def as_predictor(self) -> Predictor:
        """This client as a checked `Predictor` (asks the server for the signature once).

        Returns:
            The predictor.

        Raises:
            ServingError: the server is unreachable or the signature is not a classifier.
        """
        plan = self.classifier_signature()
        describe = f"served model {self.model_name!r} (signature {plan.name!r})"
        batch = self.max_batch(plan.input_size) if plan.input_size else None
        predictor = Predictor(self.predict_probabilities, describe, plan.input_size, None, batch, remote=True)
        return predictor

    def __call__(self, images: Any) -> np.ndarray:
        """Same as `predict_probabilities` (so the client is a plain callable predictor too)."""
        return self.predict_probabilities(images)


def _check_label(version: Optional[int], version_label: Optional[str]) -> Optional[str]:
    if version_label is not None and (not isinstance(version_label, str) or not version_label or version is not None):
        raise ParameterError(
            "`version_label` must be a non-empty string, and not given together with `version`. "
            f"Received: version={version!r}, version_label={version_label!r}"
        )
    return version_label


class PredictClient(_ClassifierQueries, StyleClient):
    """gRPC predictor: an image classifier on TF Serving or `kerasviz serve`.

    Args:
        address: `host:port` of the gRPC API.
        model_name: The served model's name.
        signature: Signature taking float32 images and returning `probabilities`.
        version: A model version, or None for the newest (or the label's).
        version_label: A version label (e.g. "stable"); not with `version`.
        timeout: Seconds per request (gRPC deadline).
        token: Bearer token sent as `authorization` metadata.
        root_certificates: PEM CA bytes to trust (TLS).
        private_key: PEM client key for mutual TLS.
        certificate_chain: PEM client certificate for mutual TLS.
        retries: Extra attempts after UNAVAILABLE (exponential backoff from `backoff` seconds).
        backoff: First backoff in seconds.
        max_message_bytes: The server's message limit; requests are split to stay under it.

    Raises:
        ParameterError: a bad argument.
    """

    bytes_per_value = 4

    def __init__(
        self,
        address: str = "localhost:8500",
        model_name: str = "model",
        *,
        signature: str = "serving_default",
        version: Optional[int] = None,
        version_label: Optional[str] = None,
        timeout: float = 30.0,
        token: Optional[str] = None,
        root_certificates: Optional[bytes] = None,
        private_key: Optional[bytes] = None,
        certificate_chain: Optional[bytes] = None,
        retries: int = 3,
        backoff: float = 0.1,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        self.version_label = _check_label(version, version_label)
        self._setup(timeout, max_message_bytes)
        super().__init__(
            address, model_name, signature=signature, version=version, token=token,
            root_certificates=root_certificates, private_key=private_key,
            certificate_chain=certificate_chain, retries=retries, backoff=backoff,
        )

    def _spec(self, spec) -> None:
        super()._spec(spec)
        if self.version_label is not None:
            spec.version_label = self.version_label

    def _probabilities(self, plan: ClassifierSignature, inputs: Dict[str, np.ndarray]) -> np.ndarray:
        response = self._predict_request(plan.name, inputs, self.timeout, [plan.output_key])
        return tf.make_ndarray(response.outputs[plan.output_key])


class RestPredictClient(_ClassifierQueries, RestStyleClient):
    """REST predictor: an image classifier on TF Serving or `kerasviz serve`.

    Args:
        url: `http://host:port` or `https://host:port` of the REST API.
        model_name: The served model's name.
        signature: Signature taking float32 images and returning `probabilities`.
        version: A model version, or None for the newest (or the label's).
        version_label: A version label; not with `version`.
        timeout: Seconds per request.
        token: Bearer token sent in the `Authorization` header.
        ssl_context: TLS settings for `https`.
        retries: Extra attempts after UNAVAILABLE (503 or a refused connection).
        backoff: First backoff in seconds.
        max_message_bytes: The server's body limit; requests (JSON) are split to stay under it.

    Raises:
        ParameterError: a bad argument.
    """

    bytes_per_value = _REST_BYTES_PER_VALUE

    def __init__(
        self,
        url: str = "http://localhost:8501",
        model_name: str = "model",
        *,
        signature: str = "serving_default",
        version: Optional[int] = None,
        version_label: Optional[str] = None,
        timeout: float = 30.0,
        token: Optional[str] = None,
        ssl_context: Any = None,
        retries: int = 3,
        backoff: float = 0.1,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        self.version_label = _check_label(version, version_label)
        self._setup(timeout, max_message_bytes)
        super().__init__(
            url, model_name, signature=signature, version=version, token=token,
            ssl_context=ssl_context, retries=retries, backoff=backoff,
        )
        if self.version_label is not None:
            self._url = f"{url.rstrip('/')}/v1/models/{model_name}/labels/{self.version_label}"

    def _probabilities(self, plan: ClassifierSignature, inputs: Dict[str, np.ndarray]) -> np.ndarray:
        outputs = self._predict_all(plan.name, inputs, self.timeout)
        if plan.output_key not in outputs:
            raise ServingError(grpc.StatusCode.UNKNOWN, f"the reply has no {plan.output_key!r} output; it has {sorted(outputs)}")
        return outputs[plan.output_key]
