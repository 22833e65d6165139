"""The phone pattern's validated matches on ASCII text, found with numpy instead of the regex.

``_PHONE`` (the plain form: ``(?<![\\w+])(?:\\+\\d{1,3}[ .\\-]?)?(?:\\(\\d{1,4}\\)[ .\\-]?)?``
``\\d{2,4}(?:[ .\\-]?\\d{2,4}){1,5}(?![\\w])``, or ``+`` and 7-15 digits) costs the regex
engine ~0.3 us per match, and a text can hold one every 15 characters. On ASCII text its
matches follow from the text's digit *runs* (maximal runs of digits):

- a match starts at a ``+``, a ``(`` or a run's first digit whose previous character is
  not a word character (``[A-Za-z0-9_]``) or ``+``, and ends at the end of a run;
- its *body* (``\\d{2,4}(?:[ .\\-]?\\d{2,4}){1,5}``) cuts runs into chunks of 2-4 digits, so
  it goes on through runs of 2 or more digits joined by exactly one separator while the
  fewest chunks they need (``ceil(digits / 4)`` each) stay within 6. Backtracking always
  finds the furthest such run ``K`` first; the match ends there unless a letter or ``_``
  follows (the ``(?![\\w])``), then at the run before; either way it needs 4 digits or 2 runs
  (two chunks);
- a ``+`` takes 3, 2 or 1 digits of its run as country code (the first that leads to a
  match wins): fewer than the run's digits, and the body goes on in the same run; all of
  them, then an optional separator, an optional ``(`` 1-4 digits ``)`` and separator, and
  the body from the next run. A ``(`` takes the same parenthesised part then the body;
- the regex's second branch (``+`` and 7-15 digits) never matches where the first does not
  (its country code of 3 digits leaves 4 to 12 for the body), so it is not computed;
- matches are taken left to right, the next search starting at the previous match's end.

Every step is a whole-array numpy operation except the last, one short loop step per
match; the validation (``_phones_ok``) works from run sums and the replacement is one
gather. Non-ASCII text (where ``\\d`` and ``\\w`` are Unicode classes) is left to the
regex; ``tests/redact/test_redact_phonescan.py`` holds the two to the same output.
"""

from __future__ import annotations

from typing import Any

from pilotgate.redact._classes import DIGITS, LETTERS, class_table

__all__ = ["SCAN_MIN", "replace_spans", "scan_phones"]

SCAN_MIN = 4096
"""Shortest text worth the numpy set-up (shorter ones: the regex is as fast)."""

_OTHER, _DIGIT, _SEP, _WORD, _PLUS, _OPEN, _CLOSE = range(7)


_CLASSES = class_table(
    {_WORD: LETTERS + b"_", _DIGIT: DIGITS, _SEP: b" .-", _PLUS: b"+", _OPEN: b"(", _CLOSE: b")"}
)
_IS_DIGIT = class_table({1: DIGITS})
_MAX_CHUNKS = 6
"""A body is 2 to 6 chunks of 2-4 digits (``\\d{2,4}(?:[ .\\-]?\\d{2,4}){1,5}``)."""


CHUNK = 24_576
"""Characters per step: every array stays small (cache-resident, no fresh pages to fault
in each call); larger steps pay in page faults, smaller ones in calls."""
_REACH = 64
"""Characters right of a step that decide its matches. A match is at most 41 characters
(``+``, 3 digits, separator, ``(`` 4 digits ``)``, separator, 24 digits and 5 separators),
so a run the window's edge cuts shows 22+ digits: 6 chunks, more than a body reaches after
another run; and a body's first run starts within 12 characters, so cut it shows 51+
digits, more than a body holds. Either way no match, as with the whole run."""


def scan_phones(
    text: str, placeholder: str, *, min_len: int = SCAN_MIN, chunk: int = CHUNK
) -> tuple[str, int] | None:
    """The phone pass (``_PHONE`` matches that ``_phones_ok`` accepts replaced by
    ``placeholder``) on text of ``min_len`` characters or more (text outside ASCII through
    an ASCII stand-in with the same classes); ``None`` for shorter text (run the regex).

    The text is read in ``chunk``-character steps, each with two characters of context on
    the left and ``_REACH`` on the right; the matches starting inside a step are taken,
    and the next step resumes where the regex would (after the last match).
    """
    if len(text) < min_len or not placeholder.isascii():
        return None
    import numpy as np

    ascii_text = text.isascii()
    raw = text.encode("ascii") if ascii_text else _ascii_proxy(np, text)

    n = len(raw)
    digit = np.frombuffer(raw.translate(_IS_DIGIT), np.int8)
    # the classes with one OTHER each side: index p + 1 is text position p, -1 the end
    cls = np.frombuffer(b"\x00" + raw.translate(_CLASSES) + b"\x00", np.uint8)
    firsts: list[Any] = []
    pasts: list[Any] = []
    pos = 0
    while pos < n:
        limit = min(pos + chunk, n)
        pos = _chunk(
            np, digit, cls, raw, max(pos - 2, 0), pos, limit, min(limit + _REACH, n), firsts, pasts
        )
    if not firsts:
        return text, 0
    first, past = np.concatenate(firsts), np.concatenate(pasts)
    if len(first) == 0:
        return text, 0
    if not ascii_text:
        return _replace_wide(np, text, first, past, placeholder), len(first)
    return replace_spans(np, raw, first, past, placeholder), len(first)


_BMP: list[Any] = []
"""The stand-in byte of each code point below 65536, built on first use (~10 ms)."""


def _stand_in(code: int) -> int:
    ch = chr(code)
    if ch.isdecimal():  # what ``\d`` matches: a digit (not "0", which the validator reads)
        return 49
    return 97 if ch.isalnum() else 63  # a word character (``\w``), or neither


def _ascii_proxy(np: Any, text: str) -> bytes:
    """``text`` as ASCII with the same classes for the phone pattern and its validator,
    character for character: outside ASCII a digit becomes ``1``, another word character
    ``a``, any other ``?``."""
    if not _BMP:
        table = bytearray(range(128)) + bytes(_stand_in(c) for c in range(128, 65536))
        _BMP.append(np.frombuffer(bytes(table), np.uint8))
    wide = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)
    small = wide < 65536
    if small.all():
        out = _BMP[0].take(wide)
    else:
        out = _BMP[0].take(np.where(small, wide, 63))
        big = np.flatnonzero(~small)
        chars, which = np.unique(wide[big], return_inverse=True)
        out[big] = np.array([_stand_in(c) for c in chars.tolist()], np.uint8)[which]
    done: bytes = out.tobytes()
    return done


def _chunk(
    np: Any,
    digit: Any,
    cls: Any,
    raw: bytes,
    left: int,
    pos: int,
    limit: int,
    right: int,
    firsts: list[Any],
    pasts: list[Any],
) -> int:
    """The matches starting in ``[pos, limit)`` (read from ``left`` to ``right``), the
    valid ones' spans appended to ``firsts`` and ``pasts``; returns where the next step
    starts."""
    is_digit = np.zeros(right - left + 2, np.int8)
    is_digit[1:-1] = digit[left:right]
    edges = np.flatnonzero(np.diff(is_digit))  # a run's first digit, one past its last, ...
    if len(edges) == 0:
        return limit
    edges += left
    runs = _Runs(np, cls, edges.reshape(-1, 2).T.copy())
    taken = _matches(np, runs, pos, limit)
    if taken is None:
        return limit
    g, kind, k = taken
    first = runs.starts[g] - 1 + kind
    past = runs.ends[k]
    digits = runs.digits[k + 1] - runs.digits[g]
    # _phones_ok: with "+", 8-15 digits; otherwise 9-13, grouped by a separator or "(",
    # or starting with "0" (a match is digits and separators but for its "+" or "(...)")
    plus = (kind == 0) & (runs.before[g] == _PLUS)
    grouped = (kind == 0) | (past - first > digits)
    grouped |= np.frombuffer(raw, np.uint8)[first] == 48
    ok = np.where(plus, (digits >= 8) & (digits <= 15), (digits >= 9) & (digits <= 13) & grouped)
    firsts.append(first[ok])
    pasts.append(past[ok])
    return max(limit, int(past[-1]))


class _Runs:
    """The digit runs of a text and what a match needs to know of each."""

    def __init__(self, np: Any, cls: Any, bounds: Any) -> None:
        self.starts, self.ends = starts, ends = bounds
        self.count = g = len(starts)
        self.size = size = ends - starts
        # the classes of the two characters before each run and of the one after it
        # (``cls`` is padded: index p + 1 is text position p, -1 reads the end padding)
        self.before = cls[starts]
        self.before2 = cls[starts - 1]
        self.after = after = cls[ends + 1]
        # characters from run g's end to the start of run g + 1, and the one before it
        self.gap = np.empty(g, np.intp)
        np.subtract(starts[1:], ends[:-1], out=self.gap[:-1])
        self.gap[-1] = 0
        self.next_before = np.empty(g, np.uint8)
        self.next_before[:-1] = self.before[1:]
        self.next_before[-1] = _OTHER
        # run g goes on into run g + 1: one separator between them, and 2+ digits there
        link = (self.gap == 1) & (after == _SEP)
        link[:-1] &= size[1:] >= 2
        chain = np.zeros(g, np.intp)
        np.cumsum(~link[:-1], out=chain[1:])
        self.chain_end = np.flatnonzero(~link)[chain]  # the last run a body can reach
        # the fewest chunks of 2-4 digits of each run, summed, and the run holding each
        # chunk (past the last: g): the runs up to k need at most v chunks for every k
        # before the run holding chunk v
        self.fewest = fewest = (size + 3) // 4
        self.chunks = np.zeros(g + 1, np.intp)
        np.cumsum(fewest, out=self.chunks[1:])
        self.owner = np.concatenate(
            [np.full(1, -1, np.intp), np.repeat(np.arange(g), fewest), np.full(7, g)]
        )
        self.digits = np.zeros(g + 1, np.intp)
        np.cumsum(size, out=self.digits[1:])

    def body(self, np: Any, g: Any, f: Any, first: Any, spent: Any) -> Any:
        """The run where the body starting with the last ``f`` digits of runs ``g``
        ends (-1: no match there); ``first``: their fewest chunks, ``spent``: the chunks
        of the runs up to ``g``."""
        # the furthest run k of the chain with first + chunks(g + 1 .. k) <= 6
        budget = np.minimum(spent + (_MAX_CHUNKS + 1) - first, len(self.owner) - 1)
        k = self.owner[budget]
        k -= 1
        np.minimum(k, self.chain_end[g], out=k)
        longer = k > g
        four = f >= 4
        at_k = longer | four  # two chunks
        at_k &= self.after[k] != _WORD  # (?![\w])
        back = k - 1 > g
        back |= four
        back &= longer
        stop = np.where(at_k, k, np.where(back, k - 1, -1))
        stop[(f < 2) | (first > _MAX_CHUNKS)] = -1  # a run of 25+ digits ends no body
        return stop


def _matches(np: Any, runs: _Runs, pos: int, limit: int) -> tuple[Any, Any, Any] | None:
    """The matches the regex takes starting in ``[pos, limit)``, by the run they start at
    (after its ``+`` or ``(``: kind 0, at its first digit: kind 1) and the run they end
    at; ``None``: no match."""
    g = runs.count
    before, size, after = runs.before, runs.size, runs.after
    # the body from each whole run
    whole = runs.body(np, np.arange(g), size, runs.fewest, runs.chunks[1:])
    # a "(" then the run, ")", an optional separator, and the body from the next run
    paren = np.full(g + 1, -1, np.intp)
    ok = (size <= 4) & (after == _CLOSE)
    ok &= (runs.gap == 1) | ((runs.gap == 2) & (runs.next_before == _SEP))
    paren[:-1] = np.where(ok, np.append(whole[1:], -1), -1)
    stop = np.full((g, 2), -1, np.intp)  # the slots: a "+" or "(" before run g, run g
    # a start's previous character is no word character (digits are) and no "+"
    c = (before != _WORD) & (before != _PLUS)
    stop[:, 1] = np.where(c, whole, -1)
    free = (runs.before2 != _WORD) & (runs.before2 != _PLUS) & (runs.before2 != _DIGIT)
    stop[:, 0] = np.where(free & (before == _OPEN), paren[:-1], -1)
    a = np.flatnonzero(free & (before == _PLUS))
    if len(a):
        stop[a, 0] = _plus(np, runs, a, whole, paren)
    # starts outside the step: before it (context, or a previous match), or after it
    starts = runs.starts
    stop[(starts < pos) | (starts >= limit), 1] = -1
    stop[(starts <= pos) | (starts > limit), 0] = -1
    flat = stop.reshape(-1)
    hit = flat >= 0
    slots = np.flatnonzero(hit)
    if len(slots) == 0:
        return None
    # after a match ending at run k the search goes on from slot 2 (k + 1): as a position
    # in slots, the number of hits before that slot
    before_slot = np.zeros(2 * g + 2, np.intp)
    np.cumsum(hit, out=before_slot[1 : 2 * g + 1])
    before_slot[-1] = before_slot[-2]
    succ = memoryview(before_slot[2 * flat[slots] + 2])
    taken: list[int] = []
    i, count = 0, len(slots)
    while i < count:
        taken.append(i)
        i = succ[i]
    chosen = slots[taken]
    return chosen // 2, chosen % 2, flat[chosen]


def _plus(np: Any, runs: _Runs, g: Any, whole: Any, paren: Any) -> Any:
    """The match from a ``+`` before each run of ``g`` (-1: none), given the body from
    each whole run and the match from a ``(`` before each run."""
    stop = np.full(len(g), -1, np.intp)
    size = runs.size[g]
    # the country code takes the whole run (3 digits or fewer): an optional separator,
    # then the body from the next run, or "(" and the paren part
    sep = runs.after[g] == _SEP
    gap = runs.gap[g]
    nxt = np.append(whole, -1)[g + 1]
    by_paren = paren[g + 1]
    code_run = np.where(
        sep & (gap == 1),
        nxt,
        np.where((gap == 1 + sep) & (runs.next_before[g] == _OPEN), by_paren, -1),
    )
    code_run[size > 3] = -1
    # country codes of 3, 2, 1 digits: the first that leads to a match wins
    for code in (3, 2, 1):
        todo = stop < 0
        mid = np.flatnonzero(todo & (size > code))
        if len(mid):
            f = size[mid] - code
            h = g[mid]
            stop[mid] = runs.body(np, h, f, (f + 3) // 4, runs.chunks[h + 1])
        at = todo & (size == code)
        stop[at] = code_run[at]
    return stop


def replace_spans(np: Any, raw: bytes, first: Any, past: Any, placeholder: str) -> str:
    """``raw`` (ASCII) with each span ``[first, past)`` replaced by ``placeholder``."""
    buf = np.frombuffer(raw + placeholder.encode("ascii"), np.uint8)
    out: str = _gather(np, buf, len(placeholder), first, past).tobytes().decode("ascii")
    return out


def _replace_wide(np: Any, text: str, first: Any, past: Any, placeholder: str) -> str:
    """:func:`replace_spans` for any text, through its UTF-32 code points."""
    wide = (text + placeholder).encode("utf-32-le", "surrogatepass")
    out = _gather(np, np.frombuffer(wide, np.uint32), len(placeholder), first, past)
    done: str = out.tobytes().decode("utf-32-le", "surrogatepass")
    return done


def _gather(np: Any, buf: Any, m: int, first: Any, past: Any) -> Any:
    """``buf`` (the text, then an ``m``-long placeholder) with each span ``[first, past)``
    of the text replaced by the placeholder, as one gather."""
    n, k = len(buf) - m, len(first)
    lengths = past - first
    # where each placeholder lands: its start less what the spans before it removed
    at = first.copy()
    at[1:] -= np.cumsum(lengths[:-1] - m)
    # the output as pieces: text, placeholder, text, ..., text; each piece reads the
    # source at a constant offset from its output position (empty pieces cost nothing)
    size = np.empty(2 * k + 1, np.intp)
    size[0] = first[0]
    size[1:-1:2] = m
    size[2:-1:2] = first[1:] - past[:-1]
    size[-1] = n - past[-1]
    offset = np.empty(2 * k + 1, np.int32)
    offset[0] = 0
    offset[1::2] = n - at
    offset[2::2] = past - at - m
    src = np.arange(int(size.sum()), dtype=np.int32)
    src += np.repeat(offset, size)
    return buf[src]
