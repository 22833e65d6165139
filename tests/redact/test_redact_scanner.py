"""The card and phone passes (regions, batch validators) against a small reference.

The reference is the detectors as first written: the plain card and phone regexes run on
the whole text, each match checked by the plain validators one by one. The fast passes
(``candidate_regions`` cutting the text into blocks where a match may be, ``_cards_ok``
and ``_phones_ok`` checking all matches in a few vectorised passes) must agree with it on
any mix of digits, separators and text: same output, same count.
"""

from __future__ import annotations

import dataclasses
import re
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pilotgate.redact import luhn_valid
from pilotgate.redact._cardscan import scan_cards
from pilotgate.redact._detect import Detector, builtin_detectors
from pilotgate.redact._phonescan import scan_phones
from pilotgate.redact._redact import _sub

REF_CARD = re.compile(r"(?<![\d\w])\d(?:[ -]?\d){12,18}(?![\d\w])")
REF_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .\-]?)?(?:\(\d{1,4}\)[ .\-]?)?\d{2,4}(?:[ .\-]?\d{2,4}){1,5}(?![\w])"
    r"|(?<![\w+])\+\d{7,15}(?!\w)"
)
REF_DATE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")


def ref_card_ok(match: str) -> bool:
    digits = re.sub(r"[ -]", "", match)
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


def ref_phone_ok(match: str) -> bool:
    digits = sum(ch.isdigit() for ch in match)
    if match.startswith("+"):
        return 8 <= digits <= 15
    if REF_DATE.match(match):
        return False
    return 9 <= digits <= 13 and (any(c in match for c in " .-(") or match.startswith("0"))


REFERENCE = {"card": (REF_CARD, ref_card_ok), "phone": (REF_PHONE, ref_phone_ok)}


def reference(kind: str, text: str) -> tuple[str, int]:
    pattern, ok = REFERENCE[kind]
    n = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal n
        if not ok(m.group(0)):
            return m.group(0)
        n += 1
        return f"[{kind.upper()}]"

    return pattern.sub(repl, text), n


def small_blocks(det: Detector, block: int) -> Detector:
    """``det`` with regions cut every ``block`` characters, so short texts are cut too, and
    its regex-free scan on texts of any length, read in ``block``-character steps."""
    assert isinstance(det.regions, partial)
    scanner = {"card": scan_cards, "phone": scan_phones}[det.kind]
    scan = det.scan and partial(scanner, min_len=0, chunk=block)
    return dataclasses.replace(det, regions=partial(det.regions, block=block), scan=scan)


def regex_only(det: Detector) -> Detector:
    return dataclasses.replace(det, scan=None)


PIECES = [
    "4111 1111 1111 1111",  # a valid card
    "4111 1111 1111 111",  # one digit short, then glued to what follows
    "5500-0000-0000-0004",
    "4111111111111111111111",  # 22 digits: longer than any card, part of none
    "4111111111111111",
    "+44 20 7946 0958",
    "+1 (415) 555-2671",
    "(555) 123-4567",
    "(12)(12)",
    "0612345678",
    "2026-05-01",
    "12 34 56 78 90 12 34",
    "1.2.3.4.5.6",
    "١٢٣٤٥٦٧٨٩٠١٢٣٤",  # Arabic-Indic digits: \d matches them
    "x",
    "é",
    "_",
    # the card scan's edges: a run ending at a letter or "_", doubled separators, separators
    # at a run's edges, 20+ digit groups, runs longer than any card
    "4111 1111 1111 1111a",
    "a4111 1111 1111 1111",
    "4111-1111-1111-1111_",
    "1--2",
    "1 -2",
    " -4111",
    "4111- ",
    "41111111111111111111",
    "1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2",
    "5500 0000 0000 0004 4111 1111 1111 1111 4111",
]
MIXES = st.lists(
    st.one_of(
        st.sampled_from(PIECES),
        st.text(alphabet="0123456789 .-()+x_", max_size=16),
    ),
    max_size=24,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(MIXES, st.integers(min_value=1, max_value=40), st.integers(min_value=1, max_value=80))
def test_card_and_phone_passes_equal_the_reference(text: str, block: int, copies: int) -> None:
    """Short and long texts (copies: past the batch threshold), cut into blocks of any size."""
    text = text * copies
    for kind in ("card", "phone"):
        det = builtin_detectors()[kind]
        want = reference(kind, text)
        assert _sub(det, text) == want, kind
        assert _sub(small_blocks(det, block), text) == want, (kind, block)
        assert _sub(regex_only(small_blocks(det, block)), text) == want, (kind, block)


MATCHES = st.lists(
    st.text(alphabet="0123456789 -.()+", min_size=1, max_size=24) | st.sampled_from(PIECES[:-3]),
    max_size=160,
)


@settings(max_examples=300, deadline=None)
@given(MATCHES)
def test_batch_validators_equal_one_by_one(matches: list[str]) -> None:
    """Any list of strings (below and past the batch threshold): the same verdicts."""
    card, phone = builtin_detectors()["card"], builtin_detectors()["phone"]
    assert card.validate_many is not None and phone.validate_many is not None
    # each validator sees its pattern's matches only: a card holds digits, " " and "-"
    cards = [m for m in matches if not set(m) & set(".()+")]
    assert card.validate_many(cards) == [ref_card_ok(m) for m in cards]
    # a phone starts with a digit, + or (
    phones = [m for m in matches if m[0] in "+(0123456789"]
    assert phone.validate_many(phones) == [ref_phone_ok(m) for m in phones]


def test_regions_skip_blocks_without_candidates() -> None:
    """1 MB of near-misses with one card at the end: only the last block is searched."""
    det = builtin_detectors()["card"]
    assert det.regions is not None
    text = ("1 " * 12 + "x") * 40_000 + " 4111 1111 1111 1111"
    regions = det.regions(text)
    assert regions is not None and len(regions) == 1
    assert regions[0][1] == len(text) and regions[0][0] > len(text) - 10_000
    assert _sub(det, text) == reference("card", text)
    assert _sub(det, text)[1] == 1


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1111",  # the whole text: starts at 0, ends at the end
        "4111 1111 1111 1111x",  # a letter after the run: no match can end there
        "4111 1111 1111 1111 1111x",  # ... so the match backs off one group
        "4111 1111 1111 1111 1x",  # (to a valid card)
        "4111 1111 1111 1111 110",  # 19 digits, the most a match holds
        "4111 1111 1111 1111 1101",  # 20: the match ends one group earlier
        "4111.1111.1111.1111",  # "." joins no groups
        "4111 1111 1117",  # 12 digits passing Luhn: too few
        "4111 1111x1111 1111 1111 1111",
        "x4111 1111 1111 1111",  # a letter before: the run's first group starts none
        "_4111 1111 1111 1111 4111 1111 1111 1111",
        "4111--1111 1111 1111 1111",
        "-4111 1111 1111 1111-",
        "4111 1111 1111 1111 " * 3,  # matches back to back
        "4111111111111111111111 4111 1111 1111 1111",  # a 22-digit group, then a card
        "é 4111 1111 1111 1111",  # not ASCII: the regex
        "4111 1111 1111 1111 ١٢٣",
    ],
)
@pytest.mark.parametrize("chunk", [1, 5, 16, 4096])
def test_card_scan_edges_equal_the_reference(text: str, chunk: int) -> None:
    got = scan_cards(text, "[CARD]", min_len=0, chunk=chunk)
    if text.isascii():
        assert got == reference("card", text)
    else:
        assert got is None  # the regex runs instead
        assert _sub(builtin_detectors()["card"], text) == reference("card", text)


def test_card_scan_on_a_megabyte_equals_the_reference() -> None:
    """Long runs across many steps, valid cards among near-misses (sums past 2**16)."""
    det = builtin_detectors()["card"]
    for piece in ("4111 1111 1111 111", "4111 1111 1111 1111 ", "1-2-3-4-", "1 ", "4111x"):
        text = (piece * (1_000_000 // len(piece)))[:1_000_000]
        got = _sub(det, text)
        assert got == reference("card", text), piece
        assert got == _sub(regex_only(det), text), piece
