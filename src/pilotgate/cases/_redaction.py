"""Redaction of built cases with the collector's redactor (:mod:`pilotgate.redact`).

Why again at build time: interactions stored before redaction was switched on, or
ingested from files, may still hold personal data; an eval set is exported and shared,
so nothing leaves a build unredacted unless ``--no-redact`` says so.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pilotgate.redact import Redaction, Redactor

__all__ = ["CaseRedactor"]


class CaseRedactor:
    """Redacts case texts and chat messages, counting what it replaced by kind."""

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.counts: Counter[str] = Counter()
        self._redactor = Redactor() if enabled else None
        self._memo: dict[str, Redaction] = {}

    def text(self, text: str, *, count: bool = True) -> str:
        """Redact ``text``; ``count`` adds what was replaced to :attr:`counts`."""
        if self._redactor is None:
            return text
        res = self._memo.get(text)
        if res is None:
            res = self._redactor.redact(text)
            if len(self._memo) < 100_000:
                self._memo[text] = res
        if count:
            self.counts.update(res.counts)
        return res.text

    def input(self, value: str | list[dict[str, Any]]) -> str | list[dict[str, Any]]:
        """A case input: the text, or every string inside chat messages."""
        if isinstance(value, str):
            return self.text(value)
        if self._redactor is None:
            return value
        counts: dict[str, int] = {}
        out = self._redactor.value(value, counts)
        self.counts.update(counts)
        assert isinstance(out, list)
        return out
