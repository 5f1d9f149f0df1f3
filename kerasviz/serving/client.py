"""Clients for TF Serving (real or embedded): `StyleClient` over gRPC, `RestStyleClient` over HTTP.

Both ask the server for the model's signatures once, then send images as PNG bytes (to a signature
taking encoded images) or as whole-number pixels (to `serving_default`), never float JSON; retry
with exponential backoff on UNAVAILABLE only; and raise `ServingError` with the server's status.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import socket
import ssl
import struct
import threading
import time
import urllib.parse
from dataclasses import dataclass
import zlib
from typing import Any, Callable, Dict, Optional, Sequence, TypeVar

import grpc
import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from PIL import Image
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from ..checks import check_bool, check_int, check_number
from ..errors import ParameterError
from ..faststyle.network import check_style_weights
from ..images import as_image_batch, to_uint8
from .errors import ServingError, code_from_http
from .tensors import array_to_proto, proto_to_array

__all__ = ["StyleClient", "RestStyleClient"]

_T = TypeVar("_T")
_CLIENT_MAX_BYTES = 256 * 1024 * 1024  # the server's limit is the one that refuses requests
_MAX_BACKOFF_S = 2.0
#: zlib level of the PNG bytes clients send (0 = stored: fastest, as large as the pixels).
PNG_COMPRESSION = 0


@dataclass(frozen=True)
class _Plan:
    """How to call one signature: its input / output keys and whether images travel as PNG bytes."""

    signature: str
    image_key: str
    output_key: str
    weights_key: Optional[str]
    n_styles: Optional[int]
    encoded: bool
    output_info: meta_graph_pb2.TensorInfo


def _make_plan(signatures: Dict[str, meta_graph_pb2.SignatureDef], wanted: Optional[str]) -> _Plan:
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
    return _Plan(wanted, image_keys[0], output_key, weights_key, n_styles, encoded, signature.outputs[output_key])


def _style_weights(style_weights: Any, n_images: int, plan: _Plan) -> Optional[np.ndarray]:
    if plan.weights_key is None:
        if style_weights is not None:
            raise ParameterError(f"This model has one style; drop `style_weights`. Received: style_weights={style_weights!r}")
        return None
    return check_style_weights(style_weights, plan.n_styles, n_images)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(image: np.ndarray, level: int = PNG_COMPRESSION) -> bytes:
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
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), level))
        + _png_chunk(b"IEND", b"")
    )


def _decode_png(data: bytes) -> np.ndarray:
    """A PNG the server sent, as RGB uint8 (Pillow's decoder, bounded by its pixel limit)."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def _decode_output(values: np.ndarray, plan: _Plan) -> np.ndarray:
    if plan.encoded:
        return np.stack([_decode_png(bytes(item)) for item in values.reshape(-1)])
    return to_uint8(values)


class _Client:
    """What both clients share: signature discovery, request building, retries."""

    def __init__(self, model_name: str, signature: Optional[str], version: Optional[int], retries: int, backoff: float) -> None:
        if not isinstance(model_name, str) or not model_name:
            raise ParameterError(f"`model_name` must be a non-empty string. Received: model_name={model_name!r}")
        if not isinstance(retries, int) or retries < 0 or not backoff >= 0:
            raise ParameterError(f"`retries` must be an int >= 0 and `backoff` >= 0. Received: retries={retries!r}, backoff={backoff!r}")
        if version is not None and (not isinstance(version, int) or version < 0):
            raise ParameterError(f"`version` must be a non-negative int or None. Received: version={version!r}")
        self.model_name = model_name
        self.signature = signature
        self.version = version
        self.retries = retries
        self.backoff = backoff
        self._plan: Optional[_Plan] = None

    def _retry(self, call: Callable[[], _T]) -> _T:
        for attempt in range(self.retries + 1):
            try:
                return call()
            except ServingError as error:
                if error.code != grpc.StatusCode.UNAVAILABLE or attempt == self.retries:
                    raise
                time.sleep(min(self.backoff * 2**attempt, _MAX_BACKOFF_S))
        raise AssertionError("unreachable")  # the loop returns or raises

    def _signatures(self, timeout: float) -> Dict[str, meta_graph_pb2.SignatureDef]:
        raise NotImplementedError

    def _predict(self, plan: _Plan, inputs: Dict[str, np.ndarray], timeout: float) -> np.ndarray:
        raise NotImplementedError

    def stylize(self, images: Any, style_weights: Any = None, timeout: float = 30.0) -> np.ndarray:
        """Stylize images on the server.

        Args:
            images: `(H, W, 3)` or `(N, H, W, 3)` uint8 or float `[0, 255]` (sent as uint8).
            style_weights: For multi-style models: `(n_styles,)` or `(N, n_styles)`, each row
                non-negative and summing to 1 (None = style 0); None for single-style models.
            timeout: Seconds per attempt (gRPC deadline / HTTP timeout).

        Returns:
            uint8 `(H, W, 3)` or `(N, H, W, 3)` (single in, single out).

        Raises:
            ImageError: `images` are not images.
            ParameterError: `style_weights` do not fit the model, or a bad timeout.
            ServingError: the server refused the request (status code and message inside) or
                stayed UNAVAILABLE through every retry.
        """
        if not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ParameterError(f"`timeout` must be a positive number of seconds. Received: timeout={timeout!r}")
        batch, single = as_image_batch(images)
        pixels = to_uint8(batch)
        if self._plan is None:
            self._plan = _make_plan(self._retry(lambda: self._signatures(timeout)), self.signature)
        plan = self._plan
        inputs: Dict[str, np.ndarray] = {
            plan.image_key: np.array([_png(p) for p in pixels], dtype=object) if plan.encoded else pixels.astype(np.float32)
        }
        weights = _style_weights(style_weights, len(pixels), plan)
        if weights is not None:
            inputs[plan.weights_key] = weights
        result = _decode_output(self._retry(lambda: self._predict(plan, inputs, timeout)), plan)
        return result[0] if single else result

    def _predict_all(self, signature: str, inputs: Dict[str, np.ndarray], timeout: float) -> Dict[str, np.ndarray]:
        raise NotImplementedError

    def explain(
        self, images: Any, target: Any = None, *, encoded: bool = True, timeout: float = 30.0
    ) -> Dict[str, np.ndarray]:
        """Ask a model exported with `export_explainer` which pixels made it say its class.

        Args:
            images: `(H, W, 3)` or `(N, H, W, 3)` uint8 or float `[0, 255]` (sent as uint8); at
                the model's input size unless `encoded` (the server then resizes).
            target: Class to explain, one per image, or None for each image's top class.
            encoded: Send PNG bytes to `explain_bytes[_target]` (small requests) instead of
                pixels to `serving_default` / `explain_target`.
            timeout: Seconds per attempt.

        Returns:
            `heatmaps` float32 `(N, H, W)` in [0, 1], `target` int32 `(N,)`, `classes` int32
            `(N, top_k)`, `logits` float32 `(N, top_k)` (and `attributions` `(N, H, W, 3)` for
            integrated gradients); without the batch axis for a single image.

        Raises:
            ImageError: `images` are not images.
            ParameterError: a bad target or timeout.
            ServingError: the server refused the request (e.g. FAILED_PRECONDITION: the model
                is not an explainer).
        """
        timeout = check_number(timeout, "timeout", low=0, open_low=True)
        check_bool(encoded, "encoded")
        batch, single = as_image_batch(images)
        pixels = to_uint8(batch)
        inputs: Dict[str, np.ndarray] = {
            "images": np.array([_png(p) for p in pixels], dtype=object) if encoded else pixels.astype(np.float32)
        }
        signature = "explain_bytes" if encoded else "serving_default"
        if target is not None:
            values = np.broadcast_to(np.asarray(target), (len(pixels),))
            inputs["target"] = np.array([check_int(v, "target", low=0) for v in values.tolist()], np.int32)
            signature = "explain_bytes_target" if encoded else "explain_target"
        outputs = self._retry(lambda: self._predict_all(signature, inputs, timeout))
        return {key: value[0] for key, value in outputs.items()} if single else outputs


class StyleClient(_Client):
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
        options = [("grpc.max_receive_message_length", _CLIENT_MAX_BYTES), ("grpc.max_send_message_length", _CLIENT_MAX_BYTES)]
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

    def _signatures(self, timeout: float) -> Dict[str, meta_graph_pb2.SignatureDef]:
        request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        self._spec(request.model_spec)
        response = self._call(self._stub.GetModelMetadata, request, timeout)
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(signature_map)
        return dict(signature_map.signature_def)

    def _predict(self, plan: _Plan, inputs: Dict[str, np.ndarray], timeout: float) -> np.ndarray:
        request = predict_pb2.PredictRequest(output_filter=[plan.output_key])
        self._spec(request.model_spec)
        request.model_spec.signature_name = plan.signature
        for key, array in inputs.items():
            request.inputs[key].CopyFrom(array_to_proto(array))
        response = self._call(self._stub.Predict, request, timeout)
        return proto_to_array(plan.output_key, response.outputs[plan.output_key], plan.output_info)

    def _predict_all(self, signature: str, inputs: Dict[str, np.ndarray], timeout: float) -> Dict[str, np.ndarray]:
        request = predict_pb2.PredictRequest()
        self._spec(request.model_spec)
        request.model_spec.signature_name = signature
        for key, array in inputs.items():
            request.inputs[key].CopyFrom(array_to_proto(array))
        response = self._call(self._stub.Predict, request, timeout)
        return {key: tf.make_ndarray(proto) for key, proto in response.outputs.items()}

    def close(self) -> None:
        """Close the channel."""
        self._channel.close()

    def __enter__(self) -> "StyleClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class RestStyleClient(_Client):
    """REST client of a fast-style model on TF Serving or `kerasviz serve`.

    Args:
        base_url: `http://host:port` or `https://host:port` of the REST API.
        model_name: The served model's name.
        signature: Signature to call (None: as `StyleClient`).
        version: A model version, or None for the newest.
        token: Bearer token sent in the `Authorization` header.
        ssl_context: TLS settings for `https` (e.g. `ssl.create_default_context(cafile=...)`).
        retries: Extra attempts after UNAVAILABLE (503 or a refused connection).
        backoff: First backoff in seconds.

    Raises:
        ParameterError: a bad argument.
    """

    def __init__(
        self,
        base_url: str = "http://localhost:8501",
        model_name: str = "style",
        *,
        signature: Optional[str] = None,
        version: Optional[int] = None,
        token: Optional[str] = None,
        ssl_context: Optional[ssl.SSLContext] = None,
        retries: int = 3,
        backoff: float = 0.1,
    ) -> None:
        super().__init__(model_name, signature, version, retries, backoff)
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ParameterError(f"`base_url` must start with http:// or https://. Received: base_url={base_url!r}")
        path = f"/v1/models/{model_name}" + (f"/versions/{version}" if version is not None else "")
        self._url = base_url.rstrip("/") + path
        self._headers = {"Content-Type": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._ssl = ssl_context
        self._address = urllib.parse.urlsplit(base_url)
        self._local = threading.local()

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        """This thread's keep-alive connection (one per thread: clients are shared across threads)."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            host, port = self._address.hostname, self._address.port
            if self._address.scheme == "https":
                connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=self._ssl)
            else:
                connection = http.client.HTTPConnection(host, port, timeout=timeout)
            self._local.connection = connection
        connection.timeout = timeout
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        return connection

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def _request(self, url: str, body: Optional[bytes], timeout: float) -> Any:
        parts = urllib.parse.urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        for attempt in range(2):
            connection = self._connection(timeout)
            reused = connection.sock is not None
            try:
                connection.request("POST" if body is not None else "GET", path, body=body, headers=self._headers)
                reply = connection.getresponse()
                data = reply.read()
            except (socket.timeout, TimeoutError):
                self._drop_connection()
                raise ServingError(grpc.StatusCode.DEADLINE_EXCEEDED, f"no reply within {timeout} s") from None
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as error:
                self._drop_connection()
                if reused and attempt == 0:
                    continue  # the server closed an idle keep-alive connection: one fresh try
                raise ServingError(grpc.StatusCode.UNAVAILABLE, f"cannot reach {url}: {error}") from None
            except (http.client.HTTPException, OSError) as error:
                self._drop_connection()
                raise ServingError(grpc.StatusCode.UNAVAILABLE, f"cannot reach {url}: {error}") from None
            if reply.will_close:
                self._drop_connection()
            if reply.status >= 400:
                try:
                    message = json.loads(data).get("error", reply.reason)
                except (ValueError, AttributeError):
                    message = reply.reason
                raise ServingError(code_from_http(reply.status), str(message), http_status=reply.status)
            return json.loads(data)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _signatures(self, timeout: float) -> Dict[str, meta_graph_pb2.SignatureDef]:
        reply = self._request(self._url + "/metadata", None, timeout)
        signature_map = json_format.ParseDict(
            reply["metadata"]["signature_def"], get_model_metadata_pb2.SignatureDefMap(), ignore_unknown_fields=True
        )
        return dict(signature_map.signature_def)

    def _predict(self, plan: _Plan, inputs: Dict[str, np.ndarray], timeout: float) -> np.ndarray:
        columns: Dict[str, Any] = {}
        for key, array in inputs.items():
            if array.dtype == object:
                columns[key] = [{"b64": base64.b64encode(item).decode("ascii")} for item in array]
            elif key == plan.image_key:
                columns[key] = array.astype(np.uint8).tolist()  # whole numbers: compact JSON
            else:
                columns[key] = array.tolist()
        body = json.dumps({"signature_name": plan.signature, "inputs": columns}).encode()
        outputs = self._request(self._url + ":predict", body, timeout)["outputs"]
        if isinstance(outputs, dict) and set(outputs) != {"b64"} and plan.output_key in outputs:
            outputs = outputs[plan.output_key]
        if plan.encoded:
            return np.array([base64.b64decode(item["b64"]) for item in _as_list(outputs)], dtype=object)
        return np.asarray(outputs, dtype=np.float32)


    def _predict_all(self, signature: str, inputs: Dict[str, np.ndarray], timeout: float) -> Dict[str, np.ndarray]:
        columns: Dict[str, Any] = {}
        for key, array in inputs.items():
            if array.dtype == object:
                columns[key] = [{"b64": base64.b64encode(item).decode("ascii")} for item in array]
            else:
                columns[key] = array.tolist()
        body = json.dumps({"signature_name": signature, "inputs": columns}).encode()
        outputs = self._request(self._url + ":predict", body, timeout)["outputs"]
        if not isinstance(outputs, dict):
            raise ServingError(grpc.StatusCode.UNKNOWN, "the server returned one unnamed output; expected named outputs")
        arrays = {key: np.asarray(value) for key, value in outputs.items()}
        kinds = {"f": np.float32, "i": np.int32}
        return {key: a.astype(kinds[a.dtype.kind]) if a.dtype.kind in kinds else a for key, a in arrays.items()}


def _as_list(values: Any) -> Sequence[Any]:
    return values if isinstance(values, list) else [values]
