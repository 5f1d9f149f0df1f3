"""The REST server's own event loop thread: start an aiohttp app on a bound socket, stop it within a grace period.

`ServingServer` runs gRPC on its thread pool and REST on this loop; stopping must never leave a
client waiting for a reply that will not come, so whatever is still open after the grace period is
closed (the client then sees the connection drop, which it reports as UNAVAILABLE).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import threading
from typing import Optional

from aiohttp import web

from ..errors import ParameterError
from .rest_headers import HeaderDeadlineSite

__all__ = ["RestLoop"]

_log = logging.getLogger(__name__)
_SETTLE_SECONDS = 5.0  # beyond the grace period, for the loop itself to wind down


class RestLoop:
    """An aiohttp application served on its own daemon thread and event loop."""

    def __init__(
        self,
        app: web.Application,
        sock: socket.socket,
        ssl_context: Optional[ssl.SSLContext],
        header_timeout_seconds: float = 30.0,
    ) -> None:
        """Keep what `start` needs; nothing runs yet.

        Args:
            app: The aiohttp application (with `header_deadline_middleware`).
            sock: A bound, listening TCP socket (its port is the REST port).
            ssl_context: TLS for HTTPS, or None for plain HTTP.
            header_timeout_seconds: Time a request's headers may take (408 and closed after), > 0.
        """
        self._app, self._sock, self._ssl = app, sock, ssl_context
        self._header_timeout = header_timeout_seconds
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._runner: Optional[web.AppRunner] = None
        self._thread: Optional[threading.Thread] = None

    def start(self, timeout: float = 30.0) -> None:
        """Start the loop thread and serve the app on the socket.

        Args:
            timeout: Seconds to wait for the site to open.

        Raises:
            ParameterError: the site could not be opened (the error says why).
        """
        self._loop = asyncio.new_event_loop()
        ready, errors = threading.Event(), []

        async def serve() -> None:
            self._runner = web.AppRunner(self._app, access_log=None)
            await self._runner.setup()
            await HeaderDeadlineSite(self._runner, self._sock, self._header_timeout, ssl_context=self._ssl).start()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(serve())
            except Exception as error:  # reported by start()
                errors.append(error)
            ready.set()
            if not errors:
                self._loop.run_forever()
            self._loop.close()

        self._thread = threading.Thread(target=run, name="kerasviz-rest-loop", daemon=True)
        self._thread.start()
        ready.wait(timeout=timeout)
        if errors:
            raise ParameterError(f"Cannot start the REST server: {errors[0]}. Received: rest_api_port={self._sock.getsockname()[1]}")

    def stop(self, grace: float) -> None:
        """Stop listening, let running requests finish for `grace` seconds, close the rest, end the loop.

        Args:
            grace: Seconds (>= 0) running requests get before their connections are closed.
        """
        if self._loop is None or self._thread is None or not self._thread.is_alive():
            return
        if self._runner is not None:
            closing = asyncio.run_coroutine_threadsafe(self._close(self._runner, grace), self._loop)
            try:
                closing.result(timeout=grace + _SETTLE_SECONDS)
            except Exception as error:  # the loop is stopped below anyway
                _log.warning("REST shutdown did not finish cleanly: %r", error)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=_SETTLE_SECONDS)

    @staticmethod
    async def _close(runner: web.AppRunner, grace: float) -> None:
        for site in list(runner.sites):  # no new connections from here on
            await site.stop()
        server = runner.server
        try:
            await asyncio.wait_for(runner.cleanup(), timeout=grace)
        except asyncio.TimeoutError:
            _log.warning("REST requests still running after the %.1f s grace period were closed", grace)
        finally:
            for connection in list(server.connections if server is not None else ()):
                connection.force_close()
