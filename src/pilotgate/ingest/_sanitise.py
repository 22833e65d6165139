"""What a store can hold: text normalised, impossible values refused, record by record.

PostgreSQL refuses a NUL character anywhere in a statement, and neither store can encode a
lone UTF-16 surrogate (``"\\ud800"`` is valid JSON): one such string used to fail the whole
batch's INSERT. Both are replaced here with U+FFFD and counted (``normalised``). Values no
replacement can save are refused with the field and the reason, so the batch's other
records are stored: timestamps that leave the datetime range once converted to UTC
(``0001-01-01T00:00:00+14:00``), non-finite numbers (``1e999`` decodes to infinity),
integers past the columns' range and ids longer than their 200-character columns.

Every path that stores records runs this through :func:`~pilotgate.ingest.validate_record`:
the collector, ``pilotgate ingest`` (and its worker process) and the SDK's store mode.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

__all__ = ["MAX_ID", "NORMALISED", "Refused", "needs_cleaning", "sanitise"]

MAX_ID = 200
"""Longest id, name or label the store's ``String(200)`` columns hold."""
MAX_INT = 2**31 - 1
"""Largest token count an ``Integer`` column holds on PostgreSQL."""
NORMALISED = "_normalised"
"""The key under which a counts dict carries the normalised-character count."""

_BAD = re.compile("[\x00\ud800-\udfff]")
# the only JSON text that decodes to a NUL or a surrogate (strict UTF-8 and strict JSON
# refuse raw ones); an escaped backslash before "u" matches too, which only costs a scan
_ESCAPES = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_isfinite = math.isfinite

_SHORT: dict[str, tuple[str, ...]] = {
    "interaction": ("id", "feature", "version", "session_id", "user_id"),
    "feedback": ("id", "interaction_id"),
    "step": ("id", "session_id", "name"),
}
_TEXT: dict[str, tuple[str, ...]] = {
    "interaction": ("input", "output", "error", "metadata"),
    "feedback": ("edited_output", "comment"),
    "step": ("metadata",),
}
_NUMBERS: dict[str, tuple[str, ...]] = {
    "interaction": ("latency_ms", "ttft_ms"),
    "feedback": ("score", "dwell_ms"),
    "step": (),
}
_INTS: dict[str, tuple[str, ...]] = {
    "interaction": ("tokens_in", "tokens_out"),
    "feedback": (),
    "step": (),
}


class Refused(ValueError):
    """A value the store cannot hold: the field (dotted path) and why."""

    def __init__(self, field: str, error: str) -> None:
        super().__init__(f"{field}: {error}")
        self.field = field
        self.error = error


def _clean(s: str) -> tuple[str, int]:
    """``s`` with NUL and surrogates replaced by U+FFFD, and how many were."""
    if s.isascii():
        if "\x00" not in s:
            return s, 0
        return s.replace("\x00", "\ufffd"), s.count("\x00")
    if _BAD.search(s) is None:
        return s, 0
    return _BAD.subn("\ufffd", s)


def _value(v: Any, path: str, tally: list[int]) -> Any:
    """``v`` (any JSON value) with its strings cleaned; refuses non-finite numbers."""
    t = type(v)
    if t is str:
        out, n = _clean(v)
        tally[0] += n
        return out
    if t is float:
        if not _isfinite(v):
            raise Refused(path, f"must be a finite number (got {v!r})")
        return v
    if t is dict:
        changed = False
        new: dict[Any, Any] = {}
        for k, x in v.items():
            key = k
            if type(k) is str:
                key, n = _clean(k)
                if n:
                    tally[0] += n
                    changed = True
            y = _value(x, f"{path}.{key}", tally)
            changed = changed or y is not x or key is not k
            new[key] = y
        return new if changed else v
    if t is list or t is tuple:
        items = [_value(x, f"{path}[{i}]", tally) for i, x in enumerate(v)]
        if t is tuple or any(a is not b for a, b in zip(items, v, strict=True)):
            return items
        return v
    if isinstance(v, str):  # a str subclass: a plain copy
        return _value(str(v), path, tally)
    return v


def needs_cleaning(json_text: bytes) -> bool:
    """False when no string decoded from ``json_text`` can hold a NUL or a lone surrogate.

    One linear scan of a whole block of lines: records of a block without such an escape
    are sanitised with ``clean=False``.
    """
    return _ESCAPES.search(json_text) is not None


def _utc(ts: Any) -> Any:
    if type(ts) is datetime and ts.tzinfo is not None and ts.tzinfo is not UTC:
        try:
            return ts.astimezone(UTC)
        except OverflowError:
            raise Refused(
                "ts", f"{ts.isoformat()} is outside years 1-9999 once converted to UTC"
            ) from None
    return ts


def sanitise(rec: dict[str, Any], *, clean: bool = True) -> int:
    """Make a validated record storable, in place; returns the characters replaced.

    ``clean=False`` is for records decoded from JSON text known to hold no ``\\u0000``
    and no surrogate escape (see :func:`needs_cleaning`): no string of theirs can hold
    a NUL or a lone surrogate, so strings are not scanned; every refusal is still checked.

    Raises:
        Refused: a value no store can hold (the record must be refused on its own).
    """
    kind = rec.get("kind", "interaction")
    rec["ts"] = _utc(rec.get("ts"))
    for name in _NUMBERS.get(kind, ()):
        v = rec.get(name)
        if type(v) is float and not _isfinite(v):
            raise Refused(name, f"must be a finite number (got {v!r})")
    for name in _INTS.get(kind, ()):
        v = rec.get(name)
        if type(v) is int and v > MAX_INT:
            raise Refused(name, f"must be at most {MAX_INT}")
    tally = [0]
    for name in _SHORT.get(kind, ()):
        v = rec.get(name)
        if type(v) is str:
            if len(v) > MAX_ID:
                raise Refused(name, f"longer than {MAX_ID} characters ({len(v)})")
            if not clean:
                continue
            out, n = _clean(v)
            if n:
                rec[name] = out
                tally[0] += n
    for name in _TEXT.get(kind, ()):
        v = rec.get(name)
        if v is not None and (clean or type(v) is not str):  # nested: non-finite numbers
            new = _value(v, name, tally)
            if new is not v:
                rec[name] = new
    err = rec.get("error")
    if kind == "interaction" and type(err) is str and len(err) > MAX_ID:
        rec["error"] = err[: MAX_ID - 1] + "…"  # an error class, clipped to its column
    return tally[0]
