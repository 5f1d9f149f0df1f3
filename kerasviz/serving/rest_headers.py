"""A time limit on a REST request's headers (slow-header "slowloris" clients).

aiohttp times nothing out while a request's headers arrive, so a client sending one header byte
every few seconds holds its connection forever (the body has `body_timeout_seconds`). Each
connection's protocol is wrapped in `HeaderDeadline`: from the moment the connection opens, or
the first byte of the next request on a kept-alive connection arrives, the headers must be
complete within `header_timeout_seconds`; otherwise the server answers 408 and closes the
connection. `header_deadline_middleware` marks the headers complete (aiohttp runs the handler as
soon as they are parsed) and the request finished. `HeaderDeadlineSite` serves an app this way.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Optional

from aiohttp import web

__all__ = ["HeaderDeadline", "HeaderDeadlineSite", "header_deadline_middleware"]

_TIMEOUT_BODY = b'{ "error": "the request headers did not arrive in time" }'
_TIMEOUT_REPLY = (
    b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(_TIMEOUT_BODY), _TIMEOUT_BODY)
)


class HeaderDeadline(asyncio.Protocol):
    """Wraps a connection's HTTP protocol and closes the connection when headers come too slowly.

    Args:
        inner: The HTTP protocol (aiohttp's request handler) everything is passed on to.
        timeout: Seconds the headers of a request may take, > 0.
    """

    def __init__(self, inner: asyncio.Protocol, timeout: float) -> None:
        self.inner = inner
        self.timeout = timeout
        self._transport: Optional[asyncio.BaseTransport] = None
        self._timer: Optional[asyncio.TimerHandle] = None
        self._between_requests = False

    def _arm(self) -> None:
        self._cancel()
        self._timer = asyncio.get_running_loop().call_later(self.timeout, self._expire)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.write(_TIMEOUT_REPLY)
            transport.close()

    def headers_complete(self) -> None:
        """The current request's headers were parsed: stop the clock."""
        self._cancel()
        self._between_requests = False

    def request_done(self) -> None:
        """The request was answered: the next byte starts the next request's clock."""
        self._cancel()
        self._between_requests = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start the clock and pass the connection on."""
        self._transport = transport
        self._arm()
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        """Start the clock on a kept-alive connection's next request; pass the bytes on."""
        if self._between_requests and data:
            self._between_requests = False
            self._arm()
        self.inner.data_received(data)

    def eof_received(self) -> Optional[bool]:
        """Pass the end of the stream on."""
        return self.inner.eof_received()

    def connection_lost(self, exc: Optional[Exception]) -> None:
        """Stop the clock and pass the loss on."""
        self._cancel()
        self._transport = None
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        """Pass flow control on."""
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        """Pass flow control on."""
        self.inner.resume_writing()


def _deadline_of(request: web.BaseRequest) -> Optional[HeaderDeadline]:
    transport = request.transport
    protocol = transport.get_protocol() if transport is not None else None
    return protocol if isinstance(protocol, HeaderDeadline) else None


@web.middleware
async def header_deadline_middleware(request: web.Request, handler: Callable) -> Any:
    """Mark the request's headers complete before handling it, and the request done after.

    Args:
        request: The request (its connection may be wrapped in a `HeaderDeadline`).
        handler: The next handler.

    Returns:
        The handler's response.
    """
    deadline = _deadline_of(request)
    if deadline is not None:
        deadline.headers_complete()
    try:
        return await handler(request)
    finally:
        if deadline is not None:
            deadline.request_done()


class HeaderDeadlineSite(web.SockSite):
    """`web.SockSite` whose connections get a `HeaderDeadline` (the app needs the middleware).

    Args:
        runner: The set-up app runner.
        sock: A bound, listening socket.
        header_timeout: Seconds a request's headers may take, > 0.
        ssl_context: TLS, or None.
    """

    def __init__(self, runner: web.BaseRunner, sock: Any, header_timeout: float, ssl_context: Any = None) -> None:
        super().__init__(runner, sock, ssl_context=ssl_context)
        self.header_timeout = header_timeout

    async def start(self) -> None:
        """Listen on the socket, wrapping each connection's protocol."""
        await web.BaseSite.start(self)
        server = self._runner.server
        timeout = self.header_timeout
        self._server = await asyncio.get_running_loop().create_server(
            lambda: HeaderDeadline(server(), timeout), sock=self._sock, ssl=self._ssl_context, backlog=self._backlog
        )
