"""Clients for TF Serving (real or embedded): `StyleClient` over gRPC, `RestStyleClient` over HTTP.

The gRPC client lives here, the REST one in `rest_client.py` (re-exported); what they share is in
`client_base.py` and `style_payload.py`. Both ask the server for the model's signatures once, then send images as PNG bytes (to a signature
taking encoded images) or as whole-number pixels (to `serving_default`), never float JSON; retry
with exponential backoff on UNAVAILABLE only; and raise `ServingError` with the server's status.
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from .client_base import ClientBase
from .errors import ServingError
from .style_payload import SignaturePlan
from .tensors import array_to_proto, proto_to_array

__all__ = ["StyleClient"]

#: gRPC message limit of the client: the server's limit is the one that refuses requests.
CLIENT_MAX_BYTES = 256 * 1024 * 1024


class StyleClient(ClientBase):
    """gRPC client of a fast-style model on TF Serving or `kerasviz serve`.

    Args:
        target: `host:port` of the gRPC API.
        model_name: The served model's name.
        signature: Signature to call; None picks the one taking encoded images if there is one,
            else `serving_default`.
        version: A model version, or None for the newest.
        token: Bearer token sent as `authorization` metadata.
        root_certificates: PEM CA bytes to trust; given (or with a client key pair), TLS is used.
        private_key: PEM client key for mutual TLS.
        certificate_chain: PEM client certificate for mutual TLS.
        retries: Extra attempts after UNAVAILABLE (exponential backoff from `backoff` seconds).
            A request the server cancels (gRPC servers cancel running requests when they shut
            down) counts as UNAVAILABLE: this client never cancels its own calls.
        backoff: First backoff in seconds.

    Raises:
        ParameterError: a bad argument.
    """

    def __init__(
        self,
        target: str = "localhost:8500",
        model_name: str = "style",
        *,
        signature: Optional[str] = None,
        version: Optional[int] = None,
        token: Optional[str] = None,
        root_certificates: Optional[bytes] = None,
        private_key: Optional[bytes] = None,
        certificate_chain: Optional[bytes] = None,
        retries: int = 3,
        backoff: float = 0.1,
    ) -> None:
        super().__init__(model_name, signature, version, retries, backoff)
        options = [("grpc.max_receive_message_length", CLIENT_MAX_BYTES), ("grpc.max_send_message_length", CLIENT_MAX_BYTES)]
        if root_certificates or private_key or certificate_chain:
            credentials = grpc.ssl_channel_credentials(root_certificates, private_key, certificate_chain)
            self._channel = grpc.secure_channel(target, credentials, options=options)
        else:
            self._channel = grpc.insecure_channel(target, options=options)
        self._stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        self._metadata = (("authorization", f"Bearer {token}"),) if token else None

    def _spec(self, spec) -> None:
        spec.name = self.model_name
        if self.version is not None:
            spec.version.value = self.version

    def _call(self, method, request, timeout: float):
        try:
            return method(request, timeout=timeout, metadata=self._metadata)
        except grpc.RpcError as error:
            code, details = error.code(), error.details() or error.code().name
            if code == grpc.StatusCode.CANCELLED:
                # This client never cancels its own (blocking) calls, so the server cancelled the
                # request: gRPC servers do that to requests still running when they shut down.
                code, details = grpc.StatusCode.UNAVAILABLE, f"the server cancelled the request (shutting down?): {details}"
            raise ServingError(code, details) from None

    def _predict_request(
        self, signature: str, inputs: Dict[str, np.ndarray], timeout: float, outputs: Sequence[str] = ()
    ) -> predict_pb2.PredictResponse:
        request = predict_pb2.PredictRequest(output_filter=list(outputs))
        self._spec(request.model_spec)
        request.model_spec.signature_name = signature
        for key, array in inputs.items():
            request.inputs[key].CopyFrom(array_to_proto(array))
        return self._call(self._stub.Predict, request, timeout)

    def _signatures(self, timeout: float) -> Dict[str, meta_graph_pb2.SignatureDef]:
        request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        self._spec(request.model_spec)
        response = self._call(self._stub.GetModelMetadata, request, timeout)
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(signature_map)
        return dict(signature_map.signature_def)

    def _predict(self, plan: SignaturePlan, inputs: Dict[str, np.ndarray], timeout: float) -> np.ndarray:
        response = self._predict_request(plan.signature, inputs, timeout, [plan.output_key])
        return proto_to_array(plan.output_key, response.outputs[plan.output_key], plan.output_info)

    def _predict_all(self, signature: str, inputs: Dict[str, np.ndarray], timeout: float) -> Dict[str, np.ndarray]:
        response = self._predict_request(signature, inputs, timeout)
        return {key: tf.make_ndarray(proto) for key, proto in response.outputs.items()}

    def close(self) -> None:
        """Close the channel."""
        self._channel.close()

    def __enter__(self) -> "StyleClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
