"""The Target protocol and the retry loop every built-in adapter shares.

An adapter only says how to make *one attempt*; :class:`BaseTarget` turns attempts
into a call: it times it, classifies whatever went wrong instead of raising, and
retries the failures a server tells us to retry, waiting as long as it asked.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import time
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

from pilotgate._net import safe_url
from pilotgate.targets._config import TargetConfig
from pilotgate.targets._result import TargetResult
from pilotgate.targets._retry import RETRYABLE_STATUS, Backoff, retry_after_s

__all__ = [
    "BaseTarget",
    "Input",
    "Target",
    "config_fingerprint",
    "safe_url",
]

Input = str | list[dict[str, Any]]

# Settings that change how a call is made, not what it answers: left out of the
# fingerprint so that a response cache survives a change of timeout or retries.
_TRANSPORT_FIELDS = frozenset(
    {
        "timeout_s",
        "retries",
        "retry_backoff_s",
        "retry_backoff_max_s",
        "retry_max_wait_s",
        "retry_seed",
        "api_key_env",
        "price_input_per_1k",
        "price_output_per_1k",
    }
)
_SECRET_HEADER = re.compile(r"auth|key|token|secret|cookie|passw|session", re.IGNORECASE)
_ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_DETAIL_MAX = 300


@runtime_checkable
class Target(Protocol):
    """How pilotgate calls the feature under test.

    ``call`` never raises for a failed call (only ``asyncio.CancelledError`` passes
    through); the failure is classified in the returned :class:`TargetResult`.
    """

    @property
    def config(self) -> TargetConfig:
        """The definition this target was built from."""
        ...

    @property
    def fingerprint(self) -> str:
        """A stable hash of the config, without secrets: a response-cache key."""
        ...

    async def call(self, input: Input) -> TargetResult:
        """Call the feature once with a text or a list of chat messages."""
        ...

    async def aclose(self) -> None:
        """Release what the target holds (its share of the HTTP session)."""
        ...


def _is_secret_header(name: str, value: str) -> bool:
    return bool(_SECRET_HEADER.search(name)) and not _ENV_REF.match(value)


def config_fingerprint(config: TargetConfig) -> str:
    """Hash of what determines a target's answers: no secrets, no transport knobs.

    Header values that look secret (authorization, api keys, cookies) are dropped,
    unless they are ``${ENV}`` references (then only the variable's name is hashed);
    the URL loses any user:password.
    """
    data = config.model_dump(mode="json", exclude=set(_TRANSPORT_FIELDS))
    data["url"] = safe_url(config.url) or None
    data["headers"] = {
        k.lower(): v for k, v in config.headers.items() if not _is_secret_header(k, v)
    }
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class BaseTarget:
    """Shared machinery: timing, error classification, retries, secrets hygiene.

    Subclasses implement :meth:`_attempt` (fill a result for one try) and may
    override :meth:`_classify` (map an exception to an error class).
    """

    kind = "base"

    def __init__(self, config: TargetConfig) -> None:
        self._config = config
        self._fingerprint = config_fingerprint(config)
        self._backoff = Backoff(
            base_s=config.retry_backoff_s,
            cap_s=config.retry_backoff_max_s,
            seed=config.retry_seed,
        )

    @property
    def config(self) -> TargetConfig:
        return self._config

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def describe(self) -> str:
        """The target as a spec-like string, safe to print."""
        return self.kind

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()} fp={self._fingerprint}>"

    async def __aenter__(self) -> BaseTarget:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        return None

    async def check(self) -> None:
        """Raise :class:`~pilotgate.errors.TargetError` if the target cannot be reached."""
        return None

    async def call(self, input: Input) -> TargetResult:
        start = time.perf_counter()
        retries = 0
        waited = 0.0
        while True:
            result = await self._safe_attempt(input)
            if result.error is None or retries >= self._config.retries:
                break
            wait = self._retry_wait(result, retries)
            if wait is None:
                break
            retries += 1
            waited += wait
            await asyncio.sleep(wait)
        result.start = start
        result.retries += retries  # the attempt may have counted re-sends of its own
        result.retry_wait_ms = waited * 1000.0
        return result

    def _retry_wait(self, result: TargetResult, attempt: int) -> float | None:
        """Seconds to wait before retrying ``result``, or None when it must not be retried."""
        retryable = result.status in RETRYABLE_STATUS or result.error == "connect"
        if not retryable:
            return None
        hint = retry_after_s(result.headers)
        if hint is not None:
            return hint if hint <= self._config.retry_max_wait_s else None
        return self._backoff.wait_s(attempt)

    async def _safe_attempt(self, input: Input) -> TargetResult:
        result = TargetResult()
        try:
            await self._attempt(input, result)
        except Exception as exc:  # a failed call is a result, never an exception
            result.error, detail = self._classify(exc)
            result.detail = self.scrub(detail)
        if result.end == 0.0:
            result.end = time.perf_counter()
        return result

    async def _attempt(self, input: Input, result: TargetResult) -> None:
        raise NotImplementedError

    def _classify(self, exc: Exception) -> tuple[str, str]:
        if isinstance(exc, TimeoutError):
            return "timeout", f"no answer within {self._config.timeout_s:g} s"
        return f"exception:{type(exc).__name__}", str(exc) or type(exc).__name__

    def _secret_values(self) -> list[str]:
        values: list[str] = []
        if self._config.api_key_env:
            values.append(os.environ.get(self._config.api_key_env, ""))
        for name, value in self._config.headers.items():
            ref = _ENV_REF.match(value)
            if ref:
                values.append(os.environ.get(ref.group(1), ""))
            elif _is_secret_header(name, value):
                values.append(value)
        return [v for v in values if len(v) >= 4]

    def scrub(self, text: str) -> str:
        """``text`` cut to a short line with every known secret value masked."""
        for secret in self._secret_values():
            text = text.replace(secret, "***")
        text = " ".join(text.split())
        return text if len(text) <= _DETAIL_MAX else text[: _DETAIL_MAX - 1] + "…"
