"""What a streamed SDK result becomes: the SDK's stream, recorded as the app reads it.

The proxy notes each chunk's arrival and captures the call once, when the stream ends,
fails, is closed, or is collected unread. Everything else (``response``, helper
attributes, attribute writes) goes to the SDK's own stream.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from pilotgate.instrument import _state as st
from pilotgate.instrument._sdk_call import SdkCall, failed
from pilotgate.instrument._state import Meta

__all__ = ["AsyncStream", "SyncStream"]


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
                next(st.HOT_ERRORS)

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


class SyncStream(_Recorded):
    """A streamed result as the application sees it: the SDK's stream, recorded."""

    __slots__ = ()

    def __iter__(self) -> SyncStream:
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
            self._end(failed(self._call, exc), complete=False)
            raise
        self._call.chunks.append(chunk)
        self._call.times.append(perf_counter())
        return chunk

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._end(None, complete=False)

    def __enter__(self) -> SyncStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncStream(_Recorded):
    """The async twin of :class:`SyncStream`."""

    __slots__ = ()

    def __aiter__(self) -> AsyncStream:
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
            self._end(failed(self._call, exc), complete=False)
            raise
        self._call.chunks.append(chunk)
        self._call.times.append(perf_counter())
        return chunk

    async def close(self) -> None:
        try:
            await self._inner.close()
        finally:
            self._end(None, complete=False)

    async def __aenter__(self) -> AsyncStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
