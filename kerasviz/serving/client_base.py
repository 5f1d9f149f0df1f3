"""What the gRPC and REST style clients share: argument checks, signature discovery, request
building (`stylize`, `explain`) and retries with exponential backoff on UNAVAILABLE.

A transport subclass implements `_signatures`, `_predict` and `_predict_all`.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, Optional, TypeVar

import grpc
import numpy as np
from tensorflow.core.protobuf import meta_graph_pb2

from ..checks import check_bool, check_int, check_number
from ..errors import ParameterError
from ..images import as_image_batch, to_uint8
from .errors import ServingError
from .style_payload import SignaturePlan, decode_output, image_payload, make_plan, plan_style_weights

__all__ = ["ClientBase", "MAX_BACKOFF_S"]

T = TypeVar("T")
#: Longest sleep between retries, in seconds.
MAX_BACKOFF_S = 2.0


class ClientBase:
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
        self._plan: Optional[SignaturePlan] = None

    def _retry(self, call: Callable[[], T]) -> T:
        for attempt in range(self.retries + 1):
            try:
                return call()
            except ServingError as error:
                if error.code != grpc.StatusCode.UNAVAILABLE or attempt == self.retries:
                    raise
                time.sleep(min(self.backoff * 2**attempt, MAX_BACKOFF_S))
        raise AssertionError("unreachable")  # the loop returns or raises

    def _signatures(self, timeout: float) -> Dict[str, meta_graph_pb2.SignatureDef]:
        raise NotImplementedError

    def _predict(self, plan: SignaturePlan, inputs: Dict[str, np.ndarray], timeout: float) -> np.ndarray:
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
            self._plan = make_plan(self._retry(lambda: self._signatures(timeout)), self.signature)
        plan = self._plan
        inputs: Dict[str, np.ndarray] = {
            plan.image_key: image_payload(pixels, plan.encoded)
        }
        weights = plan_style_weights(style_weights, len(pixels), plan)
        if weights is not None:
            inputs[plan.weights_key] = weights
        result = decode_output(self._retry(lambda: self._predict(plan, inputs, timeout)), plan)
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
            "images": image_payload(pixels, encoded)
        }
        signature = "explain_bytes" if encoded else "serving_default"
        if target is not None:
            values = np.broadcast_to(np.asarray(target), (len(pixels),))
            inputs["target"] = np.array([check_int(v, "target", low=0) for v in values.tolist()], np.int32)
            signature = "explain_bytes_target" if encoded else "explain_target"
        outputs = self._retry(lambda: self._predict_all(signature, inputs, timeout))
        return {key: value[0] for key, value in outputs.items()} if single else outputs
