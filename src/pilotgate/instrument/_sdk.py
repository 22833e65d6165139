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
from typing import Any

from pilotgate.instrument import _state as st
from pilotgate.instrument._sdk_call import Parser, SdkCall, failed
from pilotgate.instrument._sdk_streams import AsyncStream, SyncStream
from pilotgate.instrument._state import Meta

__all__ = [
    "Instrumentation",
    "SdkCall",
    "patch",
    "retry_hook",
    "wrap_create",
    "wrap_stream_helper",
]

_log = logging.getLogger("pilotgate.instrument")
_CALL: ContextVar[SdkCall | None] = ContextVar("pilotgate_sdk_call", default=None)
_MARK = "__pilotgate_sdk__"


def _start(parser: Parser, kwargs: dict[str, Any]) -> SdkCall | None:
    if not st.SINK.enabled:
        return None
    try:
        return SdkCall(parser, kwargs)
    except Exception:
        next(st.HOT_ERRORS)
        return None


def _finish(
    call: SdkCall, meta: Meta, out: Any, stream_types: tuple[type, ...], is_async: bool
) -> Any:
    """The value to hand back: a recording proxy for a stream, else ``out`` (captured)."""
    try:
        if stream_types and isinstance(out, stream_types):
            call.stream = True
            return (AsyncStream if is_async else SyncStream)(out, call, meta)
        call.result = out
        call.capture(meta, None)
    except Exception:
        next(st.HOT_ERRORS)
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
        return SyncStream(raw, call, meta)

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
        return AsyncStream(raw, call, meta)

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
            next(st.HOT_ERRORS)
        return manager

    setattr(stream, _MARK, orig)
    return stream


def _reset(token: Any) -> None:
    try:
        _CALL.reset(token)
    except Exception:
        next(st.HOT_ERRORS)


def _capture_error(call: SdkCall, meta: Meta, exc: BaseException) -> None:
    try:
        call.capture(meta, failed(call, exc))
    except Exception:
        next(st.HOT_ERRORS)


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
            next(st.HOT_ERRORS)

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
