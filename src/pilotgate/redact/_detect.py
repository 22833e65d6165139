"""Detectors for personal data: e-mail addresses, phone numbers, card numbers, IBANs, secrets.

Each detector is a regular expression that finds candidates plus, where a checksum exists,
a validator that rejects look-alikes: a 16-digit order number that fails the Luhn check is
not a card, a string that fails ISO 13616's mod-97 check is not an IBAN. That keeps
redaction from eating ids and amounts that analyses later need.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "BUILTIN_KINDS",
    "SEPARATORS",
    "Detector",
    "builtin_detectors",
    "iban_valid",
    "luhn_valid",
]


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check that every payment card number passes."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


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


def _card_ok(match: str) -> bool:
    digits = match.replace(" ", "").replace("-", "")
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


_DATE_LIKE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")


def _phone_ok(match: str) -> bool:
    # a match holds digits and the SEPARATORS only: what is not a separator is a digit
    digits = len(match) - sum(map(match.count, " .-()+"))
    if match.startswith("+"):
        return 8 <= digits <= 15
    if _DATE_LIKE.match(match):
        return False
    # without a country code, ask for a separator-grouped or parenthesised national number
    return 9 <= digits <= 13 and (any(c in match for c in " .-(") or match.startswith("0"))


@dataclass(frozen=True)
class Detector:
    """One kind of personal data: a pattern, an optional validator, and its placeholder."""

    kind: str
    pattern: re.Pattern[str]
    validate: Callable[[str], bool] | None = None
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

    @property
    def placeholder(self) -> str:
        return f"[{self.kind.upper()}]"


_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_IBAN = re.compile(r"\b[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?\b")
_CARD = re.compile(r"(?<![\d\w])\d(?:[ -]?\d){12,18}(?![\d\w])")
# The leading lookahead changes no match (each starts with +, ( or a digit) but lets the
# scan skip other positions before trying the lookbehinds: ~2x faster on long texts.
_PHONE = re.compile(
    r"(?=[+(\d])"
    r"(?:(?<![\w+])(?:\+\d{1,3}[ .\-]?)?(?:\(\d{1,4}\)[ .\-]?)?"
    r"\d{2,4}(?:[ .\-]?\d{2,4}){1,5}(?![\w])"
    r"|(?<![\w+])\+\d{7,15}(?!\w))"
)
_SECRET = re.compile(
    r"\b(?:sk-[A-Za-z0-9_\-]{20,}|pg_[0-9a-f]{12}_[A-Za-z0-9_\-]{20,}|AKIA[0-9A-Z]{16}"
    r"|gh[pousr]_[A-Za-z0-9]{30,}|xox[abpr]-[A-Za-z0-9\-]{10,})"
)

SEPARATORS = b" .-()+"
"""Every character a card or phone match holds besides digits."""

_SECRET_NEEDS = (
    "sk-", "pg_", "AKIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "xoxa-", "xoxb-", "xoxp-", "xoxr-"
)  # fmt: skip

BUILTIN_KINDS = ("secret", "email", "iban", "card", "phone")


def builtin_detectors() -> dict[str, Detector]:
    """The built-in detectors in the order they run (longest, most specific first)."""
    return {
        # every secret match holds one of the needs (gh[pousr]_, xox[abpr]- spelt out),
        # and each of those holds "-", "_" or "AKIA"
        "secret": Detector("secret", _SECRET, needs=_SECRET_NEEDS, hint=("-", "_", "AKIA")),
        "email": Detector("email", _EMAIL, needs=("@",)),
        "iban": Detector("iban", _IBAN, iban_valid, needs_digit=True, min_digits=2, shape=b"aa00"),
        # the validators accept cards of 13-19 digits and phones of 8-15
        "card": Detector("card", _CARD, _card_ok, needs_digit=True, min_digits=13, digit_run=13),
        "phone": Detector("phone", _PHONE, _phone_ok, needs_digit=True, min_digits=8, digit_run=8),
    }
