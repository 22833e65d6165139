"""Character noise: what fast typing, phone keyboards and OCR do to a request.

Unit of severity for the word-level members: *eligible words*, i.e. whitespace tokens
with at least two letters. At severity ``s`` exactly ``count_for(s, n)`` of the ``n``
eligible words (round half up, at least one) get one edit each, so a typo rate of 0.1
edits one character in about ten words.
"""

from __future__ import annotations

import random
import re

from pilotgate.perturb._base import count_for, edit_words, perturbation

_TWO_LETTERS = re.compile(r"[^\W\d_][^\s]*?[^\W\d_]")

_ROWS = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


def _neighbours() -> dict[str, str]:
    out: dict[str, str] = {}
    for r, row in enumerate(_ROWS):
        for c, ch in enumerate(row):
            near = []
            for dr in (-1, 0, 1):
                rr = r + dr
                if not 0 <= rr < len(_ROWS):
                    continue
                for dc in (-1, 0, 1):
                    cc = c + dc
                    if (dr or dc) and 0 <= cc < len(_ROWS[rr]):
                        near.append(_ROWS[rr][cc])
            out[ch] = "".join(near)
    return out


KEYBOARD_NEIGHBOURS = _neighbours()

# Single-character OCR confusions, and two-character ones that read as one glyph.
_OCR_ONE = {
    "a": "o",
    "b": "h",
    "c": "e",
    "e": "c",
    "f": "t",
    "g": "9",
    "h": "b",
    "i": "l",
    "j": "i",
    "k": "lc",
    "l": "1",
    "n": "ri",
    "o": "0",
    "p": "q",
    "q": "g",
    "r": "n",
    "s": "5",
    "t": "f",
    "u": "v",
    "v": "u",
    "x": "k",
    "y": "v",
    "z": "2",
    "A": "4",
    "B": "8",
    "D": "O",
    "E": "F",
    "G": "6",
    "I": "l",
    "O": "0",
    "S": "5",
    "T": "7",
    "Z": "2",
}
_OCR_TWO = {"rn": "m", "cl": "d", "vv": "w", "m": "rn", "d": "cl", "w": "vv"}
_OCR_RE = re.compile("rn|cl|vv|[" + "".join(_OCR_ONE) + "mdw]")


_eligible = _TWO_LETTERS.search


def _letter_positions(tok: str) -> list[int]:
    return [i for i, c in enumerate(tok) if c.isalpha()]


def _keyboard(tok: str, rng: random.Random) -> str:
    pos = _letter_positions(tok)
    mapped = [i for i in pos if tok[i].lower() in KEYBOARD_NEIGHBOURS]
    if not mapped:  # non-Latin script: no keyboard map, double a letter instead
        return _double(tok, rng)
    i = rng.choice(mapped)
    repl = rng.choice(KEYBOARD_NEIGHBOURS[tok[i].lower()])
    if tok[i].isupper():
        repl = repl.upper()
    return tok[:i] + repl + tok[i + 1 :]


def _delete(tok: str, rng: random.Random) -> str:
    i = rng.choice(_letter_positions(tok))
    return tok[:i] + tok[i + 1 :]


def _swappable(tok: str) -> list[int]:
    return [
        i
        for i in range(len(tok) - 1)
        if tok[i].isalpha() and tok[i + 1].isalpha() and tok[i] != tok[i + 1]
    ]


def _transpose(tok: str, rng: random.Random) -> str:
    pairs = _swappable(tok)
    if not pairs:
        return _double(tok, rng)
    i = rng.choice(pairs)
    return tok[:i] + tok[i + 1] + tok[i] + tok[i + 2 :]


def _double(tok: str, rng: random.Random) -> str:
    i = rng.choice(_letter_positions(tok))
    return tok[: i + 1] + tok[i] + tok[i + 1 :]


def _ocr(tok: str, rng: random.Random) -> str:
    spots = [(m.start(), m.group()) for m in _OCR_RE.finditer(tok)]
    i, src = rng.choice(spots)
    repl = _OCR_TWO.get(src) or _OCR_ONE[src]
    return tok[:i] + repl + tok[i + len(src) :]


def _mixed(tok: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.4:
        return _keyboard(tok, rng)
    if r < 0.6:
        return _delete(tok, rng)
    if r < 0.8:
        return _transpose(tok, rng)
    return _double(tok, rng)


@perturbation(
    "typo",
    family="character",
    description="Mixed typing errors: neighbour keys, dropped, swapped and doubled letters.",
)
def typo(text: str, *, severity: float, rng: random.Random) -> str:
    """One typing error in ``count_for(severity, n)`` of the n eligible words.

    The error is a keyboard-neighbour substitution (40 %), a deletion, a transposition
    of two adjacent different letters, or a doubled letter (20 % each).
    """
    return edit_words(text, severity, rng, _mixed, _eligible)


@perturbation(
    "typo_keyboard",
    family="character",
    description="One letter replaced by a QWERTY neighbour in a share of the words.",
)
def typo_keyboard(text: str, *, severity: float, rng: random.Random) -> str:
    """Severity = share of eligible words with one letter swapped for an adjacent key.

    Letters without a QWERTY position (other scripts) are doubled instead.
    """
    return edit_words(text, severity, rng, _keyboard, _eligible)


@perturbation(
    "char_delete",
    family="character",
    description="One letter dropped in a share of the words.",
)
def char_delete(text: str, *, severity: float, rng: random.Random) -> str:
    """Severity = share of eligible words that lose one letter."""
    return edit_words(text, severity, rng, _delete, _eligible)


@perturbation(
    "char_transpose",
    family="character",
    description="Two adjacent letters swapped in a share of the words.",
)
def char_transpose(text: str, *, severity: float, rng: random.Random) -> str:
    """Severity = share of eligible words with two adjacent, different letters swapped."""
    return edit_words(text, severity, rng, _transpose, _eligible)


@perturbation(
    "char_double",
    family="character",
    description="One letter doubled in a share of the words (sticky keys).",
)
def char_double(text: str, *, severity: float, rng: random.Random) -> str:
    """Severity = share of eligible words with one letter typed twice."""
    return edit_words(text, severity, rng, _double, _eligible)


@perturbation(
    "ocr_confusion",
    family="character",
    description="OCR look-alike swaps (rn→m, l→1, O→0, cl→d…) in a share of the words.",
)
def ocr_confusion(text: str, *, severity: float, rng: random.Random) -> str:
    """Severity = share of words holding a confusable glyph that get one OCR swap.

    Only words with a confusable character (or pair) are eligible; each gets exactly one
    swap from the table (``rn``→``m``, ``l``→``1``, ``O``→``0``, ``e``→``c``…).
    """
    return edit_words(text, severity, rng, _ocr, _OCR_RE.search)


_GAP_RE = re.compile(r"(?<=\S) (?=\S)")


@perturbation(
    "missing_space",
    family="character",
    description="Spaces between words dropped, gluing words together.",
)
def missing_space(text: str, *, severity: float, rng: random.Random) -> str:
    """Severity = share of single spaces between two words that are removed.

    ``count_for(severity, n)`` of the n single-space gaps go, so the whitespace token
    count drops by exactly that number.
    """
    gaps = [m.start() for m in _GAP_RE.finditer(text)]
    n = count_for(severity, len(gaps))
    if n == 0:
        return text
    drop = sorted(rng.sample(gaps, n))
    parts: list[str] = []
    prev = 0
    for g in drop:
        parts.append(text[prev:g])
        prev = g + 1
    parts.append(text[prev:])
    return "".join(parts)
