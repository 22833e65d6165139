"""One request as a production client makes it: attempts, retries, backoff, and timings.

The retry policy copies what provider SDKs do (the OpenAI SDK: 2 retries, honour
``retry-after-ms`` / ``Retry-After`` up to 60 s, else jittered exponential backoff from
0.5 s), plus a retry budget so a melting target is not hit with a retry storm. Every wait
is real and lands in the request's user-facing latency.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from pilotgate.errors import TargetError
from pilotgate.load._config import RetryPolicy
from pilotgate.load._samples import ERROR_CLASSES, Recorder
from pilotgate.targets._http import DEFAULT_RESPONSE_PATH, _Missing, lookup, parse_path
from pilotgate.targets._retry import retry_after_s

__all__ = ["Attempt", "HttpSender", "PythonSender", "Sender", "retry_delay"]

_HTTP, _TIMEOUT, _CONN, _CANCELLED, _EXC, _PARSE = (
    ERROR_CLASSES.index(n)
    for n in ("http", "timeout", "connection", "cancelled", "exception", "parse")
)
_NAN = float("nan")
_RL_PREFIX = "x-ratelimit-"


class Attempt:
    """The outcome of one attempt (a small mutable record, reused field by field)."""

    __slots__ = ("status", "error", "first_token", "itl", "tokens", "retry_after")

    def __init__(self) -> None:
        self.status = 0
        self.error = 0
        self.first_token = _NAN
        self.itl: list[float] | None = None
        self.tokens = 0
        self.retry_after: float | None = None


def retry_delay(
    policy: RetryPolicy, retry_number: int, retry_after: float | None, u: float
) -> float:
    """Seconds to wait before retry ``retry_number`` (0-based), given a uniform draw ``u``."""
    if retry_after is not None and 0 <= retry_after <= policy.max_retry_after_s:
        return retry_after
    base = min(policy.initial_backoff_s * 2.0**retry_number, policy.max_backoff_s)
    return base * (1.0 - policy.jitter * u)


class Sender:
    """Runs requests with the retry policy and records them; subclasses make one attempt."""

    def __init__(self, policy: RetryPolicy, rec: Recorder, t0: float, seed: int) -> None:
        self.policy = policy
        self.rec = rec
        self.t0 = t0
        self.rng = random.Random(seed)
        self.started = 0
        self.retried = 0

    async def attempt(self, body_index: int, out: Attempt) -> None:
        raise NotImplementedError

    def _may_retry(self, out: Attempt, retries: int) -> bool:
        p = self.policy
        if retries >= p.max_retries:
            return False
        if out.error == _HTTP:
            if out.status not in p.retry_statuses:
                return False
        elif out.error not in (_TIMEOUT, _CONN):
            return False
        if p.budget_ratio is not None:
            return self.retried < p.budget_min + p.budget_ratio * self.started
        return True

    async def run(self, index: int, body_index: int, intended: float, dispatched: float) -> None:
        """Send one request to completion (or cancellation) and record it."""
        pc = time.perf_counter
        t0 = self.t0
        self.started += 1
        retries = 0
        wait = 0.0
        sent = last = pc() - t0
        out = Attempt()
        by_status = self.rec.by_status
        try:
            while True:
                await self.attempt(body_index, out)
                key = str(out.status) if out.status else ERROR_CLASSES[out.error]
                by_status[key] = by_status.get(key, 0) + 1
                if not out.error or not self._may_retry(out, retries):
                    break
                delay = retry_delay(self.policy, retries, out.retry_after, self.rng.random())
                retries += 1
                self.retried += 1
                t_wait = pc()
                await asyncio.sleep(delay)
                wait += pc() - t_wait
                out = Attempt()
                last = pc() - t0
        except asyncio.CancelledError:
            out.error = _CANCELLED
            self.rec.add(
                index, intended, dispatched, sent, last, out.first_token, pc() - t0,
                wait, out.tokens, out.status, retries, out.error, out.itl,
            )  # fmt: skip
            raise
        self.rec.add(
            index, intended, dispatched, sent, last, out.first_token, pc() - t0,
            wait, out.tokens, out.status, retries, out.error, out.itl,
        )  # fmt: skip


class HttpSender(Sender):
    """Attempts over one aiohttp session to one URL (redirects are never followed)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        headers: dict[str, str],
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
        self.session = session
        self.url = url
        self.headers = headers
        self.bodies = bodies
        self.openai = kind == "openai"
        self.stream = stream
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.path = parse_path(response_path or DEFAULT_RESPONSE_PATH)
        self.tokens_path = parse_path(tokens_out_path) if tokens_out_path else None

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
                    await resp.read()
                    return
                if self.stream and resp.content_type == "text/event-stream":
                    await self._read_stream(resp, out)
                else:
                    self._parse_body(await resp.read(), out)
        except TimeoutError:
            out.error = _TIMEOUT
        except (aiohttp.ClientError, OSError):
            out.error = _CONN
        except (ValueError, KeyError, IndexError, TypeError, LookupError, _Missing):
            out.error = _PARSE

    def _ratelimit(self, headers: Any) -> None:
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
        if self.tokens_path is not None:
            n = lookup(doc, self.tokens_path)
            out.tokens = n if isinstance(n, int) else 0
        else:
            value = lookup(doc, self.path)
            out.tokens = len(value.split()) if isinstance(value, str) else 0

    async def _read_stream(self, resp: aiohttp.ClientResponse, out: Attempt) -> None:
        pc = time.perf_counter
        t0 = self.t0
        times: list[float] = []
        usage_tokens: int | None = None
        loads = json.loads
        async for line in resp.content:
            if not line.startswith(b"data:"):
                continue
            payload = line[5:].strip()
            if payload == b"[DONE]":
                break
            now = pc() - t0
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


def load_callable(spec: str) -> Callable[[Any], Any]:
    """Import ``pkg.module:function``."""
    mod_name, sep, attr = spec.partition(":")
    if not sep:
        raise TargetError("expected 'pkg.module:function'", where=spec)
    try:
        fn = getattr(importlib.import_module(mod_name), attr)
    except (ImportError, AttributeError) as exc:
        raise TargetError(f"cannot import {spec}: {exc}", where=spec) from None
    if not callable(fn):
        raise TargetError(f"{spec} is not callable", where=spec)
    return fn  # type: ignore[no-any-return]


class PythonSender(Sender):
    """Attempts that call a Python function in process (async awaited, sync in a thread)."""

    def __init__(
        self,
        fn: Callable[[Any], Any],
        inputs: list[Any],
        *,
        timeout_s: float,
        policy: RetryPolicy,
        rec: Recorder,
        t0: float,
        seed: int,
    ) -> None:
        super().__init__(policy, rec, t0, seed)
        self.fn = fn
        self.inputs = inputs
        self.timeout_s = timeout_s
        self.is_async = inspect.iscoroutinefunction(fn)

    async def attempt(self, body_index: int, out: Attempt) -> None:
        arg = self.inputs[body_index]
        try:
            if self.is_async:
                coro: Awaitable[Any] = self.fn(arg)
            else:
                coro = asyncio.to_thread(self.fn, arg)
            result = await asyncio.wait_for(coro, self.timeout_s)
            out.status = 200
            out.tokens = len(str(result).split())
        except TimeoutError:
            out.error = _TIMEOUT
        except Exception:  # noqa: BLE001 - any failure of user code is one failed request
            out.error = _EXC
