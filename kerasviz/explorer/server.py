"""Serving the explorer: bind loopback unless told otherwise (and warn then), print the address."""

from __future__ import annotations

import ipaddress
import logging
import warnings

from aiohttp import web

from ..checks import check_int

__all__ = ["serve", "is_loopback"]

_log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    """Whether a host name or address only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(app: web.Application, host: str = "127.0.0.1", port: int = 8050) -> None:
    """Serve the explorer until interrupted (Ctrl+C).

    Args:
        app: From `create_app`.
        host: Interface to bind; anything but loopback exposes the model and the images folder to
            the network, so it warns.
        port: TCP port, 0..65535 (0: a free one).
    """
    port = check_int(port, "port", low=0, high=65535)
    if not is_loopback(host):
        message = (f"kerasviz explore is listening on {host}: anyone who can reach this machine can use "
                   "the model and see the images folder. Use --host 127.0.0.1 to keep it local.")
        warnings.warn(message, UserWarning, stacklevel=2)
    web.run_app(app, host=host, port=port, access_log=None, print=lambda text: print(
        f"kerasviz explore: open http://{host if ':' not in host else f'[{host}]'}:{port}/ (Ctrl+C stops)", flush=True))
