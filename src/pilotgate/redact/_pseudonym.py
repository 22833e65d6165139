"""Pseudonymous user and session ids: a keyed hash instead of the raw id.

User and session ids are often e-mail addresses or account numbers. With redaction on,
they are replaced by ``HMAC-SHA256(key, id)`` (shortened to 96 bits, prefixed ``pid_``)
with a key generated once per store and kept in it (``Store.secret("pseudonym")``): the
same raw id always gets the same pseudonym, so sessions, funnels and per-user analytics
work as before, while the raw id is never stored. Without the key a pseudonym cannot be
checked against guessed ids. A value already in pseudonym form is left as it is, so data
that passes through pilotgate twice is not hashed twice.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import MutableMapping
from typing import Any

__all__ = ["Pseudonymiser", "is_pseudonym"]

PREFIX = "pid_"
_FORM = re.compile(r"pid_[0-9a-f]{24}")

_FIELDS = {
    "interaction": ("session_id", "user_id"),
    "step": ("session_id",),
}


def is_pseudonym(value: str) -> bool:
    """Whether ``value`` already has the pseudonym form."""
    return len(value) == 28 and _FORM.fullmatch(value) is not None


class Pseudonymiser:
    """Replaces user and session ids in ingest records with keyed hashes.

    Args:
        key: the store's secret (see ``Store.secret``); text or bytes.
    """

    def __init__(self, key: str | bytes) -> None:
        self._key = key.encode() if isinstance(key, str) else key
        self._cache: dict[str, str] = {}

    def id(self, value: str) -> str:
        """The pseudonym of one id."""
        out = self._cache.get(value)
        if out is None:
            if is_pseudonym(value):
                return value
            digest = hmac.new(self._key, value.encode("utf-8", "replace"), hashlib.sha256)
            out = PREFIX + digest.hexdigest()[:24]
            if len(self._cache) < 100_000:  # sessions repeat: most lookups hit
                self._cache[value] = out
        return out

    def record(self, rec: MutableMapping[str, Any]) -> int:
        """Pseudonymise a validated record's ids in place; returns how many were replaced."""
        n = 0
        for name in _FIELDS.get(rec.get("kind", "interaction"), ()):
            v = rec.get(name)
            if type(v) is str and v:
                rec[name] = self.id(v)
                n += 1
        return n
