"""Run an asyncio server on its own event loop in a daemon thread.

Synchronous callers (tests, the demo, scripts) want a server that is simply *there* for
a ``with`` block; a daemon thread with a private loop gives them one without making
them async, and keeps the server's timers off any loop the caller runs. The simulator
and the demo feature both run this way, through :func:`serve_in_thread`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar

__all__ = ["serve_in_thread"]


class _Stoppable(Protocol):
    async def stop(self) -> None: ...


S = TypeVar("S", bound=_Stoppable)


@contextmanager
def serve_in_thread(
    start: Callable[[], Awaitable[S]],
    *,
    name: str,
    what: str,
    timeout_s: float,
    loop_factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop,
) -> Iterator[S]:
    """Start a server on a new loop in a daemon thread; stop it when the block exits.

    Args:
        start: a coroutine function, run on the new loop, that starts the server and
            returns it; the server's ``stop()`` is awaited on the same loop at exit.
        name: the thread's name (shows in tracebacks and thread dumps).
        what: the server as the timeout message names it, e.g. "the simulator".
        timeout_s: how long to wait for the start and, at exit, for the thread to end.
        loop_factory: makes the thread's loop (e.g. a uvloop one).

    Yields:
        The started server.

    Raises:
        TimeoutError: ``start`` did not finish within ``timeout_s``.
        BaseException: whatever ``start`` raised, re-raised in the caller's thread.
    """
    loop = loop_factory()
    ready = threading.Event()
    started: list[S] = []
    stops: list[asyncio.Event] = []
    failure: list[BaseException] = []

    async def main() -> None:
        try:
            server = await start()
        except BaseException as exc:  # handed to the caller's thread below
            failure.append(exc)
            ready.set()
            return
        stop = asyncio.Event()
        started.append(server)
        stops.append(stop)
        ready.set()
        await stop.wait()
        await server.stop()

    def runner() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(main())
        finally:
            loop.close()

    thread = threading.Thread(target=runner, name=name, daemon=True)
    thread.start()
    if not ready.wait(timeout_s):
        raise TimeoutError(f"{what} did not start within {timeout_s} s")
    if failure:
        thread.join(timeout_s)
        raise failure[0]
    try:
        yield started[0]
    finally:
        loop.call_soon_threadsafe(stops[0].set)
        thread.join(timeout_s)
