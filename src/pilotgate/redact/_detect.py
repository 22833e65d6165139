"""Detectors for personal data: e-mail addresses, phone numbers, card numbers, IBANs, secrets.

Secrets: OpenAI-style, pilotgate, AWS (key ids, and secret keys where named), GitHub, Slack,
Stripe, Google API and Hugging Face keys, GitLab tokens, JWTs, PEM private keys and
passwords inside URLs.

Each detector is a regular expression that finds candidates plus, where a checksum exists,
a validator that rejects look-alikes: a 16-digit order number that fails the Luhn check is
not a card, a string that fails ISO 13616's mod-97 check is not an IBAN. That keeps
redaction from eating ids and amounts that analyses later need.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from itertools import repeat
from typing import Any

from pilotgate.redact._cardscan import scan_cards
from pilotgate.redact._classes import DIGITS, class_table
from pilotgate.redact._emailscan import scan_emails
from pilotgate.redact._phonescan import scan_phones

__all__ = [
    "BUILTIN_KINDS",
    "SEPARATORS",
    "Detector",
    "builtin_detectors",
    "candidate_regions",
    "iban_valid",
    "luhn_valid",
]


_DOUBLED = str.maketrans("0123456789", "0246813579")
"""Each digit doubled, minus 9 when over 9 (the Luhn rule), as a digit."""


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check that every payment card number passes."""
    rev = digits[::-1]
    mixed = rev[0::2] + rev[1::2].translate(_DOUBLED)
    return (sum(mixed.encode()) - 48 * len(mixed)) % 10 == 0


# ISO 13616 lengths of the countries that issue IBANs (the check rejects the rest).
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


def iban_valid(candidate: str) -> bool:
    """Country length and the mod-97 checksum of ISO 13616 (spaces ignored)."""
    s = candidate.replace(" ", "").upper()
    if _IBAN_LENGTHS.get(s[:2]) != len(s):
        return False
    moved = s[4:] + s[:4]
    try:
        number = int("".join(str(int(ch, 36)) for ch in moved))
    except ValueError:
        return False
    return number % 97 == 1


_DROP_SEPARATORS = str.maketrans("", "", " .-()+")


def _card_ok(match: str) -> bool:
    digits = match.translate(_DROP_SEPARATORS)
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


_DOUBLED_BYTES = bytes.maketrans(b"0123456789", b"0246813579")
_DIGIT_VALUES = bytes.maketrans(b"0123456789 ", bytes(range(10)) + b"\x00")
BATCH_MIN = 64
"""Fewest matches worth the vectorised checks (below: one call per match)."""


def _cards_ok(matches: list[str]) -> list[bool]:
    """``_card_ok`` of every match, in a few passes over all of them (numpy).

    The digits of each match are right-aligned in 20 columns (the Luhn sum ignores what
    is left of the number), so every even column holds a digit the rule doubles: one
    translate doubles them all, and a row sum is each number's Luhn sum.
    """
    if len(matches) < BATCH_MIN:
        return [_card_ok(m) for m in matches]
    joined = "\x00".join(matches).translate(_DROP_SEPARATORS)
    runs = joined.split("\x00")
    padded = "".join(map(str.rjust, runs, repeat(20)))
    if len(padded) != 20 * len(runs) or not padded.isascii():  # other scripts' digits
        return [_card_ok(m) for m in matches]
    import numpy as np

    raw = bytearray(padded.encode("ascii"))
    raw[0::2] = raw[0::2].translate(_DOUBLED_BYTES)
    rows = np.frombuffer(raw, np.uint8).reshape(-1, 20)
    lengths = (rows != 32).sum(axis=1)
    sums = np.frombuffer(bytes(raw).translate(_DIGIT_VALUES), np.uint8).reshape(-1, 20)
    ok = (lengths >= 13) & (lengths <= 19) & (sums.sum(axis=1) % 10 == 0)
    out: list[bool] = ok.tolist()
    return out


_GROUPING = frozenset(" .-(")


def _phone_ok(match: str) -> bool:
    # a match holds digits and the SEPARATORS only: what is not a separator is a digit
    digits = len(match.translate(_DROP_SEPARATORS))
    if match[0] == "+":
        return 8 <= digits <= 15
    if not 9 <= digits <= 13:
        return False
    # without a country code, ask for a separator-grouped or parenthesised national number.
    # A date (2026-05-01, 1.2.2026) holds at most 8 digits: the count already rejects it
    return match[0] == "0" or not _GROUPING.isdisjoint(match)


def _phones_ok(matches: list[str]) -> list[bool]:
    """``_phone_ok`` of every match: the digit counts in one pass, the rest inline."""
    if not matches:
        return []
    counts = map(len, "\x00".join(matches).translate(_DROP_SEPARATORS).split("\x00"))
    grouping = _GROUPING.isdisjoint
    return [
        (7 < d < 16) if m[0] == "+" else (8 < d < 14 and (m[0] == "0" or not grouping(m)))
        for m, d in zip(matches, counts, strict=True)
    ]


def _shape_table(separators: bytes, others: bytes = b"") -> bytes:
    """Digits to ``0``, ``separators`` to ``s``, ``others`` kept, everything else ``x``."""
    kept = {ch: bytes([ch]) for ch in others}
    return class_table({ord("0"): DIGITS, ord("s"): separators, **kept}, default=ord("x"))


_CARD_SHAPE = _shape_table(b" -")
_PHONE_SHAPE = _shape_table(b" .-", b"()+")
_RUN_13 = b"0" * 13


_RUN_20 = b"0" * 20


def _card_block(block: bytes) -> bool:
    # 13 digits with separators between them (deleting every separator: a superset). A
    # match starts and ends at group boundaries and holds at most 19 digits, so no group
    # of 20 or more digits is part of one: those become breakers first.
    if _RUN_20 in block:
        block = b"x".join(block.split(_RUN_20))
    return _RUN_13 in block.translate(None, b"s")


def _phone_block(block: bytes) -> bool:
    # every phone match holds \d\d[ .\-]?\d\d: its first two groups (or "+" and 7 digits)
    return b"0000" in block or b"00s00" in block


REGION_BLOCK = 4096
"""Characters per block of the region pre-check (a block ends at the next breaker)."""


def candidate_regions(
    text: str, *, shape: bytes, may_hold: Callable[[bytes], bool], block: int = REGION_BLOCK
) -> list[tuple[int, int]] | None:
    """Where in ``text`` a card or phone match may be, without running its regex.

    For ASCII text: the text is mapped to a shape (``_shape_table``) and cut into blocks
    of about ``REGION_BLOCK`` characters at *breakers* (``x``: a character no match holds,
    which is also all the context a match's look-arounds read); the blocks ``may_hold``
    accepts are returned as ``(start, end)`` spans, adjacent ones merged. A match never
    crosses a breaker, so running the pattern on each span (with one character of
    context each side) finds exactly what it finds on the whole text. ``None``: no cut
    (not ASCII, or short): run on the whole text.
    """
    if len(text) < 2 * block or not text.isascii():
        return None
    sh = text.encode("ascii").translate(shape)
    if not may_hold(sh):
        return []
    regions: list[tuple[int, int]] = []
    n = len(sh)
    a = 0
    while a < n:
        b = sh.find(b"x", a + block)
        if b < 0:
            b = n
        if may_hold(sh[a:b]):
            if regions and regions[-1][1] + 1 == a:
                regions[-1] = (regions[-1][0], b)
            else:
                regions.append((a, b))
        a = b + 1
    return regions


@dataclass(frozen=True)
class Detector:
    """One kind of personal data: a pattern, an optional validator, and its placeholder."""

    kind: str
    pattern: Any
    """A compiled ``re`` pattern (built-ins) or ``regex`` pattern (user patterns)."""
    validate: Callable[[str], bool] | None = None
    validate_many: Callable[[list[str]], list[bool]] | None = None
    """``validate`` of a list of matches at once (the same answers, far fewer steps)."""
    needs: tuple[str, ...] = ()
    """Substrings one of which every match contains: a cheap pre-check that skips the regex."""
    hint: tuple[str, ...] = ()
    """Fewer, shorter substrings one of which every ``needs`` entry contains: checked first."""
    needs_digit: bool = False
    """Every match contains a digit (checked once per text for all such detectors)."""
    min_digits: int = 0
    """Every match the validator accepts holds at least this many digits, so a text with
    fewer (counted once per text) skips the regex. Redaction only ever removes digits, so
    the count of the original text bounds every later pass."""
    shape: bytes | None = None
    """For ASCII text: a run every match holds once letters are mapped to ``a`` and digits
    to ``0`` (an IBAN starts ``aa00``). Placeholders hold no digits, so no pass creates one."""
    digit_run: int = 0
    """For ASCII text: every accepted match is made of digits and the separators
    ``SEPARATORS`` only, and holds this many digits, so with the separators deleted the text
    has a run of that many digits. A placeholder breaks runs, so no pass lengthens one."""

    regions: Callable[[str], list[tuple[int, int]] | None] | None = None
    """Where matches may be (``candidate_regions``): the pattern runs only there."""
    scan: Callable[[str, str], tuple[str, int] | None] | None = None
    """The whole pass without the regex (``scan_cards``, ``scan_phones``, ``scan_emails``):
    ``(text, placeholder)`` to the redacted text and count, or ``None`` where it does not
    apply (then the regex runs)."""

    timeout_s: float | None = None
    """Time limit per text (user patterns, run by the ``regex`` module); None: none needed."""

    @property
    def placeholder(self) -> str:
        return f"[{self.kind.upper()}]"


# Every pattern runs in linear time (``benchmarks/redaction.py`` holds each to 50 ms per MB
# of its own near-misses). The rule that keeps them so: a match may only start where a run
# of its characters starts (a lookbehind), so a failed attempt is never repeated from every
# position inside the same run, and no unbounded repetition is followed by a part that can
# fail after re-reading what it consumed.
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@(?:[A-Za-z0-9\-]+\.)+[A-Za-z]{2,}")
_IBAN = re.compile(r"\b[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?\b")
# The same matches as ``(?<![\d\w])\d(?:[ -]?\d){12,18}(?![\d\w])``, written digit first (the
# engine skips ahead to digits) with a possessive separator (a separator is never followed
# by another way to go on): about half the time on runs of spaced digits.
_CARD = re.compile(r"\d(?<![\d\w]\d)(?:[ -]?+\d){12,18}(?![\d\w])")
# Phone numbers: the same matches as the plain form (kept in tests as ORIGINAL_PHONE)
#   (?=[+(\d])(?:(?<![\w+])(?:\+\d{1,3}[ .\-]?)?(?:\(\d{1,4}\)[ .\-]?)?
#              \d{2,4}(?:[ .\-]?\d{2,4}){1,5}(?![\w])|(?<![\w+])\+\d{7,15}(?!\w))
# written to start with a character class (the engine then skips to candidates instead of
# trying every position), dispatching on that first character with a lookbehind, with
# possessive separators (a separator is never followed by another way to go on): about
# 30 % less time on runs of near-misses such as "(12)(12)".
# The body ``\d{2,4}(?:[ .\-]?\d{2,4}){1,5}`` cuts digit runs into 2 to 6 chunks of 2-4
# digits, and on a failure the engine tries every cut: ~1.5-3 s per MB on runs of 12-25+
# digits before a letter or past 24 digits. What it can match depends on the runs only:
# runs of 2+ digits joined by one separator while their fewest chunks (ceil(digits / 4)
# each) stay within 6, ending at a run's end; 2 chunks at least (one run: 4 digits). So
# the body is written run by run, each run matched whole by the one length class of its
# chunk count, and the rest of the budget for the next: the same matches, one way each.
_SEP = r"[ .\-]"


def _run(chunks: int, taken: int = 0, lo: int = 0, hi: int = 0) -> str:
    """A whole digit run (its ``taken`` first digits already read) of ``chunks`` fewest
    chunks, or of ``lo``-``hi`` digits."""
    lo, hi = (lo or max(4 * chunks - 3, 2)) - taken, (hi or 4 * chunks) - taken
    return rf"\d{{{lo},{hi}}}+(?!\d)"


def _more(budget: int) -> str:
    """After a separator: a run within ``budget`` chunks, then (if it can) more runs."""
    alts = []
    for c in range(1, budget + 1):
        rest = f"(?:{_SEP}{_more(budget - c)})?" if c < budget else ""
        alts.append(_run(c) + rest)
    return "(?:" + "|".join(alts) + ")"


def _body(taken: int = 0) -> str:
    """A body from a run's first digit (``taken``: digits of it already read) and its end."""
    alts = [
        _run(1, taken, 2, 3) + _SEP + _more(5),  # 2-3 digits: one chunk, a 2nd run needed
        _run(1, taken, 4, 4) + f"(?:{_SEP}{_more(5)})?",
    ]
    alts += [_run(c, taken) + (f"(?:{_SEP}{_more(6 - c)})?" if c < 6 else "") for c in range(2, 7)]
    # first what every body starts with (4 digits, or 2-3 and a 2nd run): one quick test
    # where most near-misses fail, instead of one per alternative
    guard = "(?=" + r"\d" * (2 - taken) + rf"(?:\d\d|\d?{_SEP}\d\d))"
    return guard + "(?:" + "|".join(alts) + r")(?![\w])"


_PHONE = re.compile(
    r"[+(\d](?<![\w+].)"
    r"(?:(?<=\+)(?:\d{1,3}[ .\-]?+(?:\(\d{1,4}+\)[ .\-]?+)?" + _body() + r"|\d{7,15}(?!\w))"
    r"|(?<=\()\d{1,4}+\)[ .\-]?+" + _body() + r"|(?<=\d)" + _body(taken=1) + ")"
)
_EDGE = "(?<![A-Za-z0-9+/=_\\-]{prefix})"
"""After a token's literal prefix: the prefix does not continue a run of token or base64
characters (no false positives inside base64 images, one attempt per run). Written after
the literal so the regex engine can skip ahead to the prefix instead of trying every
position."""


def _token(prefix: str, rest: str) -> str:
    return re.escape(prefix) + _EDGE.format(prefix=re.escape(prefix)) + rest


class AnyOf:
    """Several patterns applied one after the other, as one detector's pattern.

    One alternation of a dozen branches is tried at every position of a text; separate
    patterns that each start with a literal let the engine jump from one occurrence of
    the literal to the next, an order of magnitude faster on long texts.
    """

    def __init__(self, *sources: str) -> None:
        self.patterns = [re.compile(src) for src in sources]

    def search(self, text: str) -> re.Match[str] | None:
        for p in self.patterns:
            m = p.search(text)
            if m is not None:
                return m
        return None

    def sub(self, repl: Callable[[re.Match[str]], str], text: str) -> str:
        for p in self.patterns:
            text = p.sub(repl, text)
        return text

    def subn(self, repl: str, text: str) -> tuple[str, int]:
        total = 0
        for p in self.patterns:
            text, n = p.subn(repl, text)
            total += n
        return text, total


_SECRET = AnyOf(
    # "\b" before a literal, written as a lookbehind after it (the engine then skips ahead)
    r"sk-(?<!\wsk-)[A-Za-z0-9_\-]{20,}",
    r"pg_(?<!\wpg_)[0-9a-f]{12}_[A-Za-z0-9_\-]{20,}",
    r"AKIA(?<!\wAKIA)[0-9A-Z]{16}",
    r"gh(?<!\wgh)[pousr]_[A-Za-z0-9]{30,}",
    r"xox(?<!\wxox)[abpr]-[A-Za-z0-9\-]{10,}",
    # JSON Web Tokens: three base64url segments, the first two JSON objects ("eyJ" = '{"')
    _token("eyJ", r"[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    # PEM private keys, whole or cut short (the body's class holds no "-": it stops at END)
    r"-----BEGIN[A-Z0-9 ]{0,40} PRIVATE KEY-----[A-Za-z0-9+/=\s]*+"
    r"(?:-----END[A-Z0-9 ]{0,40} PRIVATE KEY-----)?",
    # Stripe secret and restricted keys, Google API keys, Hugging Face, GitLab tokens
    _token("sk_", r"(?:live|test)_[A-Za-z0-9]{20,}"),
    _token("rk_", r"(?:live|test)_[A-Za-z0-9]{20,}"),
    _token("AIza", r"[0-9A-Za-z_\-]{35}(?![A-Za-z0-9_\-])"),
    _token("hf_", r"[A-Za-z0-9]{30,}"),
    _token("glpat-", r"[A-Za-z0-9_\-]{20,}"),
    # AWS secret access keys: 40 base64 characters, only where they are named as such
    *(
        aws + r"(?<![A-Za-z0-9]...)_?(?:secret|SECRET)_?(?:access|ACCESS)?_?(?:key|KEY)"
        r"[\"']?[ \t]{0,8}[:=][ \t]{0,8}[\"']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"
        for aws in ("aws", "AWS")
    ),
    r"SecretAccessKey[\"']?[ \t]{0,8}[:=][ \t]{0,8}[\"']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])",
    # the credentials inside a URL: scheme://user:password@
    r"://[^\s:/@]{1,256}:[^\s/@]{1,256}@",
)

SEPARATORS = b" .-()+"
"""Every character a card or phone match holds besides digits."""

_SECRET_NEEDS = (
    "sk-", "pg_", "AKIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_",
    "xoxa-", "xoxb-", "xoxp-", "xoxr-", "eyJ", "-----BEGIN",
    "sk_live_", "sk_test_", "rk_live_", "rk_test_", "AIza", "hf_", "glpat-",
    "ecret", "ECRET", "://",
)  # fmt: skip
_SECRET_HINT = ("-", "_", "AKIA", "eyJ", "AIza", "ecret", "ECRET", "://")
"""Every entry of ``_SECRET_NEEDS`` holds one of these."""

BUILTIN_KINDS = ("secret", "email", "iban", "card", "phone")


def builtin_detectors() -> dict[str, Detector]:
    """The built-in detectors in the order they run (longest, most specific first)."""
    return {
        # every secret match holds one of the needs (gh[pousr]_, xox[abpr]- spelt out),
        # and each of those holds one of the hints
        "secret": Detector("secret", _SECRET, needs=_SECRET_NEEDS, hint=_SECRET_HINT),
        "email": Detector("email", _EMAIL, needs=("@",), scan=scan_emails),
        "iban": Detector("iban", _IBAN, iban_valid, needs_digit=True, min_digits=2, shape=b"aa00"),
        # the validators accept cards of 13-19 digits and phones of 8-15
        "card": Detector(
            "card",
            _CARD,
            _card_ok,
            _cards_ok,
            needs_digit=True,
            min_digits=13,
            digit_run=13,
            regions=partial(candidate_regions, shape=_CARD_SHAPE, may_hold=_card_block),
            scan=scan_cards,
        ),
        "phone": Detector(
            "phone",
            _PHONE,
            _phone_ok,
            _phones_ok,
            needs_digit=True,
            min_digits=8,
            digit_run=8,
            regions=partial(candidate_regions, shape=_PHONE_SHAPE, may_hold=_phone_block),
            scan=scan_phones,
        ),
    }
