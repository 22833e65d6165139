"""Truncation: messages cut by a length limit, a slip of the Enter key or a paste gone wrong."""

from __future__ import annotations

import random
import re

from pilotgate.perturb._base import count_for, perturbation

_TOKEN_RE = re.compile(r"\S+")
_SENT_END_RE = re.compile(r"[.!?]+[\"')\]]*\s+(?=\S)")


def _cut_tokens(text: str, drop: int) -> str:
    """Remove the last ``drop`` whitespace tokens (keeping at least the first one)."""
    spans = [m.span() for m in _TOKEN_RE.finditer(text)]
    if len(spans) < 2:
        return _cut_chars(text, drop)
    drop = min(drop, len(spans) - 1)
    return text[: spans[len(spans) - 1 - drop][1]]


def _cut_chars(text: str, drop: int) -> str:
    keep = max(1, len(text) - max(1, drop))
    return text[:keep] if keep < len(text) else text


def _last_sentence_start(text: str) -> int:
    """Index where the final sentence starts, or 0 when the text is one sentence."""
    start = 0
    for m in _SENT_END_RE.finditer(text):
        start = m.end()
    return start


@perturbation(
    "truncate_words",
    family="truncation",
    description="The message cut short at a word boundary.",
    default_severity=0.3,
)
def truncate_words(text: str, *, severity: float, rng: random.Random) -> str:
    """Severity = share of the n whitespace tokens removed from the end.

    Removes ``count_for(severity, n)`` trailing tokens but always keeps the first one;
    a one-token text loses that share of its characters instead (at least one).
    """
    n = len(_TOKEN_RE.findall(text))
    if n < 2:
        return _cut_chars(text, count_for(severity, len(text)))
    return _cut_tokens(text, count_for(severity, n))


@perturbation(
    "truncate_midword",
    family="truncation",
    description="The message cut short in the middle of a word.",
    default_severity=0.3,
)
def truncate_midword(text: str, *, severity: float, rng: random.Random) -> str:
    """Keep the first ``L − count_for(severity, L)`` of L characters, inside a word.

    The cut moves left until it falls strictly inside a word of two or more characters,
    so the last word always loses at least its last character. At least one character
    is always kept.
    """
    target = len(text) - count_for(severity, len(text))
    words = [m.span() for m in _TOKEN_RE.finditer(text) if m.end() - m.start() >= 2]
    for start, end in reversed(words):
        if start < target:
            cut = min(target, end - 1)
            cut = max(cut, start + 1)
            return text[:cut]
    return _cut_chars(text, count_for(severity, len(text)))


@perturbation(
    "truncate_keep_question",
    family="truncation",
    description="The context before the final question cut, the question itself kept.",
    default_severity=0.5,
)
def truncate_keep_question(text: str, *, severity: float, rng: random.Random) -> str:
    """Severity = share of the context tokens (all but the final sentence) removed.

    The tokens nearest the final sentence go first, as when a client clips the middle of
    a long message. A one-sentence text loses that share of its leading tokens instead
    (its last token, where the question mark is, is kept).
    """
    start = _last_sentence_start(text)
    if start == 0:
        spans = [m.span() for m in _TOKEN_RE.finditer(text)]
        if len(spans) < 2:
            return _cut_chars(text, count_for(severity, len(text)))
        drop = min(len(spans) - 1, count_for(severity, len(spans)))
        return text[spans[drop][0] :]
    context, question = text[:start], text[start:]
    n = len(_TOKEN_RE.findall(context))
    drop = count_for(severity, n)
    if drop >= n:
        return question
    return _cut_tokens(context, drop) + " " + question


@perturbation(
    "truncate_drop_question",
    family="truncation",
    description="The final question lost: the message ends before it.",
    default_severity=0.2,
)
def truncate_drop_question(text: str, *, severity: float, rng: random.Random) -> str:
    """The final sentence is removed, then a further ``round(severity × n)`` tokens.

    n counts the remaining tokens. A one-sentence text behaves as ``truncate_words``
    with severity ``max(severity, 0.5)``: its question is cut in half at least.
    """
    start = _last_sentence_start(text)
    if start == 0:
        return truncate_words(text, severity=max(severity, 0.5), rng=rng)
    context = text[:start].rstrip()
    n = len(_TOKEN_RE.findall(context))
    extra = min(n - 1, int(severity * n + 0.5))
    return _cut_tokens(context, extra) if extra > 0 else context
