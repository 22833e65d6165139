"""Patching provider SDKs: wrap a ``create`` method so each call becomes an interaction.

The wrapper follows the hot-path rules of ``@track``: on the application's thread it
takes an id, times the call, keeps references to the keyword arguments and to the
result (or to the streamed chunks and their arrival times) and appends one tuple to the
buffer. Reading the provider's objects (text, usage, tool calls, model) happens on the
exporter's thread, through the provider's ``parse`` function, when the record is built.

A streamed result is handed back wrapped in a thin proxy that records each chunk as the
application reads it and captures the call when the stream ends, fails or is closed.
The SDK's own retries are counted by a hook on its retry sleep, which only counts while
one of our calls is running in the same context. Nothing here raises into the app.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from contextvars import ContextVar
from time import perf_counter, time
from typing import Any

from pilotgate.instrument import _capture as cap
from pilotgate.instrument._capture import Meta

__all__ = ["Instrumentation", "SdkCall", "patch", "retry_hook"]

_log = logging.getLogger("pilotgate.instrument")
_CALL: ContextVar[SdkCall | None] = ContextVar("pilotgate_sdk_call", default=None)
_MARK = "__pilotgate_sdk__"

Parser = Callable[["SdkCall"], dict[str, Any]]


class SdkCall:
    """One SDK call in flight: references only, resolved later by ``parser``."""

    __slots__ = (
        "iid", "ts", "t0", "kwargs", "result", "chunks", "times", "stream", "complete",
        "retries", "retry_statuses", "status", "parser", "parent", "session",
    )  # fmt: skip

    def __init__(self, parser: Parser, kwargs: dict[str, Any]) -> None:
        self.iid = cap.IDS.next()
        self.parent = cap._CURRENT.get()
        self.session = cap._SESSION.get()  # the caller's, even if the stream is read elsewhere
        self.ts = time()
        self.t0 = perf_counter()
        self.kwargs = kwargs
        self.parser = parser
        self.result: Any = None
        self.chunks: list[Any] = []
        self.times: list[float] = []
        self.stream = False
        self.complete = True
        self.retries = 0
        self.retry_statuses: list[int | None] = []
        self.status: int | None = None

    def resolve(self) -> dict[str, Any]:
        """Input, output, tokens, TTFT and metadata (runs on the exporter's thread)."""
        out = self.parser(self)
        md = out.setdefault("metadata", {})
        if self.retries:
            md["retries"] = self.retries
            md["retry_statuses"] = self.retry_statuses
        if self.status is not None:
            md["status_code"] = self.status
        if self.parent is not None:
            md["parent_interaction_id"] = self.parent
        if self.stream:
            md["stream_chunks"] = len(self.chunks)
            if not self.complete:
                md["stream_incomplete"] = True
        return out

    def first_time(self, index: int) -> float | None:
        """Seconds from the call's start to the arrival of chunk ``index``."""
        if 0 <= index < len(self.times):
            return self.times[index] - self.t0
        return None

    def capture(self, meta: Meta, err: str | None) -> None:
        sink = cap._SINK
        if not sink.enabled:
            return
        dt = perf_counter() - self.t0
        item = (cap.INTERACTION, self.iid, self.ts, dt, None, meta, self.session)
        cap._push(sink, self.iid, (*item, None, None, None, err, {"sdk": self}))


def _failed(call: SdkCall, exc: BaseException) -> str:
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        call.status = status
    return type(exc).__qualname__


class _Recorded:
    """What both stream proxies share: the SDK's stream, the call, capture once."""

    __slots__ = ("_inner", "_call", "_meta", "_it", "_open")

    def __init__(self, inner: Any, call: SdkCall, meta: Meta) -> None:
        self._inner, self._call, self._meta = inner, call, meta
        self._it: Any = None
        self._open = True

    def _end(self, err: str | None, complete: bool = True) -> None:
        if self._open:
            self._open = False
            try:
                self._call.complete = complete
                self._call.capture(self._meta, err)
            except Exception:
                next(cap.HOT_ERRORS)

    def __del__(self) -> None:
        # a stream the app dropped without reading to the end or closing it
        if getattr(self, "_open", False):
            self._end(None, complete=False)

    def __getattr__(self, name: str) -> Any:
        if name in _Recorded.__slots__:  # not set yet: never look it up on the inner stream
            raise AttributeError(name)
        return getattr(self._inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _Recorded.__slots__:
            object.__setattr__(self, name, value)
        else:  # an SDK helper annotating its raw stream
            setattr(self._inner, name, value)


class _SyncStream(_Recorded):
    """A streamed result as the application sees it: the SDK's stream, recorded."""

    __slots__ = ()

    def __iter__(self) -> _SyncStream:
        return self

    def __next__(self) -> Any:
        it = self._it
        if it is None:
            it = self._it = iter(self._inner)
        try:
            chunk = next(it)
        except StopIteration:
            self._end(None)
            raise
        except BaseException as exc:
            self._end(_failed(self._call, exc), complete=False)
            raise
        self._call.chunks.append(chunk)
        self._call.times.append(perf_counter())
        return chunk

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._end(None, complete=False)

    def __enter__(self) -> _SyncStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _AsyncStream(_Recorded):
    """The async twin of :class:`_SyncStream`."""

    __slots__ = ()

    def __aiter__(self) -> _AsyncStream:
        return self

    async def __anext__(self) -> Any:
        it = self._it
        if it is None:
            it = self._it = self._inner.__aiter__()
        try:
            chunk = await it.__anext__()
        except StopAsyncIteration:
            self._end(None)
            raise
        except BaseException as exc:
            self._end(_failed(self._call, exc), complete=False)
            raise
        self._call.chunks.append(chunk)
        self._call.times.append(perf_counter())
        return chunk

    async def close(self) -> None:
        try:
            await self._inner.close()
        finally:
            self._end(None, complete=False)

    async def __aenter__(self) -> _AsyncStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _start(parser: Parser, kwargs: dict[str, Any]) -> SdkCall | None:
    if not cap._SINK.enabled:
        return None
    try:
        return SdkCall(parser, kwargs)
    except Exception:
        next(cap.HOT_ERRORS)
        return None


def _finish(
    call: SdkCall, meta: Meta, out: Any, stream_types: tuple[type, ...], is_async: bool
) -> Any:
    """The value to hand back: a recording proxy for a stream, else ``out`` (captured)."""
    try:
        if stream_types and isinstance(out, stream_types):
            call.stream = True
            return (_AsyncStream if is_async else _SyncStream)(out, call, meta)
        call.result = out
        call.capture(meta, None)
    except Exception:
        next(cap.HOT_ERRORS)
    return out


def wrap_create(
    orig: Callable[..., Any],
    meta: Meta,
    parser: Parser,
    stream_types: tuple[type, ...],
    is_async: bool,
) -> Callable[..., Any]:
    """A recording wrapper of an SDK ``create`` method (sync or async).

    ``is_async`` comes from the class, not from ``inspect``: the SDKs decorate their
    async ``create`` with a plain function that returns the coroutine.
    """
    if is_async:

        @functools.wraps(orig)
        async def acreate(*args: Any, **kwargs: Any) -> Any:
            call = _start(parser, kwargs)
            if call is None:
                return await orig(*args, **kwargs)
            token = _CALL.set(call)
            try:
                out = await orig(*args, **kwargs)
            except BaseException as exc:
                _reset(token)
                _capture_error(call, meta, exc)
                raise
            _reset(token)
            return _finish(call, meta, out, stream_types, True)

        setattr(acreate, _MARK, orig)
        return acreate

    @functools.wraps(orig)
    def create(*args: Any, **kwargs: Any) -> Any:
        call = _start(parser, kwargs)
        if call is None:
            return orig(*args, **kwargs)
        token = _CALL.set(call)
        try:
            out = orig(*args, **kwargs)
        except BaseException as exc:
            _reset(token)
            _capture_error(call, meta, exc)
            raise
        _reset(token)
        return _finish(call, meta, out, stream_types, False)

    setattr(create, _MARK, orig)
    return create


def wrap_stream_helper(
    orig: Callable[..., Any], meta: Meta, parser: Parser, attr: str, is_async: bool
) -> Callable[..., Any]:
    """Wrap a ``stream()`` helper that returns a manager opening the request on entry.

    The manager keeps the request as ``attr`` (a callable, or for async an awaitable);
    the wrapper replaces it with one that records the raw stream the helper then reads.
    """

    def record(kwargs: dict[str, Any], opened: Callable[[], Any]) -> Any:
        call = _start(parser, kwargs)
        if call is None:
            return opened()
        token = _CALL.set(call)
        try:
            raw = opened()
        except BaseException as exc:
            _reset(token)
            _capture_error(call, meta, exc)
            raise
        _reset(token)
        call.stream = True
        return _SyncStream(raw, call, meta)

    async def arecord(kwargs: dict[str, Any], pending: Any) -> Any:
        call = _start(parser, kwargs)
        if call is None:
            return await pending
        token = _CALL.set(call)
        try:
            raw = await pending
        except BaseException as exc:
            _reset(token)
            _capture_error(call, meta, exc)
            raise
        _reset(token)
        call.stream = True
        return _AsyncStream(raw, call, meta)

    @functools.wraps(orig)
    def stream(*args: Any, **kwargs: Any) -> Any:
        manager = orig(*args, **kwargs)
        try:
            request = getattr(manager, attr)
            if is_async:
                setattr(manager, attr, arecord(kwargs, request))
            else:
                setattr(manager, attr, functools.partial(record, kwargs, request))
        except Exception:
            next(cap.HOT_ERRORS)
        return manager

    setattr(stream, _MARK, orig)
    return stream


def _reset(token: Any) -> None:
    try:
        _CALL.reset(token)
    except Exception:
        next(cap.HOT_ERRORS)


def _capture_error(call: SdkCall, meta: Meta, exc: BaseException) -> None:
    try:
        call.capture(meta, _failed(call, exc))
    except Exception:
        next(cap.HOT_ERRORS)


def retry_hook(orig: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap the SDK's retry sleep: count the retry (and the status it follows) on our call."""

    def note(kwargs: dict[str, Any]) -> None:
        try:
            call = _CALL.get()
            if call is not None:
                call.retries += 1
                status = getattr(kwargs.get("response"), "status_code", None)
                call.retry_statuses.append(status if isinstance(status, int) else None)
        except Exception:
            next(cap.HOT_ERRORS)

    if inspect.iscoroutinefunction(orig):

        @functools.wraps(orig)
        async def asleep(*args: Any, **kwargs: Any) -> Any:
            note(kwargs)
            return await orig(*args, **kwargs)

        setattr(asleep, _MARK, orig)
        return asleep

    @functools.wraps(orig)
    def sleep(*args: Any, **kwargs: Any) -> Any:
        note(kwargs)
        return orig(*args, **kwargs)

    setattr(sleep, _MARK, orig)
    return sleep


class Instrumentation:
    """What ``instrument_openai`` / ``instrument_anthropic`` return: ``.undo()`` restores.

    Attributes:
        patched: the ``owner.attribute`` names that were wrapped (empty when the SDK was
            missing, already instrumented, or could not be patched; see the log).
    """

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self._undo: list[tuple[Any, str, Any, bool]] = []
        self.patched: list[str] = []

    def patch(self, owner: Any, name: str, make: Callable[[Any], Any]) -> bool:
        """Replace ``owner.name`` by ``make(original)``; False when it is already ours."""
        try:
            orig = getattr(owner, name)
            if getattr(orig, _MARK, None) is not None:
                return False
            own = name in vars(owner)
            raw = vars(owner)[name] if own else None
            setattr(owner, name, make(orig))
            self._undo.append((owner, name, raw, own))
            self.patched.append(f"{getattr(owner, '__qualname__', type(owner).__name__)}.{name}")
            return True
        except Exception as exc:
            _log.warning("pilotgate: cannot instrument %s.%s: %s", owner, name, exc)
            return False

    def undo(self) -> None:
        """Put every patched attribute back as it was (idempotent)."""
        while self._undo:
            owner, name, raw, own = self._undo.pop()
            try:
                if own:
                    setattr(owner, name, raw)
                else:
                    delattr(owner, name)
            except Exception as exc:
                _log.warning("pilotgate: cannot restore %s.%s: %s", owner, name, exc)
        self.patched = []

    def __enter__(self) -> Instrumentation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.undo()

    def __repr__(self) -> str:
        return f"<pilotgate {self.provider} instrumentation: {', '.join(self.patched) or '-'}>"


def patch(
    inst: Instrumentation,
    owners: list[tuple[Any, bool]],
    meta: Meta,
    parser: Parser,
    stream_types: tuple[type, ...],
    retry_owners: list[Any],
) -> None:
    """Wrap ``create`` on each ``(owner, is_async)`` and the retry sleep on each retry owner."""
    for owner, is_async in owners:
        inst.patch(
            owner,
            "create",
            functools.partial(
                wrap_create, meta=meta, parser=parser, stream_types=stream_types, is_async=is_async
            ),
        )
    for owner in retry_owners:
        for name in ("_sleep_for_retry", "_retry_request"):
            if hasattr(owner, name):
                inst.patch(owner, name, retry_hook)
                break
