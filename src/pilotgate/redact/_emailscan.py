"""The e-mail pattern's matches on ASCII text, found with numpy instead of the regex.

``_EMAIL`` (``(?<![L])[L]+@(?:[D]+\\.)+[A-Za-z]{2,}`` with ``L = A-Za-z0-9._%+-`` the
characters of a local part and ``D = A-Za-z0-9-`` those of a domain label) makes the regex
engine try every run of ``L`` characters; on 1 MB of near-misses such as ``a@a@`` that is
~250,000 attempts. On ASCII text its matches follow from the positions of the characters
that are not ``D`` (``.``, ``@``, ``_%+`` and the rest):

- a match holds one ``@``; its local part is the whole run of ``L`` characters before it
  (``[L]+`` is greedy and ``@`` is not in ``L``), which must not be empty;
- its domain is a chain of labels, each one or more ``D`` characters then ``.``, starting
  right after the ``@``: between consecutive non-``D`` characters ``@`` or ``.`` and the
  next ``.``, at least one character. The greedy repetition takes the whole chain, then
  backs off one label at a time until 2 letters follow the last dot taken; the top-level
  domain is then every letter there (no look-ahead ends it);
- matches are taken left to right: a match ends inside the run of ``L`` characters after
  its ``@``, so when the next ``@`` directly follows that run (its local part began before
  the match ended) no match starts there, and the one after is free again.

Every step is a whole-array numpy operation. Non-ASCII text is left to the regex;
``tests/redact/test_redact_emailscan.py`` holds the two to the same output.
"""

from __future__ import annotations

from typing import Any

from pilotgate.redact._classes import DIGITS, LETTERS, class_table
from pilotgate.redact._phonescan import replace_spans

__all__ = ["SCAN_MIN", "scan_emails"]

SCAN_MIN = 4096
"""Shortest text worth the numpy set-up (shorter ones: the regex is as fast)."""

_OTHER, _LETTER, _DIGIT, _DOT, _LOCAL, _AT = range(6)
"""Character classes: ``_DIGIT`` holds ``-`` (a label's other character), ``_LOCAL``
``_%+`` (a local part's other characters)."""


_CLASSES = class_table(
    {_LETTER: LETTERS, _DIGIT: DIGITS + b"-", _DOT: b".", _LOCAL: b"_%+", _AT: b"@"}
)
_NOT_LABEL = bytes(0 if cls in (_LETTER, _DIGIT) else 1 for cls in _CLASSES)


CHUNK = 32_768
"""Characters per block: the arrays stay cache-resident."""
_BOUNDS = bytes(1 if cls in (_AT, _OTHER) else 0 for cls in _CLASSES)
"""The characters that end a run of ``L`` characters (``@`` and those no match holds)."""


def scan_emails(
    text: str, placeholder: str, *, min_len: int = SCAN_MIN, chunk: int = CHUNK
) -> tuple[str, int] | None:
    """The e-mail pass (``_EMAIL`` matches replaced by ``placeholder``) on ASCII text of
    ``min_len`` characters or more; ``None`` for other text (run the regex).

    The text is read in blocks of about ``chunk`` characters. A block ends after a
    character no match holds or reads, or before an ``@``: the next block then starts
    with that ``@``'s local part (the run of ``L`` characters before it, read by both),
    and knows whether the ``@`` before that run began a match.
    """
    if len(text) < min_len or not text.isascii() or not placeholder.isascii():
        return None
    if "@" not in text or "." not in text:
        return text, 0
    import numpy as np

    raw = text.encode("ascii")
    n = len(raw)
    bounds = np.flatnonzero(np.frombuffer(raw.translate(_BOUNDS), np.bool_))
    firsts: list[Any] = []
    pasts: list[Any] = []
    pos, after_taken = 0, False
    while pos < n:
        end = nxt = n
        # the first bound a block's length on whose run of L characters starts past pos
        k = int(np.searchsorted(bounds, pos + chunk))
        while k < len(bounds):
            c = int(bounds[k])
            if raw[c] != 64:  # no "@": cut after it
                end = nxt = c + 1
                break
            start = int(bounds[k - 1]) + 1 if k else 0  # the "@"'s local part
            if start > pos + 1:
                end, nxt = c, start
                break
            k += 1
        block = raw[pos:end]
        found = _block(np, block, after_taken) if b"@" in block else None
        after_taken = False
        if found is not None:
            first, past, last_at = found
            firsts.append(first + pos)
            pasts.append(past + pos)
            # the "@" before the next block's first local part began a match
            after_taken = nxt < end and last_at + pos == nxt - 1
        pos = nxt
    if not firsts:
        return text, 0
    first, past = np.concatenate(firsts), np.concatenate(pasts)
    return replace_spans(np, raw, first, past, placeholder), len(first)


def _block(np: Any, raw: bytes, after_taken: bool = False) -> tuple[Any, Any, int] | None:
    """The spans ``(first, past)`` of the matches in ``raw`` (a whole text, or a block)
    and where the last match's ``@`` is; ``None``: none. ``after_taken``: the character
    before the block is an ``@`` that began a match (a local part starting the block is
    inside that match)."""
    # OTHER each side (two after: a dot's next two characters): index p + 1 is position p
    padded = b"\x00" + raw + b"\x00\x00"
    cls = np.frombuffer(padded.translate(_CLASSES), np.uint8)
    # no dot followed by 2 letters (where a top-level domain starts): no match
    letter = cls == _LETTER
    tld = cls[:-2] == _DOT
    tld &= letter[1:-1]
    tld &= letter[2:]
    if not tld.any():
        return None
    # the characters that are no label characters (".", "@", "_%+", the rest), in order
    breaks = np.flatnonzero(np.frombuffer(padded.translate(_NOT_LABEL), np.bool_))
    kind = cls[breaks]
    # a "." ends a label: after "@" or ".", with label characters only between them
    link = np.zeros(len(breaks), np.bool_)
    np.equal(kind[1:], _DOT, out=link[1:])
    link[1:] &= (kind[:-1] == _DOT) | (kind[:-1] == _AT)
    link[1:] &= np.diff(breaks) >= 2
    index = np.arange(len(breaks))
    # each entry's chain head: the last entry up to it that ends no label
    head = np.where(link, 0, index)
    np.maximum.accumulate(head, out=head)
    # the dots of chains that start at "@", with 2 letters after them
    link[:-2] &= tld[breaks[:-2]]  # (the last two entries: the end padding)
    cand = np.flatnonzero(link)
    owner = head[cand]
    good = kind[owner] == _AT
    owner, dot = owner[good], cand[good]
    if len(owner) == 0:
        return None
    # the last good dot of each "@": the regex backs off to it
    last = np.ones(len(owner), np.bool_)
    last[:-1] = owner[1:] != owner[:-1]
    owner, dot = owner[last], dot[last]
    # the local part: the run of L characters before "@" (after the last "@" or other
    # character before it), not empty
    bound = np.where((kind == _AT) | (kind == _OTHER), index, 0)
    np.maximum.accumulate(bound, out=bound)
    at, prev = breaks[owner], breaks[bound[owner - 1]]
    ok = prev < at - 1
    at, dot, prev = at[ok], dot[ok], prev[ok]
    if len(at) == 0:
        return None
    # the top-level domain: every letter after the dot, up to the next entry or the
    # first digit or "-" before it
    end = breaks[dot + 1]
    dot = breaks[dot]
    digits = np.flatnonzero(cls == _DIGIT)
    if len(digits):
        nxt = np.append(digits, len(cls))[np.searchsorted(digits, dot)]
        np.minimum(end, nxt, out=end)
    # left to right: an "@" whose local part starts right after the previous taken "@"
    # (only L characters between) is inside that match; the one after is free again
    follows = np.zeros(len(at), np.bool_)
    follows[1:] = prev[1:] == at[:-1]
    follows[0] = after_taken and prev[0] == 0  # (index 0: the character before the block)
    streak = np.flatnonzero(~follows)
    which = np.cumsum(~follows)
    if follows[0]:  # the first streak starts at the "@" before the block
        streak = np.append(-1, streak)
    else:
        which -= 1
    nth = np.arange(len(at)) - streak[which]
    taken = nth % 2 == 0
    first, past = prev[taken], end[taken] - 1  # padded positions to text positions
    if len(first) == 0:
        return None
    return first, past, int(at[taken][-1]) - 1
