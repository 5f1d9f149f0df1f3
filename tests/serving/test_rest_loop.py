"""The REST loop's shutdown: requests inside the grace period finish, the rest are closed, nothing hangs."""

import asyncio
import http.client
import socket
import threading
import time

import pytest
from aiohttp import web

from kerasviz.serving.rest_loop import RestLoop


def _serve(delay_seconds):
    async def slow(request):
        await asyncio.sleep(delay_seconds)
        return web.Response(text="done")

    app = web.Application()
    app.router.add_get("/", slow)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    loop = RestLoop(app, sock, None)
    loop.start()
    return loop, sock.getsockname()[1]


def _get_in_background(port, results):
    def get():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("GET", "/")
            results.append(connection.getresponse().read().decode())
        except (http.client.RemoteDisconnected, ConnectionResetError) as error:
            results.append(type(error).__name__)

    thread = threading.Thread(target=get)
    thread.start()
    time.sleep(0.3)  # the request is running on the server
    return thread


@pytest.mark.parametrize(
    "delay, grace, expected", [(0.5, 3.0, "done"), (30.0, 0.5, "RemoteDisconnected"), (30.0, 0.0, "RemoteDisconnected")]
)
def test_stop_lets_requests_finish_within_grace_and_closes_the_rest(delay, grace, expected):
    loop, port = _serve(delay)
    results = []
    thread = _get_in_background(port, results)
    started = time.monotonic()
    loop.stop(grace)
    thread.join(timeout=10)
    assert not thread.is_alive() and results == [expected]
    assert time.monotonic() - started < grace + 2
    with pytest.raises(ConnectionRefusedError):  # no longer listening
        socket.create_connection(("127.0.0.1", port), timeout=2)
