"""When to retry and how long to wait: the server's word first, then seeded backoff.

Providers say how long to back off (``Retry-After`` in seconds or as an HTTP date;
OpenAI-style ``retry-after-ms``). Ignoring it — as most load tools do — turns a brief
rate limit into a storm of 429s. Without a hint we back off exponentially with jitter
drawn from a seeded generator, so a rerun waits the same way.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["RETRYABLE_STATUS", "Backoff", "retry_after_s"]

RETRYABLE_STATUS = frozenset({429, 503})


def retry_after_s(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """The wait the server asked for, in seconds, or None when it gave no usable hint.

    ``retry-after-ms`` wins over ``Retry-After`` because it is more precise. Header
    names are matched case-insensitively; a date in the past means "now" (0 s).
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    ms = lowered.get("retry-after-ms")
    if ms is not None:
        try:
            value = float(ms) / 1000.0
        except ValueError:
            value = -1.0
        if value >= 0:
            return value
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 else None
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


class Backoff:
    """Jittered exponential backoff, capped, with a seeded generator.

    The wait before retry ``n`` (0-based) is drawn uniformly from ``[d/2, d]`` where
    ``d = min(cap, base * 2**n)``: "equal jitter", which spreads clients that failed
    together without ever retrying immediately.
    """

    def __init__(self, *, base_s: float, cap_s: float, seed: int) -> None:
        self.base_s = base_s
        self.cap_s = cap_s
        self._rng = random.Random(seed)

    def wait_s(self, attempt: int) -> float:
        ceiling = min(self.cap_s, self.base_s * (2.0 ** min(attempt, 30)))
        return ceiling / 2.0 + self._rng.random() * ceiling / 2.0
