"""serve_in_thread: the background-loop runner behind the simulator and the demo feature."""

from __future__ import annotations

import asyncio
import threading

import pytest
from aiohttp import web

from pilotgate._thread import serve_in_thread


async def _up(_request: web.Request) -> web.Response:
    return web.Response(text="up")


class _Server:
    """A real aiohttp server on a free loopback port, recording where it ran."""

    def __init__(self) -> None:
        self.url = ""
        self.thread: threading.Thread | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stopped_on: asyncio.AbstractEventLoop | None = None
        self.runner: web.AppRunner | None = None

    async def start(self) -> _Server:
        self.thread = threading.current_thread()
        self.loop = asyncio.get_running_loop()
        app = web.Application()
        app.router.add_get("/", _up)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/"
        return self

    async def stop(self) -> None:
        self.stopped_on = asyncio.get_running_loop()
        assert self.runner is not None
        await self.runner.cleanup()


def _get(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=5) as resp:
        return str(resp.read().decode())


def test_yields_the_started_server_on_its_own_daemon_thread_and_stops_it() -> None:
    srv = _Server()
    with serve_in_thread(srv.start, name="pg-test", what="the test server", timeout_s=5) as got:
        assert got is srv
        assert srv.thread is not None and srv.thread is not threading.current_thread()
        assert srv.thread.name == "pg-test" and srv.thread.daemon
        assert _get(srv.url) == "up"
    assert srv.stopped_on is srv.loop
    assert srv.loop is not None and srv.loop.is_closed()
    assert not srv.thread.is_alive()


def test_loop_factory_makes_the_threads_loop() -> None:
    made: list[asyncio.AbstractEventLoop] = []

    def factory() -> asyncio.AbstractEventLoop:
        made.append(asyncio.new_event_loop())
        return made[-1]

    srv = _Server()
    with serve_in_thread(srv.start, name="pg-t", what="x", timeout_s=5, loop_factory=factory):
        assert srv.loop is made[0]


def test_a_startup_error_is_raised_in_the_callers_thread() -> None:
    async def start() -> _Server:
        raise OSError("address in use")

    with (
        pytest.raises(OSError, match="address in use"),
        serve_in_thread(start, name="pg-t", what="x", timeout_s=5),
    ):
        pytest.fail("the block must not run")


def test_a_slow_start_times_out_naming_the_server() -> None:
    release = threading.Event()

    async def start() -> _Server:
        await asyncio.to_thread(release.wait, 5)
        raise RuntimeError("released")

    try:
        with (
            pytest.raises(TimeoutError, match="the test server did not start within 0.2 s"),
            serve_in_thread(start, name="pg-t", what="the test server", timeout_s=0.2),
        ):
            pytest.fail("the block must not run")
    finally:
        release.set()
