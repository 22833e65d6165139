"""Excerpts of two texts around where they first differ, for failing pairs shown side by side.

Two long answers cut at the same 100 characters look identical when they differ after
them; a reader shown the excerpt around the first difference sees at once what changed.
"""

from __future__ import annotations

__all__ = ["diff_excerpts"]

_BEFORE = 30


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _cut(text: str, start: int, width: int) -> str:
    piece = text[start : start + width]
    return ("…" if start > 0 else "") + piece + ("…" if start + width < len(text) else "")


def diff_excerpts(a: str, b: str, width: int = 120) -> tuple[str, str]:
    """``a`` and ``b`` cut to ``width`` characters from a little before their first difference.

    Identical texts, or texts that differ within the first ``width`` characters, are cut
    from the start, as a plain clip would.
    """
    k = _common_prefix(a, b)
    start = 0 if k < width - _BEFORE else k - _BEFORE
    return _cut(a, start, width), _cut(b, start, width)
