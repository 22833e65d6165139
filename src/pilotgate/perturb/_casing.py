"""Casing and punctuation: shouting, no capitals, no punctuation, emphatic or exotic marks."""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from pilotgate.perturb._base import count_for, edit_words, perturbation

_HAS_CASED = re.compile(r"[^\W\d_]")
_PUNCT_RE = re.compile(r"[!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~¡¿…“”‘’«»—–]")
_END_RE = re.compile(r"[.!?]+(?=\s|$)")


def _upper(tok: str, _rng: random.Random) -> str:
    return tok.upper()


def _lower(tok: str, _rng: random.Random) -> str:
    return tok.lower()


def _has_lower(tok: str) -> bool:
    """A word (token with a letter) that upper-casing changes."""
    return tok != tok.upper() and _HAS_CASED.search(tok) is not None


def _has_upper(tok: str) -> bool:
    """A word (token with a letter) that lower-casing changes."""
    return tok != tok.lower() and _HAS_CASED.search(tok) is not None


def _any_word(pred: Callable[[str], bool]) -> Callable[[str], bool]:
    return lambda text: any(map(pred, text.split()))


@perturbation(
    "all_caps",
    family="casing",
    description="Words upper-cased (the whole message at the default severity).",
    default_severity=1.0,
    applies_when="text with a lower-case letter (not all-caps text, nor caseless scripts)",
    applies=_any_word(_has_lower),
)
def all_caps(text: str, *, severity: float, rng: random.Random) -> str:
    """Severity = share of the words with a lower-case letter that are upper-cased
    (round half up, at least one); 1.0 is all caps. Text already in capitals, or in a
    script without case, is returned as is: it is already in the target form.
    """
    return edit_words(text, severity, rng, _upper, _has_lower, order_free=True)


@perturbation(
    "all_lower",
    family="casing",
    description="Words lower-cased (the whole message at the default severity).",
    default_severity=1.0,
    applies_when="text with a capital letter (not text already in lower case)",
    applies=_any_word(_has_upper),
)
def all_lower(text: str, *, severity: float, rng: random.Random) -> str:
    """Severity = share of the words with a capital letter that are lower-cased (round
    half up, at least one); 1.0 is all lower. Text with no capitals is returned as is:
    it is already in the target form.
    """
    return edit_words(text, severity, rng, _lower, _has_upper, order_free=True)


def _has_punctuation(text: str) -> bool:
    return _PUNCT_RE.search(text) is not None


@perturbation(
    "strip_punctuation",
    family="casing",
    description="Punctuation marks removed (all of them at the default severity).",
    default_severity=1.0,
    applies_when="text with a punctuation mark (not text that has none)",
    applies=_has_punctuation,
)
def strip_punctuation(text: str, *, severity: float, rng: random.Random) -> str:
    """Severity = share of punctuation characters deleted (round half up, at least one).

    Text without punctuation is returned as is: it is already in the target form.
    """
    spots = [m.start() for m in _PUNCT_RE.finditer(text)]
    n = count_for(severity, len(spots))
    if n == 0:
        return text
    drop = set(spots) if n == len(spots) else set(rng.sample(spots, n))
    return "".join(c for i, c in enumerate(text) if i not in drop)


@perturbation(
    "repeat_punctuation",
    family="casing",
    description="Emphatic runs like '!!!' and '???' at sentence ends.",
    default_severity=0.3,
)
def repeat_punctuation(text: str, *, severity: float, rng: random.Random) -> str:
    """Each sentence end becomes a run of ``2 + round(8 × severity)`` marks.

    The run repeats the sentence's own mark ('?' stays '?'), sometimes mixed as '?!'.
    Text with no final mark gets the run appended ('!' or '?').
    """
    run = 2 + int(8 * severity + 0.5)

    def burst(mark: str) -> str:
        base = mark[-1]
        size = max(run, len(mark) + 1)
        if base in "?!" and rng.random() < 0.3:
            return base * (size - 1) + ("!" if base == "?" else "?")
        return base * size

    out = _END_RE.sub(lambda m: burst(m.group()), text)
    stripped = text.rstrip()
    if not stripped or stripped[-1] not in ".!?":
        out = out.rstrip() + burst(rng.choice("!?"))
    return out


_UNICODE_PUNCT = {
    ".": ["…", "。", "．"],
    ",": ["，", "、", " ,"],
    "?": ["？", "‽", " ?"],
    "!": ["！", "¡", " !"],
    "'": ["’", "`", "´"],
    '"': ["“", "”", "«"],
    ":": ["：", " :"],
    ";": ["；", " ;"],
    "-": ["—", "–", "‐"],
}
_ASCII_PUNCT_RE = re.compile(r"[.,?!'\":;\-]")
_ODD_INSERTS = ["...", " -- ", " ;) ", " ~ ", " (!!) ", " ?! ", " // ", " ** "]


@perturbation(
    "unusual_punctuation",
    family="casing",
    description="ASCII punctuation swapped for Unicode look-alikes (…, ？, ’, —) or odd marks.",
    default_severity=0.5,
)
def unusual_punctuation(text: str, *, severity: float, rng: random.Random) -> str:
    """Severity = share of ASCII punctuation marks replaced by a Unicode variant.

    Text without ASCII punctuation instead gets ``count_for(severity, n)`` odd marks
    ('...', ' -- ', ' ;) '…) inserted after n words.
    """
    spots = [m.start() for m in _ASCII_PUNCT_RE.finditer(text)]
    if not spots:
        return edit_words(text, severity, rng, lambda t, r: t + r.choice(_ODD_INSERTS), bool)
    chosen = set(rng.sample(spots, count_for(severity, len(spots))))
    return "".join(rng.choice(_UNICODE_PUNCT[c]) if i in chosen else c for i, c in enumerate(text))


_EMOJI = ["🙂", "😅", "🙏", "👍", "😡", "🤔", "💸", "🔥", "😭", "✅", "❓", "‼️", "💳", "🏦", "😂"]


@perturbation(
    "emoji",
    family="casing",
    description="Emoji sprinkled after a share of the words.",
    default_severity=0.2,
)
def emoji(text: str, *, severity: float, rng: random.Random) -> str:
    """Severity = share of whitespace tokens followed by an emoji (at least one)."""
    return edit_words(text, severity, rng, lambda t, r: t + " " + r.choice(_EMOJI), bool)
