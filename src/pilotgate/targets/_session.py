"""One shared aiohttp ClientSession per event loop, for every HTTP target.

A session owns a connection pool; one pool per process keeps connections alive
between calls and bounds how many sockets a run opens. aiohttp sessions belong to the
loop that made them, so the registry is keyed by loop (tests and the CLI may run
several loops one after another in the same process).

Targets acquire the session on their first call and release it in ``aclose()``; the
session closes when its last user is gone, or at :func:`close_sessions`. A caller who
forgets both is still covered under ``asyncio.run`` (and ``asyncio.Runner``): a guard
task, cancelled when the loop shuts down, closes the session on the way out.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import aiohttp

__all__ = ["REUSED", "close_sessions", "configure_sessions", "get_session", "release_session"]

REUSED: ContextVar[list[bool] | None] = ContextVar("pilotgate_reused", default=None)
"""Set a cell here before a request; it turns True if the request got a pooled connection."""


async def _on_reuse(*_: object) -> None:
    cell = REUSED.get()
    if cell is not None:
        cell[0] = True


@dataclass
class _Settings:
    limit: int = 256
    limit_per_host: int = 0
    keepalive_s: float = 30.0


@dataclass
class _Entry:
    session: aiohttp.ClientSession
    users: set[int] = field(default_factory=set)
    guard: asyncio.Task[None] | None = None

    async def close(self) -> None:
        if self.guard is not None and self.guard is not asyncio.current_task():
            self.guard.cancel()
        await self.session.close()


async def _guard(session: aiohttp.ClientSession) -> None:
    """Wait forever; when the loop shuts down and cancels this task, close the session."""
    try:
        await asyncio.Event().wait()
    finally:
        if not session.closed:
            await session.close()


_SETTINGS = _Settings()
_SESSIONS: dict[asyncio.AbstractEventLoop, _Entry] = {}


def configure_sessions(
    *, limit: int | None = None, limit_per_host: int | None = None, keepalive_s: float | None = None
) -> None:
    """Set the connection pool of sessions created from now on.

    Args:
        limit: most connections open at once across hosts (0 = unlimited). A load test
            at concurrency N needs at least N.
        limit_per_host: most connections to one host (0 = unlimited).
        keepalive_s: how long an idle connection stays open for reuse.
    """
    if limit is not None:
        _SETTINGS.limit = max(0, int(limit))
    if limit_per_host is not None:
        _SETTINGS.limit_per_host = max(0, int(limit_per_host))
    if keepalive_s is not None:
        _SETTINGS.keepalive_s = float(keepalive_s)


def _purge_dead() -> None:
    for loop in [lp for lp in _SESSIONS if lp.is_closed()]:
        # The loop is gone, so the session cannot be awaited closed. aiohttp offers no
        # public synchronous close; mark pool and session closed so nothing warns later.
        entry = _SESSIONS.pop(loop)
        connector = entry.session.connector
        if connector is not None:
            connector._close()
        entry.session._connector = None


def get_session(user: object | None = None) -> aiohttp.ClientSession:
    """The running loop's shared session, created on first use.

    Args:
        user: the object using it (a target); recorded so that the session closes
            when the last user releases it.
    """
    import aiohttp

    loop = asyncio.get_running_loop()
    entry = _SESSIONS.get(loop)
    if entry is None or entry.session.closed:
        _purge_dead()
        connector = aiohttp.TCPConnector(
            limit=_SETTINGS.limit,
            limit_per_host=_SETTINGS.limit_per_host,
            keepalive_timeout=_SETTINGS.keepalive_s,
        )
        trace = aiohttp.TraceConfig()
        trace.on_connection_reuseconn.append(_on_reuse)
        session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=None),
            auto_decompress=True,
            trace_configs=[trace],
        )
        entry = _Entry(session)
        entry.guard = loop.create_task(_guard(session), name="pilotgate-session-guard")
        _SESSIONS[loop] = entry
    if user is not None:
        entry.users.add(id(user))
    return entry.session


async def release_session(user: object) -> None:
    """Release ``user``'s hold on the running loop's session; close it if it was the last."""
    loop = asyncio.get_running_loop()
    entry = _SESSIONS.get(loop)
    if entry is None:
        return
    entry.users.discard(id(user))
    if not entry.users:
        _SESSIONS.pop(loop, None)
        await entry.close()


async def close_sessions() -> None:
    """Close the running loop's shared session (whoever still uses it)."""
    loop = asyncio.get_running_loop()
    entry = _SESSIONS.pop(loop, None)
    if entry is not None:
        await entry.close()
    _purge_dead()
