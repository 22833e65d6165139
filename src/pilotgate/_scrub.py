"""Making user and run text safe to show on a page: keys masked, PII redacted, length capped.

The report and the dashboard both show production text; this is their one scrubber.
Internal: not part of the public API (it was ``pilotgate.report.scrub``).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["clip", "scrub"]

_SECRET_FLAGS = re.compile(
    r"(?i)(?=[-aptsk])(--?(?:api[-_]?key|token|password|secret)[= ]+|authorization:\s*bearer\s+|"
    r"(?:api[-_]?key|token|password|secret)=)([^\s\"'\\]+)"
)
_TIMESTAMP = re.compile(
    r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)
_KEYLIKE = re.compile(r"\b(pg_[0-9a-f]{12}_[A-Za-z0-9_\-]{20,}|sk-[A-Za-z0-9_\-]{16,})\b")


_HARD_CAP = 100_000
"""Longest text shown even without a limit (run documents): nobody reads more on a page."""
_SCRUB_MARGIN = 400
"""Characters kept past the limit while redacting, so a secret cut by the limit is still
recognised (and replaced by a shorter placeholder) rather than shown in part."""


def scrub(text: Any, limit: int | None = 600) -> str:
    """User or run text made safe to show: API keys masked, PII redacted, length capped.

    Inputs and outputs come from production; the store normally holds them redacted
    already, but the report must not be the place where something slips through.
    """
    from pilotgate._term import visible
    from pilotgate.redact import redact_text

    s = "" if text is None else text if isinstance(text, str) else str(text)
    # clip first: redaction time then never depends on the input's size
    if len(s) > (cap := _HARD_CAP if limit is None else limit + _SCRUB_MARGIN):
        s = s[:cap]
        limit = cap if limit is None else limit
    s = _SECRET_FLAGS.sub(lambda m: m.group(1) + "[SECRET]", s)
    s = _KEYLIKE.sub("[SECRET]", s)
    # timestamps look like phone numbers to the redactor: set them aside, redact, restore
    stamps: list[str] = []

    def park(m: re.Match[str]) -> str:
        stamps.append(m.group(0))
        return f"\u27e6{_letters(len(stamps) - 1)}\u27e7"

    s = redact_text(_TIMESTAMP.sub(park, s)).text
    if stamps:

        def restore(m: re.Match[str]) -> str:
            i = _index(m.group(1))
            return stamps[i] if i < len(stamps) else m.group(0)

        s = re.sub("\u27e6([a-z]+)\u27e7", restore, s)
    return clip(visible(s), limit)


def _letters(i: int) -> str:
    out = ""
    while True:
        out = chr(97 + i % 26) + out
        i = i // 26 - 1
        if i < 0:
            return out


def _index(letters: str) -> int:
    i = 0
    for ch in letters:
        i = i * 26 + (ord(ch) - 96)
    return i - 1


def clip(s: str, limit: int | None) -> str:
    if limit is not None and len(s) > limit:
        return s[: limit - 1] + "…"
    return s
