"""A lean HTTP/1.1 client for the load engine's hot path (plain ``http://`` only).

A load generator whose own per-request cost is high saturates its CPU and then reports its
own latency, not the target's. A general client (aiohttp) spends most of a small request's
cost on generality: header multidicts, cookie and redirect handling, stream readers. This
one is an :class:`asyncio.Protocol` over keep-alive connections that sends request bytes
built once per input and parses only what a load test needs: the status, a few headers,
a ``Content-Length``, chunked or read-until-close body, and, for streamed answers, every
server-sent event with the time its bytes arrived (TTFT and inter-token latency are
taken where the bytes land, not when a coroutine later gets round to them).

Framing follows RFC 9112 strictly (:mod:`pilotgate.load._h1parse`), events the WHATWG
rules (:mod:`pilotgate._sse`), and every buffer is bounded (:class:`H1Limits`): what a
real server may legitimately send is read, what it must not is refused, never guessed.

Timeouts are enforced by one sweep per pool (a timer every ~1 % of the timeout) instead
of a timer per request. Anything unusual (https, a proxy, odd headers) is left to aiohttp.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

from pilotgate._sse import SseError, SseParser
from pilotgate.load._h1parse import Framing, H1Limits, ProtocolError, chunk_size, framing
from pilotgate.load._rxstamp import StampedTransport, enable_stamps, stamping_supported

__all__ = ["H1Limits", "ProtocolError", "RawConn", "RawPool", "build_request", "raw_supported"]

_HEAD, _LEN, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_CRLF, _TRAILER, _CLOSE, _IDLE = range(8)
_INF = float("inf")
_NO_EVENTS: list[tuple[float, bytes]] = []


def raw_supported(url: str, headers: Mapping[str, str]) -> bool:
    """True when the lean client can send to ``url`` with ``headers`` (else use aiohttp)."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or parts.username or parts.password:
        return False
    for k, v in headers.items():
        if not k.isascii() or any(c in k + v for c in "\r\n\0") or ":" in k:
            return False
    return True


def build_request(url: str, headers: Mapping[str, str], body: bytes) -> bytes:
    """The complete bytes of one ``POST`` (built once per input, before the run)."""
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    lines = [f"POST {path} HTTP/1.1", f"Host: {parts.netloc}", "User-Agent: pilotgate-load"]
    lower = {k.lower() for k in headers}
    lines += [
        f"{k}: {v}" for k, v in headers.items() if k.lower() not in ("host", "content-length")
    ]
    if "content-type" not in lower:
        lines.append("Content-Type: application/json")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class RawConn(asyncio.Protocol):
    """One keep-alive connection carrying one request at a time.

    After :meth:`request` completes, ``status``, ``head`` (the raw header block), ``body``
    and, for event streams, ``events`` (``[(arrival time, data), …]``, dispatched by the
    WHATWG rules) describe the response and ``t_done`` is when its last byte arrived
    (``time.perf_counter``).
    """

    __slots__ = (
        "pool", "transport", "buf", "fut", "state", "need", "closed", "keep", "reused",
        "deadline", "status", "head", "body", "parts", "sse", "events", "parser", "t_done",
        "ratelimit", "got", "used",
    )  # fmt: skip

    def __init__(self, pool: RawPool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | StampedTransport | None = None
        self.buf = bytearray()
        self.fut: asyncio.Future[None] | None = None
        self.state = _IDLE
        self.need = 0
        self.closed = False
        self.keep = True
        self.reused = False
        self.deadline = _INF
        self.status = 0
        self.head = b""
        self.body = b""
        self.parts: list[bytes] = []
        self.sse = False
        self.events: list[tuple[float, bytes]] = _NO_EVENTS
        self.parser: SseParser | None = None
        self.t_done = 0.0
        self.ratelimit = False  # the response carries x-ratelimit-* headers
        self.got = 0  # body bytes so far (chunked and read-until-close bodies)
        self.used = False  # has carried a request (warm connections may never)

    # -- asyncio.Protocol ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        fut = self.fut
        if fut is not None and not fut.done():
            if self.state == _CLOSE:  # a body delimited by the end of the connection
                self._body_done(time.perf_counter())
            else:
                self.fut = None
                fut.set_exception(ConnectionResetError("the server closed the connection"))
        self.pool.discard(self)

    def data_received(self, data: bytes) -> None:
        self.feed(data, time.perf_counter())

    def feed(self, data: bytes, now: float) -> None:
        """Bytes that arrived at ``now`` (the kernel's receive stamp when there is one)."""
        if self.fut is None:  # bytes nobody asked for: the connection is unusable
            self.abort()
            return
        buf = self.buf
        if not buf and self.state == _HEAD and self._whole(data, now):
            return
        buf += data
        try:
            while buf or self.state == _TRAILER:
                state = self.state
                if state == _HEAD:
                    if not self._parse_head(now):
                        return
                elif state == _LEN:
                    if self.sse:
                        take = min(self.need, len(buf))
                        self._feed(bytes(buf[:take]), now)
                        del buf[:take]
                        self.need -= take
                        if self.need == 0:
                            self._body_done(now)
                    elif len(buf) >= self.need:
                        self.parts.append(bytes(buf[: self.need]))
                        del buf[: self.need]
                        self._body_done(now)
                    else:
                        return
                elif state == _CHUNK_SIZE:
                    i = buf.find(b"\r\n")
                    if i < 0:
                        if len(buf) > self.pool.limits.chunk_line:
                            raise ProtocolError("chunk-size line too long")
                        return
                    if i > self.pool.limits.chunk_line:
                        raise ProtocolError("chunk-size line too long")
                    size = chunk_size(bytes(buf[:i]))
                    del buf[: i + 2]
                    if size:
                        self._count(size)
                        self.need = size
                        self.state = _CHUNK_DATA
                    else:
                        self.state = _TRAILER
                elif state == _CHUNK_DATA:
                    take = min(self.need, len(buf))
                    self._feed(bytes(buf[:take]), now)
                    del buf[:take]
                    self.need -= take
                    if self.need:
                        return
                    self.state = _CHUNK_CRLF
                elif state == _CHUNK_CRLF:
                    if len(buf) < 2:
                        return
                    if buf[:2] != b"\r\n":
                        raise ProtocolError("bad chunk terminator")
                    del buf[:2]
                    self.state = _CHUNK_SIZE
                elif state == _TRAILER:
                    if not self._trailer():
                        return
                    self._body_done(now)
                elif state == _CLOSE:
                    self._count(len(buf))
                    self._feed(bytes(buf), now)
                    buf.clear()
                else:  # _IDLE with bytes left over: a server speaking out of turn
                    raise ProtocolError("unexpected bytes after the response")
        except SseError as exc:  # a stream over its bounds: the answer is unreadable
            self._fail(exc)
        except (ValueError, ProtocolError) as exc:
            self._fail(ProtocolError(str(exc)))

    # -- parsing ------------------------------------------------------------------------
    def _framing(self, head: bytes) -> Framing:
        """The framing of ``head``; a server's heads repeat, so each distinct one is parsed once."""
        pool = self.pool
        if head != pool.last_head:
            pool.last_framing = framing(head, pool.limits)
            pool.last_head = head
        return pool.last_framing

    def _whole(self, data: bytes, now: float) -> bool:
        """The common case in one step: a whole ``Content-Length`` response in one read."""
        end = data.find(b"\r\n\r\n")
        if end < 0 or end > self.pool.limits.head or not data.startswith(b"HTTP/1."):
            return False
        head = data[:end]
        try:
            status, keep, sse, chunked, length, ratelimit = self._framing(head)
        except ProtocolError:
            return False  # the slow path fails it
        if sse or chunked or length < 0 or status < 200 or len(data) != end + 4 + length:
            return False
        self.status, self.head, self.keep, self.sse = status, head, keep, False
        self.ratelimit = ratelimit
        self.body = data[end + 4 :]
        self._finish(now)
        return True

    def _parse_head(self, now: float) -> bool:
        buf = self.buf
        limit = self.pool.limits.head
        end = buf.find(b"\r\n\r\n")
        if end < 0 and len(buf) > limit or end > limit:
            raise ProtocolError(f"response head over {limit} bytes")
        if end < 0:
            return False
        head = bytes(buf[:end])
        del buf[: end + 4]
        status, self.keep, self.sse, chunked, length, self.ratelimit = self._framing(head)
        if 100 <= status < 200:  # 100 Continue and friends: the real answer follows
            return True
        self.status = status
        self.head = head
        if self.sse:
            lim = self.pool.limits
            self.parser = SseParser(max_line=lim.sse_line, max_event=lim.sse_event)
            self.events = self.parser.events
        if status in (204, 304) or length == 0:
            self._body_done(now)
        elif chunked:
            self.state = _CHUNK_SIZE
        elif length > 0:
            self.need = length
            self.state = _LEN
        else:
            self.state = _CLOSE
            self.keep = False
        return True

    def _trailer(self) -> bool:
        """Consume the trailer section (after the last chunk); False until it is whole."""
        buf = self.buf
        if buf[:2] == b"\r\n":
            del buf[:2]
            return True
        i = buf.find(b"\r\n\r\n")
        limit = self.pool.limits.trailer
        if i < 0 and len(buf) > limit or i > limit:
            raise ProtocolError(f"trailer section over {limit} bytes")
        if i < 0:
            return False
        del buf[: i + 4]
        return True

    def _count(self, n: int) -> None:
        self.got += n
        if self.got > self.pool.limits.body:
            raise ProtocolError(f"body over the {self.pool.limits.body}-byte limit")

    def _feed(self, data: bytes, now: float) -> None:
        parser = self.parser
        if parser is None:
            self.parts.append(data)
        else:
            parser.feed(data, now)

    def _body_done(self, now: float) -> None:
        parts = self.parts
        self.body = parts[0] if len(parts) == 1 else b"".join(parts)
        self._finish(now)

    def _finish(self, now: float) -> None:
        self.t_done = now
        self.state = _IDLE
        self.deadline = _INF
        fut = self.fut
        self.fut = None
        if fut is not None and not fut.done():
            fut.set_result(None)

    def _fail(self, exc: BaseException) -> None:
        fut = self.fut
        self.fut = None
        self.abort()
        if fut is not None and not fut.done():
            fut.set_exception(exc)

    # -- use ----------------------------------------------------------------------------
    def request(self, data: bytes, deadline: float) -> asyncio.Future[None]:
        """Send ``data`` (a whole request); the future completes with the response."""
        assert self.transport is not None and self.fut is None
        fut = self.pool.loop.create_future()
        self.fut = fut
        self.state = _HEAD
        self.deadline = deadline
        self.status = 0
        self.parts = []
        self.body = b""
        self.got = 0
        self.sse = False
        if not self.used:
            self.used = True
            self.pool.used += 1
        if self.parser is not None:
            self.parser = None
            self.events = _NO_EVENTS
        self.transport.write(data)
        return fut

    def timeout(self) -> None:
        self._fail(TimeoutError())

    def abort(self) -> None:
        """Drop the connection (a response is half read, or it misbehaved)."""
        self.keep = False
        self.closed = True
        if self.transport is not None:
            self.transport.abort()
        self.pool.discard(self)

    def release(self) -> None:
        """Give the connection back to the pool (or close it when it cannot be reused)."""
        if self.keep and not self.closed and self.state == _IDLE and not self.buf:
            self.reused = True
            self.pool.idle.append(self)
        else:
            self.abort()


class RawPool:
    """Keep-alive connections to one host:port, reused last-in first-out.

    The engine bounds the requests in flight (users, or ``--max-inflight``), so the pool
    grows to the concurrency and no further; idle connections the server closed drop out.
    """

    def __init__(
        self,
        url: str,
        timeout_s: float,
        *,
        stamped: bool | None = None,
        limits: H1Limits | None = None,
    ) -> None:
        """``stamped``: read kernel receive stamps (default: wherever the OS offers them);
        ``limits``: the most bytes accepted in each part of a response."""
        parts = urlsplit(url)
        self.limits = limits or H1Limits()
        self.stamped = stamping_supported() if stamped is None else stamped
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.timeout_s = timeout_s
        self.loop = asyncio.get_running_loop()
        self.idle: list[RawConn] = []
        self.conns: set[RawConn] = set()
        self.addr: tuple[int, str] | None = None
        self.tick = min(max(timeout_s / 100.0, 0.005), 0.25)
        self._sweeper: asyncio.TimerHandle | None = None
        self.opened = 0
        self.used = 0  # connections that carried at least one request
        self.last_head = b""
        self.last_framing: Framing = (0, False, False, False, -1, False)

    def _sweep(self) -> None:
        now = time.perf_counter()
        for conn in [c for c in self.conns if c.deadline <= now]:
            conn.timeout()
        self._sweeper = self.loop.call_later(self.tick, self._sweep)

    async def connect(self) -> RawConn:
        """A new connection (the name is resolved once; the first address that works wins)."""
        if self._sweeper is None:
            self._sweeper = self.loop.call_later(self.tick, self._sweep)
        if self.addr is None:
            infos = await self.loop.getaddrinfo(
                self.host, self.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
            candidates = [(int(i[0]), str(i[4][0])) for i in infos]
        else:
            candidates = [self.addr]
        conn: RawConn | None = None
        for n, (family, ip) in enumerate(candidates):
            try:
                conn = await asyncio.wait_for(self._open(family, ip), self.timeout_s)
            except OSError:
                if n == len(candidates) - 1:
                    raise
                continue
            self.addr = (family, ip)
            break
        assert conn is not None
        self.conns.add(conn)
        self.opened += 1
        return conn

    async def _open(self, family: int, ip: str) -> RawConn:
        if self.stamped:  # our own transport, reading the kernel's receive stamps
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                enable_stamps(sock)
                await self.loop.sock_connect(sock, (ip, self.port))
            except BaseException:
                sock.close()
                raise
            conn = RawConn(self)
            StampedTransport(self.loop, sock, conn)
            return conn
        _, conn = await self.loop.create_connection(
            lambda: RawConn(self), ip, self.port, family=family
        )
        raw = conn.transport.get_extra_info("socket") if conn.transport else None
        if raw is not None:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    async def warm(self, n: int) -> int:
        """Open up to ``n`` idle connections ahead of the run; returns how many opened.

        Production clients keep warm pools, and handshakes in the first second of a run
        would otherwise measure connection setup (and cost CPU while the schedule starts).
        """
        opened = 0
        while opened < n:
            batch = min(64, n - opened)
            got = await asyncio.gather(
                *(self.connect() for _ in range(batch)), return_exceptions=True
            )
            conns = [c for c in got if isinstance(c, RawConn)]
            self.idle.extend(conns)
            opened += len(conns)
            if len(conns) < batch:  # the server refuses more: use what we have
                break
        return opened

    def discard(self, conn: RawConn) -> None:
        self.conns.discard(conn)
        if conn in self.idle:
            self.idle.remove(conn)

    def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for conn in list(self.conns):
            if conn.transport is not None:
                conn.transport.close()
        self.conns.clear()
        self.idle.clear()
