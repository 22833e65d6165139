"""Tracked generators: streamed answers, recorded when the stream ends.

The wrapper is itself a (sync or async) generator, so ``inspect`` still sees one and
frameworks that stream (FastAPI ``StreamingResponse``, SSE) keep working. The current
interaction id is set only while the wrapped generator runs, not while the consumer
handles a chunk; the first chunk's time is the TTFT, the joined chunks the output.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from time import perf_counter, time
from typing import Any

from pilotgate.instrument import _state as state
from pilotgate.instrument._state import Meta

__all__ = ["wrap_stream"]


def wrap_stream(fn: Callable[..., Any], meta: Meta) -> Callable[..., Any]:
    """Wrap a generator function or an async generator function."""
    if inspect.isasyncgenfunction(fn):
        return _wrap_asyncgen(fn, meta)
    return _wrap_gen(fn, meta)


class _Stream:
    """Per-call state of a tracked generator, captured when the stream ends."""

    __slots__ = ("iid", "ts", "t0", "ttft", "chunks", "err", "complete")

    def __init__(self, iid: str) -> None:
        self.iid = iid
        self.ts = time()
        self.t0 = perf_counter()
        self.ttft: float | None = None
        self.chunks: list[Any] = []
        self.err: str | None = None
        self.complete = False

    def capture(self, sink: state.Sink, meta: Meta, args: Any, kwargs: Any) -> None:
        dt = perf_counter() - self.t0
        extra = state.pop_extra(self.iid) or {}
        md = dict(extra.get("metadata") or {})
        md["stream_chunks"] = len(self.chunks)
        if not self.complete and self.err is None:
            md["stream_incomplete"] = True
        extra["metadata"] = md
        extra["stream"] = True
        item = (state.INTERACTION, self.iid, self.ts, dt, self.ttft, meta, state.SESSION.get())
        args, kwargs = state.snapshot(args), state.snapshot_kwargs(kwargs)
        state.push(sink, self.iid, (*item, args, kwargs, self.chunks, self.err, extra))


def _wrap_gen(fn: Callable[..., Iterator[Any]], meta: Meta) -> Callable[..., Iterator[Any]]:
    @functools.wraps(fn)
    def tracked(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        sink = state.SINK
        if not sink.enabled:
            return (yield from fn(*args, **kwargs))
        st = _Stream(state.IDS.next())
        it: Iterator[Any] | None = None
        try:
            while True:
                token = state.CURRENT.set(st.iid)
                try:
                    if it is None:
                        it = fn(*args, **kwargs)
                    chunk = next(it)
                except StopIteration as stop:
                    st.complete = True
                    return stop.value
                finally:
                    state.CURRENT.reset(token)
                if st.ttft is None:
                    st.ttft = perf_counter() - st.t0
                st.chunks.append(chunk)
                yield chunk
        except GeneratorExit:
            if it is not None and hasattr(it, "close"):
                it.close()
            raise
        except BaseException as exc:
            st.err = type(exc).__qualname__
            raise
        finally:
            st.capture(sink, meta, args, kwargs)

    return tracked


def _wrap_asyncgen(
    fn: Callable[..., AsyncIterator[Any]], meta: Meta
) -> Callable[..., AsyncIterator[Any]]:
    @functools.wraps(fn)
    async def tracked(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        sink = state.SINK
        if not sink.enabled:
            async for chunk in fn(*args, **kwargs):
                yield chunk
            return
        st = _Stream(state.IDS.next())
        it: AsyncIterator[Any] | None = None
        try:
            while True:
                token = state.CURRENT.set(st.iid)
                try:
                    if it is None:
                        it = fn(*args, **kwargs)
                    chunk = await it.__anext__()
                except StopAsyncIteration:
                    st.complete = True
                    return
                finally:
                    state.CURRENT.reset(token)
                if st.ttft is None:
                    st.ttft = perf_counter() - st.t0
                st.chunks.append(chunk)
                yield chunk
        except GeneratorExit:
            aclose = getattr(it, "aclose", None)
            if aclose is not None:
                try:
                    await aclose()
                except Exception:
                    next(state.HOT_ERRORS)
            raise
        except BaseException as exc:
            st.err = type(exc).__qualname__
            raise
        finally:
            st.capture(sink, meta, args, kwargs)

    return tracked
