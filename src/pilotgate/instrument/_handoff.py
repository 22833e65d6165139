"""At exit, hand what is still in memory to a child process that spills it.

The exit deadline (``exit_deadline_s``, 1 s) is a promise to the application: its process
ends on time whatever is queued. Turning hundreds of thousands of captured calls into
redacted records and writing them takes seconds in pure Python, so past the deadline the
buffer is handed to a forked child instead: the application's process returns at once,
the child (detached from the terminal and the parent's pipes) turns them into redacted
records, writes them to its own spill files, holding their locks until they are
complete, and exits. The next start
of any process sharing the spill directory replays them. Where ``fork`` is unavailable,
the caller spills on its own thread as before.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["drain_to", "spill_in_child"]

SLICE = 1000
"""Captured calls turned into records and written at a time in the child."""


_CHILDREN: list[int] = []


def spill_in_child(work: Callable[[], None]) -> bool:
    """Run ``work`` in a forked, detached child process; True once it is started.

    The parent does not wait for it (that is the point). A child that finished is reaped
    at the next hand-off; at the parent's exit, children are re-parented and reaped by
    the system. The child has its own session and no inherited stdio, so a parent whose
    reader waits for end-of-file on its output is not held up.
    """
    if not hasattr(os, "fork"):
        return False
    _reap()
    try:
        pid = os.fork()
    except OSError:
        return False
    if pid:
        _CHILDREN.append(pid)
        return True
    code = 0
    try:
        os.setsid()
        _detach_stdio()
        work()
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _reap() -> None:
    for pid in list(_CHILDREN):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            _CHILDREN.remove(pid)


def _detach_stdio() -> None:
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        try:
            os.dup2(null, fd)
        except OSError:
            pass
    os.close(null)


def drain_to(items: deque[tuple[Any, ...]], write: Callable[[list[tuple[Any, ...]]], None]) -> None:
    """Hand ``items`` to ``write`` in slices of :data:`SLICE` (oldest first)."""
    while items:
        batch = [items.popleft() for _ in range(min(len(items), SLICE))]
        write(batch)
