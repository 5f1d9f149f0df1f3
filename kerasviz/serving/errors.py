"""`ServingError`: a gRPC status code and message, raised by the server's request path and by clients."""

from __future__ import annotations

from typing import Optional

import grpc

from ..errors import KerasvizError

__all__ = ["ServingError", "HTTP_STATUS", "code_from_http"]

# The HTTP status TF Serving's REST API returns for each gRPC / TensorFlow status code.
HTTP_STATUS = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}


def code_from_http(status: int) -> grpc.StatusCode:
    """The status code behind a REST reply's HTTP status (400 reads as INVALID_ARGUMENT; 413 as
    RESOURCE_EXHAUSTED).

    Args:
        status: HTTP status.

    Returns:
        The gRPC status code.
    """
    if status == 413:
        return grpc.StatusCode.RESOURCE_EXHAUSTED
    for code, http in HTTP_STATUS.items():
        if http == status and code not in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.OUT_OF_RANGE):
            return code
    return grpc.StatusCode.UNKNOWN


class ServingError(KerasvizError, RuntimeError):
    """A request failed: gRPC status `code`, the server's `message`, and the REST `http_status`.

    Args:
        code: The gRPC status code.
        message: The server's message.
        http_status: The HTTP status (default: TF Serving's status for `code`).
    """

    def __init__(self, code: grpc.StatusCode, message: str, http_status: Optional[int] = None) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status if http_status is not None else HTTP_STATUS.get(code, 500)
