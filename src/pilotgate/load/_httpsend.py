"""HTTP attempts: the lean raw client for plain ``http://``, aiohttp for everything else.

Both read a response the same way: the status and any ``x-ratelimit-*`` headers, the
server's ``Retry-After`` on an error, the output token count from the JSON body (or the
``usage`` of a stream), and for streamed answers the arrival time of every content token.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

import aiohttp

from pilotgate._response_path import DEFAULT_RESPONSE_PATH, MissingPath, lookup, parse_path
from pilotgate._sse import SseParser
from pilotgate.load._client import Attempt, Sender
from pilotgate.load._config import RetryPolicy
from pilotgate.load._h1parse import H1Limits, ProtocolError
from pilotgate.load._rawhttp import RawPool, build_request
from pilotgate.load._samples import ERROR_CLASSES, Recorder
from pilotgate.targets import retry_after_s

__all__ = ["AiohttpSender", "HttpSenderBase", "RawHttpSender", "head_to_dict"]

_HTTP, _TIMEOUT, _CONN, _PARSE = (
    ERROR_CLASSES.index(n) for n in ("http", "timeout", "connection", "parse")
)
_RL_PREFIX = "x-ratelimit-"
_LIMITS = H1Limits()
_PARSE_ERRORS = (ValueError, KeyError, IndexError, TypeError, LookupError, MissingPath)


def head_to_dict(head: bytes) -> dict[str, str]:
    """A raw response head's headers, names lower-cased (only built when they are needed)."""
    out: dict[str, str] = {}
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            out[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    return out


async def _read_capped(resp: aiohttp.ClientResponse) -> bytes:
    """The whole body, refused (a connection error) past the body limit."""
    limit = _LIMITS.body
    n = resp.content_length
    if n is not None:  # aiohttp reads exactly that many bytes: bounded already
        if n > limit:
            raise ProtocolError(f"content-length over the {limit}-byte limit")
        return await resp.read()
    parts: list[bytes] = []
    got = 0
    async for chunk in resp.content.iter_any():
        got += len(chunk)
        if got > limit:
            raise ProtocolError(f"body over the {limit}-byte limit")
        parts.append(chunk)
    return b"".join(parts)


class HttpSenderBase(Sender):
    """What both HTTP senders share: reading bodies, streams and rate-limit headers."""

    def __init__(
        self,
        url: str,
        bodies: list[bytes],
        *,
        kind: str,
        stream: bool,
        timeout_s: float,
        policy: RetryPolicy,
        rec: Recorder,
        t0: float,
        seed: int,
        response_path: str | None = None,
        tokens_out_path: str | None = None,
    ) -> None:
        super().__init__(policy, rec, t0, seed)
        self.url = url
        self.bodies = bodies
        self.openai = kind == "openai"
        self.anthropic = kind == "anthropic"
        self.stream = stream
        self.timeout_s = timeout_s
        self.path = parse_path(response_path or DEFAULT_RESPONSE_PATH)
        self.tokens_path = parse_path(tokens_out_path) if tokens_out_path else None

    def _ratelimit(self, headers: Mapping[str, str]) -> None:
        rl = self.rec.ratelimit
        mins = self.rec.ratelimit_min
        for k, v in headers.items():
            lk = k.lower()
            if lk.startswith(_RL_PREFIX):
                rl[lk] = v
                if lk.startswith("x-ratelimit-remaining"):
                    try:
                        x = float(v)
                    except ValueError:
                        continue
                    mins[lk] = min(x, mins.get(lk, x))

    def _parse_body(self, raw: bytes, out: Attempt) -> None:
        doc = json.loads(raw)
        if self.openai:
            usage = doc.get("usage") or {}
            n = usage.get("completion_tokens")
            if n is None:
                n = len(str(doc["choices"][0]["message"].get("content") or "").split())
            out.tokens = int(n)
            return
        if self.anthropic:
            out.tokens = int(doc["usage"]["output_tokens"])
            return
        if self.tokens_path is not None:
            n = lookup(doc, self.tokens_path)
            out.tokens = n if isinstance(n, int) else 0
        else:
            value = lookup(doc, self.path)
            out.tokens = len(value.split()) if isinstance(value, str) else 0

    def _read_events(self, events: Iterable[tuple[float, bytes]], out: Attempt) -> None:
        """Token times from ``(arrival s from t0, data payload)`` server-sent events."""
        if self.anthropic:
            _read_anthropic_events(events, out)
            return
        times: list[float] = []
        usage_tokens: int | None = None
        loads = json.loads
        for now, payload in events:
            if payload[:1] != b"{" and payload.strip() == b"[DONE]":
                break
            obj = loads(payload)
            choices = obj.get("choices")
            if choices:
                delta = choices[0].get("delta") or {}
                if delta.get("content"):
                    times.append(now)
            usage = obj.get("usage")
            if usage:
                usage_tokens = usage.get("completion_tokens", usage_tokens)
        if times:
            out.first_token = times[0]
            out.itl = [b - a for a, b in zip(times, times[1:], strict=False)]
        out.tokens = int(usage_tokens) if usage_tokens is not None else len(times)


def _read_anthropic_events(events: Iterable[tuple[float, bytes]], out: Attempt) -> None:
    """Messages API events: a token at each ``text_delta``, the count from ``message_delta``."""
    times: list[float] = []
    usage_tokens: int | None = None
    loads = json.loads
    for now, payload in events:
        obj = loads(payload)
        kind = obj.get("type")
        if kind == "content_block_delta":
            if obj["delta"].get("text"):
                times.append(now)
        elif kind == "message_delta":
            usage_tokens = (obj.get("usage") or {}).get("output_tokens", usage_tokens)
        elif kind == "message_stop":
            break
    if times:
        out.first_token = times[0]
        out.itl = [b - a for a, b in zip(times, times[1:], strict=False)]
    out.tokens = int(usage_tokens) if usage_tokens is not None else len(times)


class RawHttpSender(HttpSenderBase):
    """Attempts over the lean client's keep-alive pool (plain http:// targets)."""

    def __init__(self, url: str, headers: Mapping[str, str], bodies: list[bytes], **kw: Any):
        super().__init__(url, bodies, **kw)
        self.requests = [build_request(url, headers, b) for b in bodies]
        self.pool: RawPool | None = None

    def start(self, *, stamped: bool | None = None, limits: H1Limits | None = None) -> None:
        """Create the pool (needs the running loop); ``stamped``, ``limits``: see
        :class:`RawPool`."""
        self.pool = RawPool(self.url, self.timeout_s, stamped=stamped, limits=limits)

    def close(self) -> None:
        if self.pool is not None:
            self.rec.counters["connections_used"] += self.pool.used
            self.pool.used = 0
            self.pool.close()

    async def attempt(self, body_index: int, out: Attempt) -> None:
        pool = self.pool
        assert pool is not None
        data = self.requests[body_index]
        idle = pool.idle
        conn = None
        fresh = False
        try:
            while True:
                pooled = bool(idle) and not fresh
                conn = idle.pop() if pooled else await pool.connect()
                if conn.closed:
                    if not pooled:  # closed as soon as it opened: the server refuses us
                        raise ConnectionResetError("the server closed a new connection")
                    continue  # one the server closed while it waited: take the next
                was_used = conn.used
                try:
                    await conn.request(data, time.perf_counter() + self.timeout_s)
                except ConnectionResetError:
                    # A connection that waited in the pool (kept alive, or warmed ahead of
                    # the run) which the server closed just as we used it (its idle timeout
                    # raced the request): no answer came, so send again on a fresh
                    # connection, as production clients do, and count it as a retry.
                    if pooled and conn.status == 0:
                        if not was_used:  # a warm connection: it never carried a request
                            pool.used -= 1
                        out.resent += 1
                        fresh = True
                        continue
                    raise
                break
            t0 = self.t0
            out.end = conn.t_done - t0
            out.status = status = conn.status
            head = conn.head
            if status >= 300 or conn.ratelimit:
                headers = head_to_dict(head)
                self._ratelimit(headers)
                if status >= 300:
                    out.error = _HTTP
                    out.retry_after = retry_after_s(headers)
                    conn.release()
                    return
            if conn.sse:
                self._read_events([(t - t0, p) for t, p in conn.events], out)
                conn.release()
            else:
                body = conn.body
                conn.release()
                self._parse_body(body, out)
        except asyncio.CancelledError:
            if conn is not None:
                conn.abort()
            raise
        except TimeoutError:
            out.error = _TIMEOUT
        except OSError:
            out.error = _CONN
        except _PARSE_ERRORS:
            out.error = _PARSE


class AiohttpSender(HttpSenderBase):
    """Attempts over one aiohttp session (https, or anything the lean client leaves out).

    Redirects are never followed: the engine sends to the target URL only.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        headers: dict[str, str],
        bodies: list[bytes],
        **kw: Any,
    ) -> None:
        super().__init__(url, bodies, **kw)
        self.session = session
        self.headers = headers
        self.timeout = aiohttp.ClientTimeout(total=self.timeout_s)

    async def attempt(self, body_index: int, out: Attempt) -> None:
        try:
            async with self.session.post(
                self.url,
                data=self.bodies[body_index],
                headers=self.headers,
                timeout=self.timeout,
                allow_redirects=False,
            ) as resp:
                out.status = status = resp.status
                headers = resp.headers
                if headers.get("x-ratelimit-limit-requests") or status == 429:
                    self._ratelimit(headers)
                if status >= 300:
                    out.error = _HTTP
                    out.retry_after = retry_after_s(headers)
                    await _read_capped(resp)
                    return
                if self.stream and resp.content_type == "text/event-stream":
                    await self._read_stream(resp, out)
                else:
                    self._parse_body(await _read_capped(resp), out)
        except TimeoutError:
            out.error = _TIMEOUT
        except (aiohttp.ClientError, OSError):
            out.error = _CONN
        except _PARSE_ERRORS:
            out.error = _PARSE

    async def _read_stream(self, resp: aiohttp.ClientResponse, out: Attempt) -> None:
        pc = time.perf_counter
        t0 = self.t0
        parser = SseParser(max_line=_LIMITS.sse_line, max_event=_LIMITS.sse_event)
        got = 0
        async for chunk in resp.content.iter_any():
            got += len(chunk)
            if got > _LIMITS.body:
                raise ProtocolError(f"body over the {_LIMITS.body}-byte limit")
            parser.feed(chunk, pc() - t0)
        self._read_events(parser.events, out)

    @staticmethod
    def trace_config(rec: Recorder) -> aiohttp.TraceConfig:
        """Counts the connections aiohttp opens into ``rec`` (pass it to the session)."""

        async def opened(*_: Any) -> None:  # aiohttp opens a connection for a request
            rec.counters["connections_used"] += 1

        trace = aiohttp.TraceConfig()
        trace.on_connection_create_end.append(opened)
        return trace
