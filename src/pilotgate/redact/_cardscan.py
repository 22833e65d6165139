"""The card pattern's matches on ASCII text, found with numpy instead of the regex.

``_CARD`` (``\\d(?<![\\d\\w]\\d)(?:[ -]?+\\d){12,18}(?![\\d\\w])``, i.e. the plain
``(?<![\\d\\w])\\d(?:[ -]?\\d){12,18}(?![\\d\\w])``) walks a text at 10-50 ns per step,
which on 1 MB of near-misses is more than the redaction budget. On ASCII text its matches
follow from the text's digit *groups* (maximal runs of digits) and *runs* (groups joined
by exactly one ``" "`` or ``"-"``):

- a match starts at the first digit of a group whose previous character is not a word
  character (``[A-Za-z0-9_]``), and ends at the last digit of a later group of the same
  run (never inside a group: the next character would be a digit);
- from start group ``a`` the greedy repetition ends at the last group ``b`` of the run with
  ``digits(a..b) <= 19``; when ``b`` is the run's last group and a word character follows
  the run the look-ahead fails there and the match backs off one group; it is a match
  when it holds at least 13 digits;
- matches are taken left to right, the next search starting after the previous match.

So every step is a whole-array numpy operation except the last, a short loop with one
step per match. Non-ASCII text (where ``\\d`` and ``\\w`` are Unicode classes) is left to
the regex; ``tests/redact/test_redact_scanner.py`` holds the two to the same output.
"""

from __future__ import annotations

from typing import Any

from pilotgate.redact._classes import DIGITS, LETTERS, class_table

__all__ = ["SCAN_MIN", "scan_cards"]

SCAN_MIN = 4096
"""Shortest text worth the numpy set-up (shorter ones: the regex is as fast)."""

_OTHER, _DIGIT, _SEP, _WORD = 0, 1, 2, 3


_CLASSES = class_table({_WORD: LETTERS + b"_", _DIGIT: DIGITS, _SEP: b" -"})
_VALUES = bytes.maketrans(b"0123456789", bytes(range(10)))
"""Digits to their values (other bytes are never read)."""
_DOUBLED = bytes([0, 2, 4, 6, 8, 1, 3, 5, 7, 9])
"""Each digit doubled, minus 9 when over 9 (the Luhn rule)."""


CHUNK = 24_576
"""Characters per step: every array stays under 128 KB (no fresh pages to fault in each
call, cache-resident); larger steps pay in page faults, smaller ones in calls."""
_REACH = 64
"""Characters right of a start that decide its match: 20 digits, 19 separators, 1 more."""


def scan_cards(
    text: str, placeholder: str, *, min_len: int = SCAN_MIN, chunk: int = CHUNK
) -> tuple[str, int] | None:
    """The card pass (``_CARD`` matches that pass the Luhn check replaced by
    ``placeholder``) on ASCII text of ``min_len`` characters or more; ``None`` for other
    text (run the regex).

    The text is read in ``chunk``-character steps, each with one character of context on
    the left and ``_REACH`` on the right; the matches starting inside a step are taken,
    and the next step resumes where the regex would (after the last match).
    """
    if len(text) < min_len or not text.isascii():
        return None
    import numpy as np

    raw = text.encode("ascii")
    cls = np.frombuffer(raw.translate(_CLASSES), np.uint8)
    values = np.frombuffer(raw.translate(_VALUES), np.uint8)
    n = len(raw)
    spans: list[int] = []
    pos = 0
    while pos < n:
        limit = min(pos + chunk, n)
        left = max(pos - 1, 0)
        pos = _chunk(np, cls, values, left, pos, limit, min(limit + _REACH, n), spans)
    if not spans:
        return text, 0
    return _replace(text, spans, placeholder)


def _chunk(
    np: Any,
    cls_all: Any,
    values: Any,
    left: int,
    pos: int,
    limit: int,
    right: int,
    spans: list[int],
) -> int:
    """The matches starting in ``[pos, limit)`` (read from ``left`` to ``right``), their
    valid ones' spans appended to ``spans``; returns where the next step starts."""
    cls = cls_all[left:right]
    n = right - left
    is_digit = np.zeros(n + 2, np.int8)
    np.equal(cls, _DIGIT, out=is_digit[1:-1].view(np.bool_))
    edges = np.diff(is_digit)
    starts = np.flatnonzero(edges == 1)  # first digit of each group
    ends = np.flatnonzero(edges == -1)  # one past its last digit
    groups = len(starts)
    if groups == 0:
        return limit
    size = ends - starts
    cum = np.zeros(groups + 1, np.intp)
    np.cumsum(size, out=cum[1:])
    # group g and g + 1 are in one run: exactly one separator between them
    after = np.minimum(ends, n - 1)
    split = np.ones(groups, np.bool_)  # group g is the last of its run
    split[:-1] = (starts[1:] - ends[:-1] != 1) | (cls[after[:-1]] != _SEP)
    run = np.zeros(groups, np.intp)
    np.cumsum(split[:-1], out=run[1:])
    last = np.flatnonzero(split)[run]
    word_after = (ends < n) & (cls[after] == _WORD)
    # a start's previous character is no word character (the step's first character is
    # context: a group starting there started before the step)
    start_ok = cls[np.maximum(starts - 1, 0)] != _WORD
    start_ok &= starts >= pos - left
    start_ok &= starts < limit - left
    # the group holding each digit (and past the last digit: one past the last group)
    owner = np.repeat(np.arange(groups + 1), np.append(size, 20))
    # greedy: up to the group before the one holding the start's 20th digit
    b = owner[cum[:-1] + 19] - 1
    np.minimum(b, last, out=b)
    b -= word_after[np.maximum(b, 0)]
    digits = cum[np.maximum(b + 1, 0)] - cum[:-1]
    ok = (b >= np.arange(groups)) & (digits >= 13) & start_ok
    okg = np.flatnonzero(ok)
    if len(okg) == 0:
        return limit
    # the walk: after a match from a (to b[a]) the next one starts at the first ok group
    # past b[a]; as positions in okg (the number of ok groups up to b[a]), one step per match
    step = memoryview(np.cumsum(ok)[b[okg]])
    k, count = 0, len(okg)
    taken: list[int] = []
    while k < count:
        taken.append(k)
        k = step[k]
    a = okg[taken]
    z = b[a]
    good = _luhn_ok(np, values[left:right][is_digit[1:-1].view(np.bool_)], cum[a], cum[z + 1])
    first = starts[a[good]] + left
    past = ends[z[good]] + left
    both = np.empty(2 * len(first), np.intp)
    both[0::2] = first
    both[1::2] = past
    spans.extend(both.tolist())
    return max(limit, int(ends[z[-1]]) + left)


def _luhn_ok(np: Any, digits: Any, lo: Any, hi: Any) -> Any:
    """The Luhn check of the numbers made of ``digits[lo[i]:hi[i]]``."""
    doubled = np.frombuffer(_DOUBLED, np.uint8)[digits]
    # the rule doubles every second digit counted from the right: from the last digit's
    # parity, the digits of the other parity are doubled
    # sums of at most 19 digits of 9 or 18: exact modulo 2**16
    sums = np.zeros((2, len(digits) + 1), np.uint16)
    odd = digits.astype(np.uint16)
    odd[1::2] = doubled[1::2]
    np.cumsum(odd, out=sums[0, 1:])
    odd[:] = digits
    odd[0::2] = doubled[0::2]
    np.cumsum(odd, out=sums[1, 1:])
    row = (hi - 1) % 2  # last digit even: odd positions doubled (row 0)
    total = sums[row, hi] - sums[row, lo]
    ok: Any = total % 10 == 0
    return ok


def _replace(text: str, spans: list[int], placeholder: str) -> tuple[str, int]:
    parts: list[str] = []
    done = 0
    for i in range(0, len(spans), 2):
        parts.append(text[done : spans[i]])
        parts.append(placeholder)
        done = spans[i + 1]
    parts.append(text[done:])
    return "".join(parts), len(spans) // 2
