"""What one call of a target produced: output, timings, usage and a classified error.

A load test, an eval run and a robustness suite all need the same facts about a call,
and none of them may crash because the feature under test failed. So a call never
raises: its failure is one of a few error classes that reports can count and compare.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "ERROR_CLASSES",
    "TargetResult",
    "error_for_status",
]

# The error classes a result may carry (plus "exception:<Name>" for a raised exception).
ERROR_CLASSES = (
    "timeout",
    "connect",
    "rate_limited",
    "http_4xx",
    "http_5xx",
    "bad_response",
)


def error_for_status(status: int) -> str | None:
    """The error class of an HTTP status, or None for a success (2xx)."""
    if 200 <= status < 300:
        return None
    if status == 429:
        return "rate_limited"
    if 400 <= status < 500:
        return "http_4xx"
    if status >= 500:
        return "http_5xx"
    return "bad_response"  # 1xx/3xx the client did not resolve


@dataclass(slots=True)
class TargetResult:
    """One call of a target.

    Times are ``time.perf_counter()`` seconds so that they can be compared with a load
    engine's own schedule; ``start`` is when the *first* attempt began, so latency and
    time to first token include any retry waits (what the caller experienced).

    Attributes:
        output: the text the feature answered ("" when the call failed).
        start: when the call began.
        end: when the call finished (last byte or failure).
        first_token: when the first content token arrived; None unless streamed.
        tokens_in: prompt tokens, when the target reports usage.
        tokens_out: output tokens, when the target reports usage.
        chunks: streamed content chunks received (0 when not streamed).
        status: HTTP status of the last attempt, None for Python targets or no response.
        error: None, or one of :data:`ERROR_CLASSES`, or ``"exception:<Name>"``.
        detail: a short human-readable explanation of the error (never secrets).
        retries: how many times the call was retried.
        retry_wait_ms: total time spent waiting between attempts.
        headers: response headers of interest (``x-ratelimit-*``, ``retry-after*``).
    """

    output: str = ""
    start: float = 0.0
    end: float = 0.0
    first_token: float | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    chunks: int = 0
    status: int | None = None
    error: str | None = None
    detail: str | None = None
    retries: int = 0
    retry_wait_ms: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the call produced an output without error."""
        return self.error is None

    @property
    def latency_ms(self) -> float:
        """End-to-end latency, milliseconds."""
        return (self.end - self.start) * 1000.0

    @property
    def ttft_ms(self) -> float | None:
        """Time to first token, milliseconds; None when not streamed."""
        if self.first_token is None:
            return None
        return (self.first_token - self.start) * 1000.0

    @property
    def itl_ms(self) -> float | None:
        """Mean inter-chunk latency of a stream, milliseconds; None under two chunks."""
        if self.first_token is None or self.chunks < 2:
            return None
        return (self.end - self.first_token) * 1000.0 / (self.chunks - 1)
