"""The simulated provider: routing, auth, rate limits, capacity queue, stalls, replies.

Order of checks for a chat completion, as a real provider applies them: API key
(401), request shape (400), rate limits (429, nothing taken), injected error (500),
queue full (503); then the request waits FIFO for a capacity slot, waits out its
time to first token and emits its tokens at their sampled gaps. A stall holds
every write (and every slot start) that falls inside its window until it ends.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from pilotgate.errors import ConfigError
from pilotgate.simulator._anthropic import (
    AnthropicStreamRenderer,
    anthropic_error,
    as_chat_body,
    parse_messages_body,
    render_message,
)
from pilotgate.simulator._chat import (
    BadRequest,
    Plan,
    StreamRenderer,
    body_digest,
    error_body,
    parse_body,
    plan_reply,
    render_completion,
    request_rng,
)
from pilotgate.simulator._http import Connection, Request
from pilotgate.simulator._limits import RateLimiter
from pilotgate.simulator._profile import SimulatorProfile

__all__ = ["Simulator", "SimulatorStats"]

_COMPLETIONS = ("/v1/chat/completions", "/chat/completions")
_MODELS = ("/v1/models", "/models")
_MESSAGES = ("/v1/messages", "/messages")
_clock = time.monotonic
"""The simulator's clock. Not ``loop.time()``: uvloop's is read once per loop turn and
kept in whole milliseconds, so a reply timed against it could leave up to a millisecond
before the profile says (a measured latency shorter than the one simulated)."""


async def _sleep_until(t: float) -> None:
    """Return at ``_clock() >= t``, never before (uvloop rounds a timer to the nearest
    millisecond, so it can fire early: the rest is slept again)."""
    while (left := t - _clock()) > 0:
        await asyncio.sleep(left)


@dataclass
class SimulatorStats:
    """Counters since start; read them from any thread."""

    requests: int = 0
    """HTTP requests received (all paths)."""
    completions: int = 0
    """Chat completion and Anthropic Messages requests received."""
    by_status: dict[int, int] = field(default_factory=dict)
    """Responses sent, by HTTP status."""
    rate_limited: int = 0
    """429 answers."""
    errors_injected: int = 0
    """500 answers from ``error_rate``."""
    queue_rejected: int = 0
    """503 answers because the queue was full."""
    in_flight: int = 0
    """Requests holding a capacity slot now."""
    in_flight_max: int = 0
    """Most requests ever holding a slot at once."""
    queued: int = 0
    """Requests waiting for a slot now."""
    queued_max: int = 0
    """Longest the queue ever was."""
    prompt_tokens: int = 0
    """Prompt tokens of the completions served."""
    completion_tokens: int = 0
    """Completion tokens of the completions served (sent in full)."""
    token_events: int = 0
    """Streamed content events written."""
    disconnects: int = 0
    """Completions abandoned by the client before their end."""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (status keys as strings)."""
        d = asdict(self)
        d["by_status"] = {str(k): v for k, v in sorted(self.by_status.items())}
        return d


@dataclass(frozen=True)
class _Dialect:
    """How one API renders the shared plan: errors, whole replies, streams."""

    error: Callable[[int, str, str, str | None], bytes]
    whole: Callable[[Plan, int], bytes]
    stream: Callable[[Plan, int, bool], Any]


_CHAT = _Dialect(
    error=lambda status, msg, type_, code: error_body(msg, type_, code),
    whole=render_completion,
    stream=StreamRenderer,
)
_ANTHROPIC = _Dialect(
    error=lambda status, msg, type_, code: anthropic_error(status, msg),
    whole=lambda plan, created: render_message(plan),
    stream=AnthropicStreamRenderer,
)


class Simulator:
    """An OpenAI-compatible provider on loopback whose behaviour a :class:`SimulatorProfile` sets.

    Args:
        profile: the behaviour; the defaults when ``None``.
        seed: makes every reply and every sampled delay reproducible.
    """

    def __init__(self, profile: SimulatorProfile | None = None, *, seed: int = 0) -> None:
        self.profile = profile or SimulatorProfile()
        self.seed = seed
        self.stats = SimulatorStats()
        self.host = "127.0.0.1"
        self.port = 0
        self._server: asyncio.AbstractServer | None = None
        self._conns: set[Connection] = set()
        self._occurrences: dict[bytes, int] = {}
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._limiter = RateLimiter(None, None, 0.0)
        self._stall = (float("inf"), float("inf"))

    @property
    def url(self) -> str:
        """``http://HOST:PORT``; the OpenAI base URL is ``url + "/v1"``."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, ``url + "/v1"``."""
        return self.url + "/v1"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (0: a free port, then read :attr:`port`).

        Raises:
            ConfigError: the address cannot be bound.
        """
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(
                lambda: Connection(self._handle, self._conns), host, port, backlog=1024
            )
        except OSError as exc:
            raise ConfigError(
                f"cannot listen: {exc.strerror or exc}",
                where=f"{host}:{port}",
                fix="choose another --port (0 picks a free one)",
            ) from exc
        sock = self._server.sockets[0]
        self.host, self.port = host, sock.getsockname()[1]
        now = _clock()
        p = self.profile
        self._limiter = RateLimiter(p.rpm, p.tpm, now)
        if p.stall_at_s is not None and p.stall_ms > 0:
            self._stall = (now + p.stall_at_s, now + p.stall_at_s + p.stall_ms / 1000.0)

    async def stop(self) -> None:
        """Stop listening, drop open connections, and wait for their handlers to end."""
        if self._server is None:
            return
        self._server.close()
        tasks = [c._task for c in list(self._conns) if c._task is not None]
        for conn in list(self._conns):
            conn.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> Simulator:
        if self._server is None:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- routing ------------------------------------------------------------------------
    async def _handle(self, req: Request, conn: Connection) -> None:
        self.stats.requests += 1
        path = req.path
        if path in _COMPLETIONS:
            if req.method != "POST":
                self._send(conn, 405, error_body("Use POST.", "invalid_request_error"))
            else:
                await self._completion(req, conn)
        elif path in _MESSAGES:
            if req.method != "POST":
                self._send(conn, 405, anthropic_error(405, "Use POST."))
            else:
                await self._messages(req, conn)
        elif path in _MODELS and req.method == "GET":
            if self._authorized(req, conn):
                self._send(conn, 200, self._models())
        elif path == "/health" and req.method == "GET":
            self._send(conn, 200, b'{"status":"ok"}')
        elif path == "/stats" and req.method == "GET":
            self._send(conn, 200, json.dumps(self.stats.as_dict()).encode())
        else:
            msg = f"Unknown request URL: {req.method} {path}."
            self._send(conn, 404, error_body(msg, "invalid_request_error", "unknown_url"))

    def _send(
        self, conn: Connection, status: int, body: bytes, headers: Sequence[tuple[str, str]] = ()
    ) -> None:
        by = self.stats.by_status
        by[status] = by.get(status, 0) + 1
        conn.send(status, body, headers)

    def _authorized(self, req: Request, conn: Connection, anthropic: bool = False) -> bool:
        key = self.profile.api_key
        if key is None or req.headers.get("authorization") == f"Bearer {key}":
            return True
        if anthropic and req.headers.get("x-api-key") == key:
            return True
        if anthropic:
            self._send(conn, 401, anthropic_error(401, "invalid x-api-key"))
            return False
        msg = "Incorrect API key provided. Send 'Authorization: Bearer <key>'."
        self._send(conn, 401, error_body(msg, "invalid_request_error", "invalid_api_key"))
        return False

    def _models(self) -> bytes:
        data = [
            {"id": m, "object": "model", "created": 0, "owned_by": "pilotgate"}
            for m in self.profile.models
        ]
        return json.dumps({"object": "list", "data": data}).encode()

    # -- chat completions and Anthropic messages ----------------------------------------
    async def _completion(self, req: Request, conn: Connection) -> None:
        self.stats.completions += 1
        if not self._authorized(req, conn):
            return
        try:
            body = parse_body(req.body)
        except BadRequest as exc:
            self._send(conn, 400, error_body(str(exc), "invalid_request_error", None, exc.param))
            return
        await self._serve(conn, body, _CHAT)

    async def _messages(self, req: Request, conn: Connection) -> None:
        self.stats.completions += 1
        if not self._authorized(req, conn, anthropic=True):
            return
        if not req.headers.get("anthropic-version"):
            self._send(conn, 400, anthropic_error(400, "anthropic-version: header is required"))
            return
        try:
            body = parse_messages_body(req.body)
        except BadRequest as exc:
            self._send(conn, 400, anthropic_error(400, str(exc)))
            return
        await self._serve(conn, as_chat_body(body), _ANTHROPIC)

    async def _serve(self, conn: Connection, body: dict[str, Any], dialect: _Dialect) -> None:
        digest = body_digest(body)
        occurrence = self._occurrences.get(digest, 0)
        plan = plan_reply(body, self.profile, request_rng(self.seed, digest, occurrence))
        headers = [("x-request-id", plan.rid)]
        limiter = self._limiter
        if limiter.enabled:
            adm = limiter.admit(self._now(), plan.prompt_tokens + plan.completion_tokens)
            headers += adm.headers
            if not adm.ok:
                self._rate_limited(conn, adm.retry_after_s, adm.reason, headers, dialect)
                return
        # Only admitted requests advance the occurrence count, so a retry after a 429 gets
        # the reply the first attempt would have had.
        self._occurrences[digest] = occurrence + 1
        if plan.error:
            self.stats.errors_injected += 1
            msg = "The server had an error while processing your request. Sorry about that!"
            self._send(conn, 500, dialect.error(500, msg, "server_error", None), headers)
            return
        if not self._try_enqueue(conn, headers, dialect):
            return
        try:
            await self._acquire()
        except asyncio.CancelledError:
            self.stats.disconnects += 1
            raise
        try:
            await self._unstalled()
            if body.get("stream"):
                opts = body.get("stream_options")
                include_usage = isinstance(opts, dict) and opts.get("include_usage") is True
                render = dialect.stream(plan, int(time.time()), include_usage)
                await self._stream(conn, plan, headers, render)
            else:
                await self._whole(conn, plan, headers, dialect)
        except asyncio.CancelledError:
            self.stats.disconnects += 1
            raise
        finally:
            self._release()

    def _rate_limited(
        self,
        conn: Connection,
        wait_s: float,
        reason: str,
        headers: list[tuple[str, str]],
        dialect: _Dialect,
    ) -> None:
        self.stats.rate_limited += 1
        wait_ms = max(1, int(wait_s * 1000 + 0.999))
        headers += [
            ("retry-after", str(max(1, -(-wait_ms // 1000)))),
            ("retry-after-ms", str(wait_ms)),
        ]
        p = self.profile
        limit = f"{p.rpm:g} requests" if reason == "requests" else f"{p.tpm:g} tokens"
        msg = f"Rate limit reached: limit {limit} per minute. Please try again in {wait_ms}ms."
        self._send(conn, 429, dialect.error(429, msg, reason, "rate_limit_exceeded"), headers)

    async def _whole(
        self, conn: Connection, plan: Plan, headers: list[tuple[str, str]], dialect: _Dialect
    ) -> None:
        delay = plan.duration_s
        if delay > 0:
            await _sleep_until(_clock() + delay)
            await self._unstalled()
        self._served(plan)
        self._send(conn, 200, dialect.whole(plan, int(time.time())), headers)

    async def _stream(
        self, conn: Connection, plan: Plan, headers: list[tuple[str, str]], render: Any
    ) -> None:
        by = self.stats.by_status
        by[200] = by.get(200, 0) + 1
        conn.start_stream(headers)
        tokens, gaps, n = plan.tokens, plan.gaps_s, len(plan.tokens)
        due = _clock() + plan.ttft_s
        i = 0
        batch = [render.role()]
        stall_start, stall_end = self._stall
        while i < n:
            # never before a token is due (a latency measured against the profile may
            # come out later, never shorter); the tokens due by then go out in one write
            await _sleep_until(due)
            now = _clock()
            if stall_start <= now < stall_end:
                await _sleep_until(stall_end)
                now = _clock()
            start = i
            while i < n and due <= now:
                batch.append(render.token(tokens[i]))
                if i < n - 1:
                    due += gaps[i]
                i += 1
            if i == n:
                batch.append(render.finish())
                batch.append(render.usage())
                batch.append(render.done())
            conn.write_chunk(b"".join(batch))
            batch = []
            self.stats.token_events += i - start
            await conn.drain()
            if conn.closed:
                raise asyncio.CancelledError
        conn.end_stream()
        self._served(plan)

    def _served(self, plan: Plan) -> None:
        self.stats.prompt_tokens += plan.prompt_tokens
        self.stats.completion_tokens += plan.completion_tokens

    # -- capacity, queue, stall ---------------------------------------------------------
    def _now(self) -> float:
        return _clock()

    def _try_enqueue(
        self, conn: Connection, headers: list[tuple[str, str]], dialect: _Dialect
    ) -> bool:
        """503 when the request would have to queue and the queue is full."""
        p = self.profile
        if p.capacity is None or p.max_queue is None:
            return True
        if self.stats.in_flight < p.capacity or len(self._waiters) < p.max_queue:
            return True
        self.stats.queue_rejected += 1
        msg = "The engine is currently overloaded, please try again later."
        self._send(conn, 503, dialect.error(503, msg, "server_error", "overloaded"), headers)
        return False

    async def _acquire(self) -> None:
        """Take a slot, waiting FIFO behind earlier requests when all are busy."""
        st, cap = self.stats, self.profile.capacity
        if cap is None or (st.in_flight < cap and not self._waiters):
            st.in_flight += 1
            st.in_flight_max = max(st.in_flight_max, st.in_flight)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        st.queued = len(self._waiters)
        st.queued_max = max(st.queued_max, st.queued)
        try:
            await fut  # _release hands its slot over: in_flight stays counted
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self._release()  # the slot was handed to us as we were cancelled
            elif fut in self._waiters:
                self._waiters.remove(fut)
                st.queued = len(self._waiters)
            raise

    def _release(self) -> None:
        st = self.stats
        while self._waiters:
            fut = self._waiters.popleft()
            st.queued = len(self._waiters)
            if not fut.done():
                fut.set_result(None)
                return
        st.in_flight -= 1

    async def _unstalled(self) -> None:
        start, end = self._stall
        if start <= _clock() < end:
            await _sleep_until(end)
