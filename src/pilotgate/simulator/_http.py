"""A minimal HTTP/1.1 server on asyncio's Protocol API, built for one job: being fast.

A provider simulator must never be what a load test measures. A general framework
spends tens of microseconds per request on routing, middleware and header objects;
this server parses exactly what an OpenAI client sends (request line, headers,
``Content-Length`` body), keeps connections alive, answers pipelined requests in
order, and streams with chunked transfer encoding, honouring write back-pressure.
Chunked *request* bodies are refused with 411 (no OpenAI client sends them).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import cast

__all__ = ["Connection", "Handler", "Request", "reason"]

_log = logging.getLogger("pilotgate.simulator")

MAX_HEAD = 64 * 1024
MAX_BODY = 16 * 1024 * 1024

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Payload Too Large",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def reason(status: int) -> str:
    """The reason phrase for ``status``."""
    return _REASONS.get(status, "Unknown")


class Request:
    """One parsed request: method, path (without query), lower-cased headers, body."""

    __slots__ = ("method", "path", "headers", "body", "keep_alive")

    def __init__(
        self, method: str, path: str, headers: dict[str, str], body: bytes, keep_alive: bool
    ) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.keep_alive = keep_alive


Handler = Callable[[Request, "Connection"], Awaitable[None]]


class Connection(asyncio.Protocol):
    """One client connection. The handler answers with :meth:`send` or with
    :meth:`start_stream` / :meth:`write_chunk` / :meth:`end_stream`."""

    def __init__(self, handler: Handler, registry: set[Connection]) -> None:
        self._handler = handler
        self._registry = registry
        self._buf = bytearray()
        self._transport: asyncio.Transport | None = None
        self._task: asyncio.Task[None] | None = None
        self._keep_alive = True
        self._http10 = False
        self._chunked = True
        self._paused = False
        self._drain: asyncio.Future[None] | None = None
        self._continued = False
        self.closed = False

    # -- asyncio.Protocol -------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, but implement it.
        self._transport = cast(asyncio.Transport, transport)
        self._registry.add(self)

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if self._task is None:
            self._next()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._registry.discard(self)
        if self._task is not None:
            self._task.cancel()
        self._wake()

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._wake()

    def _wake(self) -> None:
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)
        self._drain = None

    # -- request parsing -----------------------------------------------------------------
    def _next(self) -> None:
        """Parse one complete request from the buffer, if there is one, and run it."""
        buf = self._buf
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > MAX_HEAD:
                self._fail(431)
            return
        try:
            lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            self._fail(400)
            return
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "transfer-encoding" in headers:
            self._fail(411)
            return
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            self._fail(400)
            return
        if length < 0 or length > MAX_BODY:
            self._fail(413 if length > 0 else 400)
            return
        total = end + 4 + length
        if len(buf) < total:
            expect = headers.get("expect", "").lower() == "100-continue"
            if length and expect and not self._continued:
                self._continued = True
                self._write(b"HTTP/1.1 100 Continue\r\n\r\n")
            return
        self._continued = False
        body = bytes(buf[end + 4 : total])
        del buf[:total]
        conn = headers.get("connection", "").lower()
        self._http10 = version == "HTTP/1.0"
        keep_alive = conn == "keep-alive" if self._http10 else conn != "close"
        self._keep_alive = keep_alive
        path = target.split("?", 1)[0]
        req = Request(method, path, headers, body, keep_alive)
        self._task = asyncio.get_running_loop().create_task(self._run(req))

    async def _run(self, req: Request) -> None:
        try:
            await self._handler(req, self)
        except asyncio.CancelledError:
            return
        except Exception:  # a handler bug must not kill the server; answer 500, close
            _log.exception("simulator handler failed on %s %s", req.method, req.path)
            if not self.closed:
                self._fail(500)
            return
        self._task = None
        if not self._keep_alive:
            self.close()
        elif self._buf and not self.closed:
            self._next()

    def _fail(self, status: int) -> None:
        body = f'{{"error":{{"message":"{reason(status)}","type":"invalid_request_error"}}}}'
        self._keep_alive = False
        self.send(status, body.encode(), [])
        self.close()

    # -- responses ----------------------------------------------------------------------
    def _head(self, status: int, headers: Iterable[tuple[str, str]], extra: str) -> bytes:
        parts = [f"HTTP/1.1 {status} {reason(status)}\r\nserver: pilotgate-simulator\r\n"]
        parts.extend(f"{k}: {v}\r\n" for k, v in headers)
        if not self._keep_alive:
            parts.append("connection: close\r\n")
        elif self._http10:
            parts.append("connection: keep-alive\r\n")
        parts.append(extra)
        return "".join(parts).encode("latin-1")

    def _write(self, data: bytes) -> None:
        if self._transport is not None and not self.closed:
            self._transport.write(data)

    def send(
        self,
        status: int,
        body: bytes,
        headers: Iterable[tuple[str, str]],
        content_type: str = "application/json",
    ) -> None:
        """Send a whole response with a ``Content-Length`` body."""
        extra = f"content-type: {content_type}\r\ncontent-length: {len(body)}\r\n\r\n"
        self._write(self._head(status, headers, extra) + body)

    def start_stream(self, headers: Iterable[tuple[str, str]]) -> None:
        """Send 200 headers for a ``text/event-stream`` body: chunked for HTTP/1.1, and
        delimited by closing the connection for HTTP/1.0 (which has no chunked encoding)."""
        self._chunked = not self._http10
        framing = "transfer-encoding: chunked\r\n\r\n"
        if not self._chunked:
            self._keep_alive = False
            framing = "\r\n"
        extra = (
            "content-type: text/event-stream; charset=utf-8\r\ncache-control: no-cache\r\n"
            + framing
        )
        self._write(self._head(200, headers, extra))

    def write_chunk(self, data: bytes) -> None:
        """Send one piece of a streamed body (an empty piece is dropped: in chunked
        encoding it would end the body)."""
        if not data:
            return
        if self._chunked:
            self._write(b"%x\r\n%b\r\n" % (len(data), data))
        else:
            self._write(data)

    def end_stream(self) -> None:
        """Terminate the streamed body (HTTP/1.0: the connection closes after the handler)."""
        if self._chunked:
            self._write(b"0\r\n\r\n")

    async def drain(self) -> None:
        """Wait while the transport's write buffer is over its high-water mark."""
        if self._paused and not self.closed:
            self._drain = asyncio.get_running_loop().create_future()
            await self._drain

    def close(self) -> None:
        """Close the connection after flushing what was written."""
        if self._transport is not None and not self.closed:
            self._transport.close()
