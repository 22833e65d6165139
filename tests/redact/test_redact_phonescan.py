"""The regex-free phone pass (``_phonescan.py``) against the phone regex and validator.

``scan_phones`` must give what the regex pass gives (``_PHONE`` matches accepted by
``_phones_ok``, replaced left to right) on any text, cut into steps of any size: same
output, same count. The texts are built from what the pattern turns on: digit runs of
every length (a body's chunks are 2-4 digits, a run of 25+ ends none), the separators
``" .-"``, ``+``, ``(`` and ``)``, word characters (the look-arounds), other punctuation,
and near-misses (the benchmark's, a few outside ASCII, and more). Examples are
derandomised: every run tries the same texts.
"""

from __future__ import annotations

import dataclasses
import re
from functools import partial

import pytest
from benchmarks._redaction_inputs import NEAR as BENCHMARK_NEAR
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.redact.test_redact_scanner import REF_DATE, reference

from pilotgate.redact._detect import (
    _PHONE_SHAPE,
    _phone_block,
    _phone_ok,
    builtin_detectors,
    candidate_regions,
)
from pilotgate.redact._phonescan import scan_phones
from pilotgate.redact._redact import _split_validate, _sub

PHONE = builtin_detectors()["phone"]
REGEX_ONLY = dataclasses.replace(PHONE, scan=None, regions=None)

NEAR = [
    *BENCHMARK_NEAR["phone"],
    "+1 (555) 123-4567",
    "+44 20 7946 0958",
    "+33612345678",
    "+123 45",
    "+123(4)5678 9012",
    "+1(",
    "+1234567890123456",
    "(555) 123-4567",
    "(12345) 678",
    "((12) 34",
    "0612345678",
    "020 7946 0958",
    "2026-05-01",
    "1234567890123456789012345",  # a run no body holds
    "12 ",
]
TOKENS = st.one_of(
    st.sampled_from(NEAR),
    st.integers(min_value=1, max_value=27).map(lambda k: "4" * k),  # runs of any length
    st.sampled_from(list(" .-()+")),
    st.sampled_from(["a", "Z", "_", "x1", "/", ",", "\n", "  ", "--", ") ", " ("]),
    st.text(alphabet="0123456789 .-()+a_", max_size=12),
)
TEXTS = st.lists(TOKENS, max_size=30).map("".join)


def regex_pass(text: str) -> tuple[str, int]:
    return _split_validate(REGEX_ONLY, text)


@settings(max_examples=800, deadline=None, derandomize=True)
@given(TEXTS, st.integers(min_value=1, max_value=70))
def test_scan_equals_the_regex_pass(text: str, chunk: int) -> None:
    """Any text, read in steps of any size (down to one character): what the regex gives."""
    want = regex_pass(text)
    assert scan_phones(text, "[PHONE]", min_len=0, chunk=chunk) == want
    assert want == reference("phone", text)  # the pattern as first written


@settings(max_examples=300, deadline=None, derandomize=True)
@given(TEXTS, st.integers(min_value=1, max_value=40), st.integers(min_value=1, max_value=60))
def test_phone_pass_with_the_scan_equals_the_regex(text: str, block: int, copies: int) -> None:
    """Through the detector (regions, then the scan on each): long texts, small blocks."""
    text = text * copies
    det = dataclasses.replace(
        PHONE,
        regions=partial(candidate_regions, shape=_PHONE_SHAPE, may_hold=_phone_block, block=block),
        scan=partial(scan_phones, min_len=0, chunk=block),
    )
    want = regex_pass(text)
    assert _sub(det, text) == want
    assert _sub(PHONE, text) == want


@pytest.mark.parametrize(
    ("text", "count", "scanned"),
    [
        ("é" + " +44 20 7946 0958" * 3, 3000, True),
        ("ü+44 20 7946 0958ß" + ", 0612345678" * 6, 6000, True),  # "+" after a letter
        ("+44 20 7946 0958 ١٢٣", 1000, True),  # Arabic-Indic digits join the body
        ("é +44 20 7946 0958", 1000, True),
        ("é" * 8 + "+44 20 7946 0958", 1000, True),  # "+" after a letter outside ASCII
    ],
)
def test_non_ascii_text_equals_the_regex(text: str, count: int, scanned: bool) -> None:
    """Outside ASCII ``\\d`` and ``\\w`` are Unicode classes: letters read as word
    characters, digits as digits (none a "0" for the validator)."""
    text = (text + " ") * 1000
    assert _sub(PHONE, text) == regex_pass(text) == reference("phone", text)
    assert _sub(PHONE, text)[1] == count
    assert (scan_phones(text, "[PHONE]") is not None) == scanned


NON_ASCII = st.sampled_from(
    ["é", "ß", "中", "²", "½", "\u00a0", "\u2009", "😀", "١", "٠", "𝟘", "\ud800", "Ⅻ"]
)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.lists(st.one_of(TOKENS, NON_ASCII), max_size=30).map("".join), st.integers(1, 40))
def test_scan_of_non_ascii_text_equals_the_regex(text: str, chunk: int) -> None:
    """Letters, digits and other characters outside ASCII among the near-misses: the scan
    (on its ASCII stand-in) gives what the regex gives."""
    assert scan_phones(text, "[PHONE]", min_len=0, chunk=chunk) == regex_pass(text)


def test_short_texts_are_left_to_the_regex() -> None:
    assert scan_phones("+44 20 7946 0958", "[PHONE]") is None  # under SCAN_MIN
    assert scan_phones("+44 20 7946 0958", "[PHONE]", min_len=0) == ("[PHONE]", 1)


@pytest.mark.parametrize("piece", [*NEAR, "+1 (555) 123-4567 ", "4" * 30 + " "])
def test_scan_on_long_texts_equals_the_regex(piece: str) -> None:
    """Every near-miss repeated to 300 KB: many steps, matches across step edges."""
    text = (piece * (300_000 // len(piece) + 1))[:300_000]
    got = scan_phones(text, "[PHONE]")
    assert got is not None
    assert got == regex_pass(text), piece


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("call +44 20 7946 0958 now", "call [PHONE] now"),
        ("+1 (415) 555-2671", "[PHONE]"),
        ("(555) 123-4567x", "(555) 123-4567x"),  # a letter after: the body backs off
        ("(555) 123-4567 89x", "[PHONE] 89x"),  # ... one run
        ("0612345678", "[PHONE]"),  # national, no separator: starts with 0
        ("6123456789", "6123456789"),  # ... otherwise not grouped
        ("2026-05-01", "2026-05-01"),  # a date: 8 digits
        ("+123 45", "+123 45"),  # a match (+1 then 23 45), but 5 digits
        ("a+44 20 7946 0958", "a+44 [PHONE]"),  # "+" after a letter starts none
    ],
)
def test_scan_examples(text: str, want: str) -> None:
    assert scan_phones(text, "[PHONE]", min_len=0) == (want, int(want != text))
    assert regex_pass(text) == (want, int(want != text))


def _digits(low: int, high: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=low, max_size=high)


SEPS = st.sampled_from(list("-./"))
DATES = st.one_of(
    st.tuples(_digits(4, 4), SEPS, _digits(1, 2), SEPS, _digits(1, 2)),
    st.tuples(_digits(1, 2), SEPS, _digits(1, 2), SEPS, _digits(2, 4)),
).map("".join)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(DATES)
def test_no_date_passes_the_digit_count(date: str) -> None:
    """Why ``_phone_ok`` no longer asks whether a match looks like a date (it did:
    ``REF_DATE``): a date holds at most 8 digits, a match without ``+`` needs 9."""
    assert REF_DATE.match(date)
    assert sum(ch.isdigit() for ch in date) <= 8
    if "/" in date:  # a phone match holds no "/": the validator never sees this date
        assert not PHONE.pattern.fullmatch(date)
        return
    assert not _phone_ok(date)
    assert PHONE.validate_many is not None and PHONE.validate_many([date] * 70) == [False] * 70


def test_scan_keeps_to_the_placeholder_given() -> None:
    text = "tel. +44 20 7946 0958, " * 500
    got = scan_phones(text, "<tel>")
    assert got == (re.sub(r"\+44 20 7946 0958", "<tel>", text), 500)


@settings(max_examples=600, deadline=None, derandomize=True)
@given(TEXTS)
def test_phone_regex_matches_the_original(text: str) -> None:
    """``_PHONE`` (written run by run) finds the spans the pattern as first written finds,
    on texts with digit runs of every length (1-27), letters after them, near-misses."""
    from tests.redact.test_redact_scanner import REF_PHONE

    assert [m.span() for m in PHONE.pattern.finditer(text)] == [
        m.span() for m in REF_PHONE.finditer(text)
    ]


@pytest.mark.parametrize("piece", ["4" * 25 + " ", "4" * 20 + "x ", "12 " + "4" * 25 + " "])
def test_phone_regex_is_quick_where_it_tried_every_cut(piece: str) -> None:
    """Non-ASCII text (no scanner): runs that end no body cost ~1.3-5.6 s per MB with the
    pattern as first written (every cut of a run into chunks tried); now one way each."""
    import time

    text = "é " + piece * (100_000 // len(piece))
    start = time.thread_time()
    got = _sub(PHONE, text)
    assert time.thread_time() - start < 0.1  # ~5-7 ms here; the old pattern: 130-560 ms
    assert got == reference("phone", text)


def _cjk(count: int) -> str:
    return "".join(chr(0x4E00 + (k * 7919) % 20000) for k in range(count))


@pytest.mark.parametrize(
    "text",
    [
        "é1 ü+44 20 7946 0958ß (555) 123-4567中, 0612345678, " * 3000,  # classified by code
        "".join(f"{c}+1 (555) 123-4567{c}0612345678, 020 7946 0958, " for c in _cjk(3000)),
        "\u00a0(12) 345 6789\u2009" * 3000,  # no word characters: spaces outside ASCII
        "(١٢) ٣٤٥ ٦٧٨٩, ٠٦١٢٣٤٥٦٧٨, ٦١٢٣٤٥٦٧٨٩, " * 3000,  # Arabic-Indic digits
        "".join(f"{c}, +1 (555) 123-4567, 0612345678 𝟘{c}" for c in _cjk(3000)),  # past 65535
    ],
)
def test_long_non_ascii_texts_equal_the_regex(text: str) -> None:
    got = scan_phones(text, "[PHONE]")
    assert got is not None and got[1] > 0
    assert got == regex_pass(text) == _sub(PHONE, text)
