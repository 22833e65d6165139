"""Token-bucket rate limits (requests and tokens per minute) and OpenAI's headers for them.

Providers meter with buckets that refill continuously, and say so in
``x-ratelimit-*`` headers on every response and ``Retry-After`` on a 429. Clients
that pace themselves on those headers (or ignore them) should meet the same numbers
here as in production.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Admission", "RateLimiter", "TokenBucket", "format_duration"]


def format_duration(seconds: float) -> str:
    """OpenAI's reset format: ``"20ms"``, ``"1.5s"``, ``"6m0s"``."""
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{max(1, math.ceil(seconds * 1000))}ms"
    minutes, secs = divmod(seconds, 60.0)
    text = f"{secs:.3f}".rstrip("0").rstrip(".") + "s"
    return f"{int(minutes)}m{text}" if minutes else text


class TokenBucket:
    """A bucket of ``capacity`` units, full at start, refilled at ``capacity`` per ``period_s``."""

    __slots__ = ("capacity", "rate", "level", "last")

    def __init__(self, capacity: float, period_s: float = 60.0, now: float = 0.0) -> None:
        self.capacity = float(capacity)
        self.rate = self.capacity / period_s
        self.level = self.capacity
        self.last = now

    def refill(self, now: float) -> None:
        """Add what accrued since the last call, up to capacity."""
        if now > self.last:
            self.level = min(self.capacity, self.level + (now - self.last) * self.rate)
            self.last = now

    def wait_for(self, amount: float) -> float:
        """Seconds until ``amount`` units are available (0 if they are now); call after refill."""
        missing = amount - self.level
        return 0.0 if missing <= 0 else missing / self.rate

    def reset_s(self) -> float:
        """Seconds until the bucket is full again."""
        return (self.capacity - self.level) / self.rate


@dataclass(frozen=True, slots=True)
class Admission:
    """The limiter's answer for one request.

    Attributes:
        ok: whether the request was admitted (and its units taken).
        retry_after_s: when not ok, seconds until it would be admitted.
        reason: when not ok, ``"requests"`` or ``"tokens"`` (the bucket that was short).
        headers: the ``x-ratelimit-*`` headers to send, after this request's units.
    """

    ok: bool
    retry_after_s: float
    reason: str
    headers: list[tuple[str, str]]


class RateLimiter:
    """Requests-per-minute and tokens-per-minute buckets checked together.

    A request is admitted only if both buckets hold enough; then both are debited.
    Nothing is taken from a rejected request, as with OpenAI.
    """

    def __init__(self, rpm: float | None, tpm: float | None, now: float) -> None:
        self.requests = TokenBucket(rpm, now=now) if rpm else None
        self.tokens = TokenBucket(tpm, now=now) if tpm else None

    @property
    def enabled(self) -> bool:
        """Whether any limit is configured (no headers at all otherwise)."""
        return self.requests is not None or self.tokens is not None

    def admit(self, now: float, tokens: int) -> Admission:
        """Try to admit one request costing ``tokens`` tokens at time ``now``."""
        wait_r = wait_t = 0.0
        if self.requests is not None:
            self.requests.refill(now)
            wait_r = self.requests.wait_for(1.0)
        if self.tokens is not None:
            self.tokens.refill(now)
            # A request larger than the whole bucket waits for a full bucket and still fails;
            # report the time to full so a client backs off instead of spinning.
            need = min(float(tokens), self.tokens.capacity)
            wait_t = self.tokens.wait_for(need)
            if tokens > self.tokens.capacity:
                wait_t = max(wait_t, self.tokens.reset_s(), 1.0)
        if wait_r > 0 or wait_t > 0:
            reason = "requests" if wait_r >= wait_t else "tokens"
            return Admission(False, max(wait_r, wait_t), reason, self._headers())
        if self.requests is not None:
            self.requests.level -= 1.0
        if self.tokens is not None:
            self.tokens.level -= tokens
        return Admission(True, 0.0, "", self._headers())

    def _headers(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        if self.requests is not None:
            b = self.requests
            out += [
                ("x-ratelimit-limit-requests", f"{b.capacity:.0f}"),
                ("x-ratelimit-remaining-requests", str(max(0, math.floor(b.level)))),
                ("x-ratelimit-reset-requests", format_duration(b.reset_s())),
            ]
        if self.tokens is not None:
            b = self.tokens
            out += [
                ("x-ratelimit-limit-tokens", f"{b.capacity:.0f}"),
                ("x-ratelimit-remaining-tokens", str(max(0, math.floor(b.level)))),
                ("x-ratelimit-reset-tokens", format_duration(b.reset_s())),
            ]
        return out
