"""One provider-SDK call in flight: references on the app's thread, parsed later.

``SdkCall`` keeps what the wrapper saw (keyword arguments, the result or the streamed
chunks with their arrival times, retries, the status of a failure) and pushes one tuple
to the SDK's buffer; its ``resolve()`` runs the provider's parser on the exporter thread.
"""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter, time
from typing import Any

from pilotgate.instrument import _state as st
from pilotgate.instrument._state import Meta

__all__ = ["Parser", "SdkCall", "failed"]

Parser = Callable[["SdkCall"], dict[str, Any]]


class SdkCall:
    """One SDK call in flight: references only, resolved later by ``parser``."""

    __slots__ = (
        "iid", "ts", "t0", "kwargs", "result", "chunks", "times", "stream", "complete",
        "retries", "retry_statuses", "status", "parser", "parent", "session",
    )  # fmt: skip

    def __init__(self, parser: Parser, kwargs: dict[str, Any]) -> None:
        self.iid = st.IDS.next()
        self.parent = st.CURRENT.get()
        self.session = st.SESSION.get()  # the caller's, even if the stream is read elsewhere
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
        sink = st.SINK
        if not sink.enabled:
            return
        dt = perf_counter() - self.t0
        item = (st.INTERACTION, self.iid, self.ts, dt, None, meta, self.session)
        st.push(sink, self.iid, (*item, None, None, None, err, {"sdk": self}))


def failed(call: SdkCall, exc: BaseException) -> str:
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        call.status = status
    return type(exc).__qualname__
