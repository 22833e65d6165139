"""SDK settings: one frozen value object, validated without ever raising into the host.

``configure()`` is called by application code at start-up; a typo there must not take the
application down. So validation collects problems as strings (shown by ``stats()`` and
logged once); ``strict=True`` turns them into a :class:`~pilotgate.errors.ConfigError` for
people who prefer to fail fast (tests, CI).
"""

from __future__ import annotations

import difflib
import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["SDKSettings", "build_settings"]

Redactor = Callable[[str], str]


@dataclass(frozen=True)
class SDKSettings:
    """Where captured records go and how the SDK behaves when that place is away."""

    store: str | None = None
    """Store URL (local mode): records are written straight into it by the background thread."""
    collector: str | None = None
    """Collector base URL (remote mode), e.g. ``http://127.0.0.1:8765``."""
    api_key: str | None = field(default=None, repr=False)
    """Bearer key for the collector (``pilotgate keys create``)."""
    sample_rate: float = 1.0
    """Share of interactions kept, decided deterministically per interaction id."""
    redact: bool | Redactor | Any = True
    """True: apply ``pilotgate.redact.Redactor`` before records leave the process or reach the
    disk; a ``Redactor(patterns=…)`` for your own rules, a ``str -> str`` callable for your
    own function, False to keep text as is."""
    pseudonymise_ids: bool = True
    """With redaction on, store mode writes ``user_id`` and ``session_id`` as keyed hashes
    (HMAC with a secret kept in the store); a collector does the same on its side."""
    spill_dir: str | None = None
    """Directory for the append-only spill files (default ``$PILOTGATE_SPILL_DIR`` or
    ``./.pilotgate/spill``); a sub-directory per backend keeps backends apart."""
    spill_max_bytes: int = 256 * 1024 * 1024
    """Cap on the spill files' total size; records past it are dropped and counted."""
    buffer_size: int = 200_000
    """Captured calls held in memory before new ones are dropped (and counted)."""
    batch_size: int = 1000
    """Records per request / per store write; the thread also wakes when this many wait."""
    max_batch_bytes: int = 4 * 1024 * 1024
    """Largest request body sent to the collector: a bigger batch is split before it is sent
    (the collector's own limit, ``--max-body-mb``, is 16 MB by default; a 413 splits too)."""
    flush_interval_s: float = 0.5
    """Longest a captured record waits in memory before the background thread takes it."""
    exit_deadline_s: float = 1.0
    """At interpreter exit, how long to try sending before leaving the rest in the spill file."""
    timeout_s: float = 5.0
    """Per-request timeout to the collector (shortened near the exit deadline)."""
    retry_initial_s: float = 0.25
    """First retry delay after the backend fails; doubles up to ``retry_max_s``, with jitter."""
    retry_max_s: float = 30.0
    """Cap on the retry delay."""
    feature: str | None = None
    """Default feature name for ``@track`` without ``feature=``."""
    version: str = ""
    """Default feature version for ``@track`` without ``version=``."""
    enabled: bool = True
    """False turns capture off entirely (tracked functions still run)."""
    otlp_endpoint: str | None = None
    """Also export interactions as OTLP/HTTP JSON GenAI spans to this traces URL (e.g.
    ``http://127.0.0.1:4318/v1/traces``); best effort: failures are counted, not spilled."""
    otlp_headers: Mapping[str, str] | None = None
    """Extra headers for the OTLP endpoint (e.g. its API key)."""

    @property
    def backend(self) -> str | None:
        """``store:<url>`` / ``collector:<url>``, or None when nothing is configured."""
        if self.collector:
            return f"collector:{self.collector.rstrip('/')}"
        if self.store:
            return f"store:{self.store}"
        return None

    def spill_path(self) -> Path:
        """The spill sub-directory for this backend (records never cross backends)."""
        base = self.spill_dir or os.environ.get("PILOTGATE_SPILL_DIR") or ".pilotgate/spill"
        tag = hashlib.sha256((self.backend or "none").encode()).hexdigest()[:12]
        return Path(base) / tag


_NAMES = {f.name for f in fields(SDKSettings)}
_POSITIVE_INT = ("spill_max_bytes", "buffer_size", "batch_size", "max_batch_bytes")
_POSITIVE_FLOAT = ("flush_interval_s", "exit_deadline_s", "timeout_s", "retry_initial_s")


def build_settings(values: Mapping[str, Any]) -> tuple[SDKSettings, list[str]]:
    """Validate ``configure()`` arguments; returns usable settings and the problems found.

    Each bad value falls back to its default, so one typo does not disable everything; a
    contradiction that has no safe default (both or neither backend) disables export.
    """
    problems: list[str] = []
    clean: dict[str, Any] = {}
    defaults = SDKSettings()
    for key, value in values.items():
        if key not in _NAMES:
            close = difflib.get_close_matches(key, sorted(_NAMES), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"unknown setting {key!r}{hint}")
            continue
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        problem = _check(key, value)
        if problem:
            problems.append(f"{key}: {problem}; using {getattr(defaults, key)!r}")
            continue
        clean[key] = value
    if clean.get("store") and clean.get("collector"):
        problems.append("give store= or collector=, not both; capture is off until fixed")
        clean["enabled"] = False
    elif not clean.get("store") and not clean.get("collector"):
        env_c, env_s = os.environ.get("PILOTGATE_COLLECTOR"), os.environ.get("PILOTGATE_STORE")
        if env_c:
            clean["collector"] = env_c
        elif env_s:
            clean["store"] = env_s
        else:
            problems.append("no store= or collector= given; capture is off until configured")
            clean["enabled"] = False
    if clean.get("collector") and clean.get("api_key") is None:
        env_key = os.environ.get("PILOTGATE_API_KEY")
        if env_key:
            clean["api_key"] = env_key
    return SDKSettings(**clean), problems


def _check(key: str, value: Any) -> str | None:
    if key == "otlp_headers":
        ok = value is None or (
            isinstance(value, Mapping)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
        )
        return None if ok else "must be a mapping of str to str"
    if key in ("store", "collector", "spill_dir", "api_key", "feature", "otlp_endpoint"):
        if value is not None and (not isinstance(value, str) or not value):
            return "must be a non-empty string"
        if key in ("collector", "otlp_endpoint") and value is not None:
            parts = urlsplit(str(value))
            if parts.scheme not in ("http", "https") or not parts.hostname:
                return "must be an http(s):// URL"
        return None
    if key == "version":
        return None if isinstance(value, str) else "must be a string"
    if key == "sample_rate":
        ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1
        return None if ok else "must be a number between 0 and 1"
    if key == "redact":
        ok = isinstance(value, bool) or callable(value) or callable(getattr(value, "record", None))
        return None if ok else "must be a bool, a str -> str callable or a Redactor"
    if key in ("enabled", "pseudonymise_ids"):
        return None if isinstance(value, bool) else "must be a bool"
    if key in _POSITIVE_INT:
        ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
        return None if ok else "must be a positive integer"
    if key in _POSITIVE_FLOAT or key == "retry_max_s":
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
        return None if ok else "must be a positive number"
    return None
