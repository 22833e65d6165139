"""The hot path: what runs on the application's thread for every tracked call.

Everything here does the minimum and returns: take an id, time the call, append one small
tuple (references, and shallow copies of list and dict arguments so the caller changing
them later does not change the record; no formatting, no I/O, no logging) to a deque,
and wake the background thread once per batch. Building records, redaction, serialisation,
sending and spilling all happen on the exporter's thread (:mod:`._exporter`).

Nothing here raises into the host: the SDK's own steps are guarded and counted; the
wrapped function's own exceptions propagate untouched.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from contextvars import Token
from time import perf_counter, time
from types import TracebackType
from typing import Any, Literal, TypeVar, cast, overload

from pilotgate.instrument import _state as st
from pilotgate.instrument._state import (
    ANNOT,
    ANNOTATE_IGNORED,
    CURRENT,
    FEEDBACK,
    HANDLE,
    HOT_ERRORS,
    IDS,
    INTERACTION,
    SESSION,
    STEP,
    Meta,
    copy_arg,
    pop_extra,
    push,
    snapshot,
    snapshot_kwargs,
)

__all__ = [
    "Interaction",
    "Tracker",
    "annotate",
    "current_interaction_id",
    "feedback",
    "session",
    "step",
    "track",
]

F = TypeVar("F", bound=Callable[..., Any])


def current_interaction_id() -> str | None:
    """The id of the tracked call running in this context (thread or task), if any.

    Hand it to your UI so that the user's reaction can be sent back with ``feedback()``.
    """
    return CURRENT.get()


def annotate(
    *, tokens_in: int | None = None, tokens_out: int | None = None, **metadata: Any
) -> None:
    """Attach token counts or metadata to the tracked call running in this context.

    Outside a tracked call it does nothing (and counts that in ``stats()``).
    """
    try:
        iid = CURRENT.get()
        if iid is None:
            next(ANNOTATE_IGNORED)
            return
        handle = HANDLE.get()
        if handle is not None and handle.id == iid:
            if tokens_in is not None:
                handle.tokens_in = tokens_in
            if tokens_out is not None:
                handle.tokens_out = tokens_out
            handle.metadata.update(metadata)
            return
        slot = ANNOT.setdefault(iid, {})
        if tokens_in is not None:
            slot["tokens_in"] = tokens_in
        if tokens_out is not None:
            slot["tokens_out"] = tokens_out
        if metadata:
            slot.setdefault("metadata", {}).update(metadata)
    except Exception:
        next(HOT_ERRORS)


class Interaction:
    """The handle ``with track(...) as t`` gives you: set what you know, the SDK does the rest.

    Attributes:
        id: the interaction id (also ``current_interaction_id()`` inside the block).
        input, output: what the user sent and what the feature answered.
        metadata: free-form dict stored with the record.
        tokens_in, tokens_out: token counts, if you have them.
        session_id, user_id: override the ``session()`` context for this call.
        error: set to a string to record a failure without raising.
        at: when the call started, epoch seconds (default: now). Set it only when
            replaying or backfilling history, so the record keeps its original time.
    """

    __slots__ = (
        "id",
        "input",
        "output",
        "metadata",
        "tokens_in",
        "tokens_out",
        "session_id",
        "user_id",
        "error",
        "_ts",
        "_t0",
        "_ttft",
        "_tokens",
    )

    def __init__(self, iid: str, meta: Meta) -> None:
        self.id = iid
        self.input: Any = None
        self.output: Any = None
        self.metadata: dict[str, Any] = dict(meta.metadata or {})
        self.tokens_in: int | None = None
        self.tokens_out: int | None = None
        self.session_id = meta.session_id
        self.user_id = meta.user_id
        self.error: str | None = None
        self._ts = time()
        self._t0 = perf_counter()
        self._ttft: float | None = None
        self._tokens: tuple[Token[str | None], Token[Interaction | None]] | None = None

    @property
    def at(self) -> float:
        return self._ts

    @at.setter
    def at(self, epoch_s: float) -> None:
        self._ts = float(epoch_s)

    def first_token(self) -> None:
        """Mark the time to first token/chunk now (first call wins)."""
        if self._ttft is None:
            self._ttft = perf_counter() - self._t0


class session:  # lower case: used like a function, ``with session("s1", "u1"):``
    """Set the session and user ids for tracked calls in this context (thread or task)."""

    __slots__ = ("_value", "_token")

    def __init__(self, session_id: str | None = None, user_id: str | None = None) -> None:
        self._value = (session_id, user_id)
        self._token: Token[tuple[str | None, str | None] | None] | None = None

    def __enter__(self) -> session:
        self._token = SESSION.set(self._value)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            try:
                SESSION.reset(self._token)
            except Exception:
                next(HOT_ERRORS)
            self._token = None


class Tracker:
    """What ``track(feature=…)`` returns: a decorator and a context manager at once."""

    __slots__ = ("meta",)

    def __init__(self, meta: Meta) -> None:
        self.meta = meta

    def __call__(self, fn: F) -> F:
        try:
            if not callable(fn):
                return fn
            meta = Meta(
                feature=self.meta.feature,
                version=self.meta.version,
                name=getattr(fn, "__qualname__", None) or repr(fn),
                func=fn,
                input_arg=self.meta.input_arg,
                session_arg=self.meta.session_arg,
                user_arg=self.meta.user_arg,
                session_id=self.meta.session_id,
                user_id=self.meta.user_id,
                metadata=self.meta.metadata,
            )
            if inspect.isasyncgenfunction(fn) or inspect.isgeneratorfunction(fn):
                from pilotgate.instrument._streams import wrap_stream

                return cast(F, wrap_stream(fn, meta))
            if inspect.iscoroutinefunction(fn):
                return cast(F, _wrap_async(fn, meta))
            return cast(F, _wrap_sync(fn, meta))
        except Exception:
            next(HOT_ERRORS)
            return fn

    def __enter__(self) -> Interaction:
        try:
            handle = Interaction(IDS.next(), self.meta)
            handle._tokens = (CURRENT.set(handle.id), HANDLE.set(handle))
            return handle
        except Exception:
            next(HOT_ERRORS)
            return Interaction("", self.meta)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        try:
            handle = HANDLE.get()
            if handle is None or handle._tokens is None:
                return False
            dt = perf_counter() - handle._t0
            cur_token, handle_token = handle._tokens
            handle._tokens = None
            HANDLE.reset(handle_token)
            CURRENT.reset(cur_token)
            sink = st.SINK
            if not sink.enabled:
                return False
            err = handle.error
            if exc_type is not None:
                err = exc_type.__qualname__
            extra: dict[str, Any] = {
                "tokens_in": handle.tokens_in,
                "tokens_out": handle.tokens_out,
                "metadata": handle.metadata,
                "input": copy_arg(handle.input),
                "session_id": handle.session_id,
                "user_id": handle.user_id,
            }
            item = (
                INTERACTION,
                handle.id,
                handle._ts,
                dt,
                handle._ttft,
                self.meta,
                SESSION.get(),
                None,
                None,
                handle.output,
                err,
                extra,
            )
            push(sink, handle.id, item)
        except Exception:
            next(HOT_ERRORS)
        return False


@overload
def track(fn: F, /) -> F: ...


@overload
def track(
    fn: None = None,
    /,
    *,
    feature: str | None = None,
    version: str | None = None,
    input_arg: str | None = None,
    session_arg: str | None = None,
    user_arg: str | None = None,
    session_id: str | None = None,
    user_id: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Tracker: ...


def track(
    fn: Any = None,
    /,
    *,
    feature: str | None = None,
    version: str | None = None,
    input_arg: str | None = None,
    session_arg: str | None = None,
    user_arg: str | None = None,
    session_id: str | None = None,
    user_id: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Any:
    """Record calls of a feature: ``@track(feature=…, version=…)`` or ``with track(…) as t``.

    Works on sync and async functions and on sync and async generators (streamed outputs:
    the time to the first chunk and the joined output are recorded).

    Args:
        feature: feature name (default: ``configure(feature=…)``, else the function name).
        version: prompt/model version (default: ``configure(version=…)``).
        input_arg: the parameter holding the user's input (default: the first of input,
            prompt, question, query, messages, text, message; else the first str/list
            argument; else all arguments as JSON).
        session_arg, user_arg: parameters holding the session / user id, if any.
        session_id, user_id: fixed ids (context-manager use); ``session()`` is the usual way.
        metadata: stored with every record of this call site.
    """
    meta = Meta(
        feature=feature,
        version=version,
        name="",
        input_arg=input_arg,
        session_arg=session_arg,
        user_arg=user_arg,
        session_id=session_id,
        user_id=user_id,
        metadata=dict(metadata) if metadata else None,
    )
    tracker = Tracker(meta)
    if fn is not None:
        return tracker(fn)
    return tracker


def _wrap_sync(fn: Callable[..., Any], meta: Meta) -> Callable[..., Any]:
    ids = IDS
    cur = CURRENT
    sess = SESSION

    @functools.wraps(fn)
    def tracked(*args: Any, **kwargs: Any) -> Any:
        sink = st.SINK
        if not sink.enabled:
            return fn(*args, **kwargs)
        iid = ids.prefix + format(next(ids.counter), "x")
        # what was passed in, as it was: lists and dicts are snapshot (a str costs one test)
        seen = args
        for a in args:
            if type(a) is list or type(a) is dict:
                seen = snapshot(args)
                break
        seen_kw = snapshot_kwargs(kwargs) if kwargs else kwargs
        token = cur.set(iid)
        ts = time()
        t0 = perf_counter()
        try:
            out = fn(*args, **kwargs)
        except BaseException as exc:
            dt = perf_counter() - t0
            cur.reset(token)
            err = type(exc).__qualname__
            item = (INTERACTION, iid, ts, dt, None, meta, sess.get(), seen, seen_kw, None, err)
            push(sink, iid, (*item, pop_extra(iid)))
            raise
        dt = perf_counter() - t0
        cur.reset(token)
        buf = sink.buf
        n = len(buf)
        if n < sink.cap and sink.threshold is None and not ANNOT:  # the common case, inline
            buf.append((INTERACTION, iid, ts, dt, None, meta, sess.get(), seen, seen_kw, out, None))
            if n == sink.wake_at:
                sink.wake.set()
        else:
            ok = (INTERACTION, iid, ts, dt, None, meta, sess.get(), seen, seen_kw, out, None)
            push(sink, iid, (*ok, pop_extra(iid)))
        return out

    return tracked


def _wrap_async(fn: Callable[..., Any], meta: Meta) -> Callable[..., Any]:
    ids = IDS
    cur = CURRENT
    sess = SESSION

    @functools.wraps(fn)
    async def tracked(*args: Any, **kwargs: Any) -> Any:
        sink = st.SINK
        if not sink.enabled:
            return await fn(*args, **kwargs)
        iid = ids.prefix + format(next(ids.counter), "x")
        seen, seen_kw = snapshot(args), snapshot_kwargs(kwargs)
        token = cur.set(iid)
        ts = time()
        t0 = perf_counter()
        out: Any = None
        err: str | None = None
        try:
            out = await fn(*args, **kwargs)
            return out
        except BaseException as exc:
            err = type(exc).__qualname__
            raise
        finally:
            dt = perf_counter() - t0
            try:
                cur.reset(token)
            except Exception:
                next(HOT_ERRORS)
            item = (INTERACTION, iid, ts, dt, None, meta, sess.get(), seen, seen_kw, out, err)
            push(sink, iid, (*item, pop_extra(iid)))

    return tracked


def feedback(
    interaction_id: str,
    *,
    accepted: bool | None = None,
    score: float | None = None,
    edited_output: str | None = None,
    dwell_ms: float | None = None,
    comment: str | None = None,
    at: float | None = None,
) -> str | None:
    """Record what the user did with an answer; returns the feedback record's id.

    Sampling follows the interaction: feedback on a sampled-out interaction is not kept.
    ``at`` (epoch seconds, default now) is for replaying or backfilling history.
    """
    try:
        sink = st.SINK
        if not sink.enabled:
            return None
        fid = IDS.next()
        ts = time() if at is None else at
        item = (FEEDBACK, fid, ts, interaction_id, accepted, score, edited_output)
        push(sink, str(interaction_id), (*item, dwell_ms, comment))
        return fid
    except Exception:
        next(HOT_ERRORS)
        return None


def step(session_id: str, name: str, *, at: float | None = None, **metadata: Any) -> str | None:
    """Record one workflow event of a session (opened, asked, copied…) for funnels.

    ``at`` (epoch seconds, default now) is for replaying or backfilling history.
    """
    try:
        sink = st.SINK
        if not sink.enabled:
            return None
        sid = IDS.next()
        # steps are not sampled: funnels need every one
        ts = time() if at is None else at
        push(sink, None, (STEP, sid, ts, session_id, name, metadata))
        return sid
    except Exception:
        next(HOT_ERRORS)
        return None
