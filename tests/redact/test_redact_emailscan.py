"""The regex-free e-mail pass (``_emailscan.py``) against the e-mail regex.

``scan_emails`` must give what ``_EMAIL.subn`` gives on any ASCII text, read in blocks of
any size: same output, same count. The texts are built from what the pattern turns on:
local-part characters (letters, digits, ``._%+-``), ``@``, dots and labels, top-level
domains of one, two or more letters (cut by a digit or ``-``), characters no address holds,
and the benchmark's near-misses. Examples are derandomised: every run tries the same texts.
"""

from __future__ import annotations

import dataclasses

import pytest
from benchmarks._redaction_inputs import NEAR as BENCHMARK_NEAR
from hypothesis import given, settings
from hypothesis import strategies as st

from pilotgate.redact import Redactor
from pilotgate.redact._detect import _EMAIL, builtin_detectors
from pilotgate.redact._emailscan import scan_emails
from pilotgate.redact._redact import _sub

EMAIL = builtin_detectors()["email"]
REGEX_ONLY = dataclasses.replace(EMAIL, scan=None)

NEAR = [
    *BENCHMARK_NEAR["email"],
    "ann@example.com",
    "x_y@sub.example.org",
    "bob+tag@mail.example.com",
    "a@b-c.d-e.fg",
    "a@-.aa",
    "a@b..cc",
    "a@b_c.dd",
]
TOKENS = st.one_of(
    st.sampled_from(NEAR),
    st.sampled_from(list("@.-_%+ ,;/\n")),
    st.sampled_from(["a", "Z", "1", "cc", "com", "c1", "x-y", ".aa", "@a", "@@", ".."]),
    st.text(alphabet="ab1.-_%+@ ", max_size=12),
)
TEXTS = st.lists(TOKENS, max_size=30).map("".join)


def regex_pass(text: str) -> tuple[str, int]:
    out: tuple[str, int] = _EMAIL.subn("[EMAIL]", text)
    return out


@settings(max_examples=800, deadline=None, derandomize=True)
@given(TEXTS, st.integers(min_value=1, max_value=70))
def test_scan_equals_the_regex(text: str, chunk: int) -> None:
    """Any text, read in blocks of any size (down to one character): what the regex gives."""
    assert scan_emails(text, "[EMAIL]", min_len=0, chunk=chunk) == regex_pass(text)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(TEXTS, st.integers(min_value=1, max_value=200))
def test_email_pass_equals_the_regex_on_long_texts(text: str, copies: int) -> None:
    """Through the detector and the redactor: texts past ``SCAN_MIN`` (copies)."""
    text = text * copies
    want = regex_pass(text)
    assert _sub(EMAIL, text) == want == _sub(REGEX_ONLY, text)
    got = Redactor(kinds=["email"]).redact(text)
    assert (got.text, got.counts.get("email", 0)) == want


@pytest.mark.parametrize("piece", [*NEAR, "a" * 5000 + "@b.cc ", "a@" + "b." * 5000 + "cc "])
def test_scan_on_long_texts_equals_the_regex(piece: str) -> None:
    """Every near-miss repeated to 300 KB: many blocks, cut at "@" where nothing else is."""
    text = (piece * (300_000 // len(piece) + 1))[:300_000]
    got = scan_emails(text, "[EMAIL]")
    assert got is not None
    assert got == regex_pass(text), piece


def test_non_ascii_text_is_left_to_the_regex() -> None:
    text = "é ann@example.com " * 1000
    assert scan_emails(text, "[EMAIL]") is None
    assert _sub(EMAIL, text) == regex_pass(text)
    assert _sub(EMAIL, text)[1] == 1000


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("mail ann@example.com now", "mail [EMAIL] now"),
        ("ann@example.c", "ann@example.c"),  # a top-level domain of one letter
        ("ann@example.co1", "[EMAIL]1"),  # ... ends at the digit, no look-ahead
        ("ann@example.com.1", "[EMAIL].1"),  # the regex backs off one label
        ("a@b.cc@d.ee", "[EMAIL]@d.ee"),  # the second local part began inside the first
        ("a@b.cc@d.ee@f.gg", "[EMAIL]@[EMAIL]"),  # ... the third is free again
        ("x_y@a_b.cc", "x_y@a_b.cc"),  # "_" holds no label
        ("@example.com", "@example.com"),  # no local part
    ],
)
def test_scan_examples(text: str, want: str) -> None:
    n = want.count("[EMAIL]")
    assert scan_emails(text, "[EMAIL]", min_len=0) == (want, n)
    assert regex_pass(text) == (want, n)
