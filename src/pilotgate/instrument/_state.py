"""The SDK's hot-path state, in one place: the buffer, ids, context variables, counters.

``_capture`` (``track``, ``feedback``, ``step``), ``_streams`` (tracked generators) and the
provider SDK wrappers all read and write this; nothing here imports them, so the imports
run one way. ``SINK`` is replaced (``install``) by ``configure()`` and, in a forked child,
by the child's own exporter: read it at call time (``_state.SINK``), never bind it once.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pilotgate.instrument._ids import IdSource, sampled_in

if TYPE_CHECKING:
    from pilotgate.instrument._capture import Interaction

__all__ = [
    "ANNOT",
    "ANNOTATE_IGNORED",
    "CURRENT",
    "DROPPED_FULL",
    "FEEDBACK",
    "HANDLE",
    "HOT_ERRORS",
    "IDS",
    "INTERACTION",
    "SAMPLED_OUT",
    "SESSION",
    "SINK",
    "STEP",
    "Meta",
    "Sink",
    "copy_arg",
    "counter_value",
    "current_sink",
    "install",
    "pop_extra",
    "push",
    "snapshot",
    "snapshot_kwargs",
]

# Captured item kinds (first element of each tuple in the buffer).
INTERACTION, FEEDBACK, STEP = 0, 1, 2


class Sink:
    """The buffer the hot path appends to, and what it needs to decide quickly."""

    __slots__ = ("buf", "cap", "enabled", "threshold", "wake", "wake_at")

    def __init__(
        self,
        *,
        enabled: bool = False,
        cap: int = 0,
        wake_at: int = 1,
        threshold: int | None = None,
    ) -> None:
        self.buf: deque[tuple[Any, ...]] = deque()
        self.enabled = enabled
        self.cap = cap
        self.wake_at = wake_at
        self.threshold = threshold  # None: keep everything; else sample_rate * 2**32
        self.wake = threading.Event()


@dataclass(eq=False)
class Meta:
    """What a ``track(...)`` call site declared; shared by all its captured calls.

    ``plan`` caches, for the background thread, how to find the input, session and user
    among the call's arguments (worked out once per call site).
    """

    feature: str | None
    version: str | None
    name: str
    func: Callable[..., Any] | None = None
    input_arg: str | None = None
    session_arg: str | None = None
    user_arg: str | None = None
    session_id: str | None = None
    user_id: str | None = None
    metadata: Mapping[str, Any] | None = None
    plan: Any = None


IDS = IdSource()
SINK = Sink()
CURRENT: ContextVar[str | None] = ContextVar("pilotgate_interaction", default=None)
HANDLE: ContextVar[Interaction | None] = ContextVar("pilotgate_handle", default=None)
SESSION: ContextVar[tuple[str | None, str | None] | None] = ContextVar(
    "pilotgate_session", default=None
)
ANNOT: dict[str, dict[str, Any]] = {}

# Hot-path counters: ``next()`` on itertools.count is atomic under the GIL.
SAMPLED_OUT = itertools.count()
DROPPED_FULL = itertools.count()
HOT_ERRORS = itertools.count()
ANNOTATE_IGNORED = itertools.count()


def counter_value(c: itertools.count[int]) -> int:
    """Read an itertools.count without advancing it."""
    return int(repr(c)[6:-1])


def install(sink: Sink) -> Sink:
    """Make ``sink`` the one the hot path appends to; returns the previous one."""
    global SINK
    old, SINK = SINK, sink
    return old


def current_sink() -> Sink:
    return SINK


def push(sink: Sink, key: str | None, item: tuple[Any, ...]) -> None:
    """Append one captured item, or count why it was not kept (``key``: sampling key)."""
    try:
        if sink.threshold is not None and key is not None and not sampled_in(key, sink.threshold):
            next(SAMPLED_OUT)
            return
        buf = sink.buf
        n = len(buf)
        if n >= sink.cap:
            next(DROPPED_FULL)
            return
        buf.append(item)
        if n == sink.wake_at:
            sink.wake.set()
    except Exception:
        next(HOT_ERRORS)


SNAPSHOT_MAX = 256
"""Longest list (of chat messages, say) whose items are copied one by one on the hot path;
a longer one is copied as a list only, so the cost of a call stays bounded."""


def copy_arg(value: Any) -> Any:
    """A shallow snapshot of a list or dict argument (and of the dicts in a list)."""
    t = type(value)
    if t is list:
        if len(value) > SNAPSHOT_MAX:
            return value[:]
        return [dict(m) if type(m) is dict else m for m in value]
    if t is dict:
        return dict(value)
    return value


def snapshot(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """``args`` with its lists and dicts copied, so that the caller changing them later (an
    app appending the reply to its ``messages``) does not change what was recorded."""
    return tuple([copy_arg(a) for a in args])


def snapshot_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    for v in kwargs.values():
        if type(v) is list or type(v) is dict:
            return {k: copy_arg(v) for k, v in kwargs.items()}
    return kwargs


def pop_extra(iid: str) -> dict[str, Any] | None:
    return ANNOT.pop(iid, None) if ANNOT else None
