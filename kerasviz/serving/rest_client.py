"""`RestStyleClient`: the style client over TF Serving's REST API (JSON, PNG bytes as b64),
one keep-alive connection per thread.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import ssl
import threading
import urllib.parse
from typing import Any, Dict, Optional, Sequence

import grpc
import numpy as np
from google.protobuf import json_format
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import get_model_metadata_pb2

from ..errors import ParameterError
from .client_base import ClientBase
from .errors import ServingError, code_from_http
from .style_payload import SignaturePlan

__all__ = ["RestStyleClient", "json_columns"]


def json_columns(inputs: Dict[str, np.ndarray], image_key: Optional[str] = None) -> Dict[str, Any]:
    """Request inputs as REST "columnar" JSON: bytes as `{"b64": ...}`, arrays as lists.

    Args:
        inputs: Arrays by input key (object arrays hold bytes).
        image_key: The pixel input, sent as whole numbers (compact JSON); `None`: none.

    Returns:
        A JSON-ready dict.
    """
    columns: Dict[str, Any] = {}
    for key, array in inputs.items():
        if array.dtype == object:
            columns[key] = [{"b64": base64.b64encode(item).decode("ascii")} for item in array]
        elif key == image_key:
            columns[key] = array.astype(np.uint8).tolist()  # whole numbers: compact JSON
        else:
            columns[key] = array.tolist()
    return columns


class RestStyleClient(ClientBase):
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

    def _predict(self, plan: SignaturePlan, inputs: Dict[str, np.ndarray], timeout: float) -> np.ndarray:
        columns = json_columns(inputs, plan.image_key)
        body = json.dumps({"signature_name": plan.signature, "inputs": columns}).encode()
        outputs = self._request(self._url + ":predict", body, timeout)["outputs"]
        if isinstance(outputs, dict) and set(outputs) != {"b64"} and plan.output_key in outputs:
            outputs = outputs[plan.output_key]
        if plan.encoded:
            return np.array([base64.b64decode(item["b64"]) for item in as_list(outputs)], dtype=object)
        return np.asarray(outputs, dtype=np.float32)

    def _predict_all(self, signature: str, inputs: Dict[str, np.ndarray], timeout: float) -> Dict[str, np.ndarray]:
        body = json.dumps({"signature_name": signature, "inputs": json_columns(inputs)}).encode()
        outputs = self._request(self._url + ":predict", body, timeout)["outputs"]
        if not isinstance(outputs, dict):
            raise ServingError(grpc.StatusCode.UNKNOWN, "the server returned one unnamed output; expected named outputs")
        arrays = {key: np.asarray(value) for key, value in outputs.items()}
        kinds = {"f": np.float32, "i": np.int32}
        return {key: a.astype(kinds[a.dtype.kind]) if a.dtype.kind in kinds else a for key, a in arrays.items()}


def as_list(values: Any) -> Sequence[Any]:
    """A JSON value as a list (one unbatched value becomes a list of one)."""
    return values if isinstance(values, list) else [values]
