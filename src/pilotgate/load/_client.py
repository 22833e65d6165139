"""One request as a production client makes it: attempts, retries, backoff, and timings.

The retry policy copies what provider SDKs do (the OpenAI SDK: 2 retries, honour
``retry-after-ms`` / ``Retry-After`` up to 60 s, else jittered exponential backoff from
0.5 s), plus a retry budget so a melting target is not hit with a retry storm. Every wait
is real and lands in the request's user-facing latency.
"""

from __future__ import annotations

import asyncio
import inspect
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pilotgate.load._config import RetryPolicy
from pilotgate.load._pypool import PythonPool
from pilotgate.load._samples import ERROR_CLASSES, Recorder

__all__ = ["Attempt", "PythonSender", "Sender", "retry_delay"]

_HTTP, _TIMEOUT, _CONN, _CANCELLED, _EXC, _PARSE = (
    ERROR_CLASSES.index(n)
    for n in ("http", "timeout", "connection", "cancelled", "exception", "parse")
)
_NAN = float("nan")


class Attempt:
    """The outcome of one attempt (a small mutable record, reused field by field)."""

    __slots__ = (
        "status", "error", "first_token", "itl", "tokens", "retry_after", "end", "resent",
    )  # fmt: skip

    def __init__(self) -> None:
        self.status = 0
        self.error = 0
        self.first_token = _NAN  # s from t0
        self.end = _NAN  # s from t0, when the sender knows when the last byte landed
        self.itl: list[float] | None = None
        self.tokens = 0
        self.retry_after: float | None = None
        # Times the attempt was sent again on a fresh connection because a reused one was
        # reset before any answer: each is a retry, counted as one in the result.
        self.resent = 0


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
        codes = self.rec.codes
        try:
            while True:
                await self.attempt(body_index, out)
                if out.resent:  # sends lost to a reset kept-alive connection: retries too
                    retries += out.resent
                    codes[-_CONN] = codes.get(-_CONN, 0) + out.resent
                    self.rec.counters["resent_after_reset"] += out.resent
                # Every attempt by status (int keys on the hot path; -error for no status).
                code = out.status or -out.error
                codes[code] = codes.get(code, 0) + 1
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
        except asyncio.CancelledError:  # the drain ended: the attempt in flight is counted
            out.error = _CANCELLED
            codes[-_CANCELLED] = codes.get(-_CANCELLED, 0) + 1
            self.rec.add(
                index, intended, dispatched, sent, last, out.first_token, pc() - t0,
                wait, out.tokens, out.status, retries, out.error, out.itl,
            )  # fmt: skip
            raise
        end = out.end
        self.rec.add(
            index, intended, dispatched, sent, last, out.first_token,
            end if end == end else pc() - t0,
            wait, out.tokens, out.status, retries, out.error, out.itl,
        )  # fmt: skip


class PythonSender(Sender):
    """Attempts that call a Python function in process (async awaited, sync in ``pool``)."""

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
        pool: PythonPool | None = None,
    ) -> None:
        super().__init__(policy, rec, t0, seed)
        self.fn = fn
        self.inputs = inputs
        self.timeout_s = timeout_s
        self.is_async = inspect.iscoroutinefunction(fn)
        self.pool = pool

    async def attempt(self, body_index: int, out: Attempt) -> None:
        arg = self.inputs[body_index]
        try:
            if self.is_async:
                coro: Awaitable[Any] = self.fn(arg)
            elif self.pool is not None:
                coro = self.pool.call(arg)
            else:
                coro = asyncio.to_thread(self.fn, arg)
            result = await asyncio.wait_for(coro, self.timeout_s)
            out.status = 200
            out.tokens = len(str(result).split())
        except TimeoutError:
            out.error = _TIMEOUT
        except Exception:  # noqa: BLE001 - any failure of user code is one failed request
            out.error = _EXC
