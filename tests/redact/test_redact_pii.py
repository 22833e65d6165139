"""Redaction removes planted personal data and leaves look-alikes that fail the checksums."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pilotgate.errors import ConfigError
from pilotgate.redact import Redactor, iban_valid, luhn_valid, redact_text

CARDS = ["4111 1111 1111 1111", "5500-0000-0000-0004", "340000000000009", "4012888888881881"]
IBANS = ["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "FR1420041010050500013M02606"]
PHONES = [
    "+44 20 7946 0958",
    "+1 (415) 555-2671",
    "(555) 123-4567",
    "020 7946 0958",
    "+33612345678",
]
EMAILS = ["ann.lee@example.co.uk", "bob+tag@mail.example.com", "x_y@sub.example.org"]


def test_checksums() -> None:
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32")
    assert not iban_valid("GB83 WEST 1234 5698 7654 32")
    assert not iban_valid("GB82 WEST 1234 5698 7654")  # wrong length for GB


@pytest.mark.parametrize(
    ("planted", "kind"),
    [(c, "card") for c in CARDS]
    + [(i, "iban") for i in IBANS]
    + [(p, "phone") for p in PHONES]
    + [(e, "email") for e in EMAILS],
)
def test_planted_values_are_removed(planted: str, kind: str) -> None:
    out = redact_text(f"Hello, mine is {planted}. Thanks!")
    assert planted not in out.text
    assert out.counts == {kind: 1}
    assert out.text == f"Hello, mine is [{kind.upper()}]. Thanks!"


def test_look_alikes_stay() -> None:
    keep = [
        "order 4111111111111112 shipped",  # Luhn-invalid 16 digits
        "ref 1234 5678 9012 3456 7",  # 17 digits, Luhn-invalid
        "GB83 WEST 1234 5698 7654 32",  # mod-97 fails
        "on 2026-05-01 at 12:30 we paid 1,234.50 EUR",
        "version 3.11.2, host 10.0.0.1, 42 items",
    ]
    for text in keep:
        out = redact_text(text)
        assert out.text == text, out
        assert out.total == 0


def test_mixed_text_counts_per_kind() -> None:
    text = (
        "Write to ann@example.com or bob@example.org, call +44 20 7946 0958, "
        "pay with 4111 1111 1111 1111 into DE89370400440532013000."
    )
    out = redact_text(text)
    assert out.counts == {"email": 2, "phone": 1, "card": 1, "iban": 1}
    assert "example" not in out.text and "4111" not in out.text


def test_user_patterns_and_kind_selection() -> None:
    r = Redactor(kinds=["email"], patterns={"employee_id": r"\bEMP-\d{5}\b"})
    out = r.redact("EMP-12345 wrote from a@b.io, card 4111111111111111")
    assert out.text == "[EMPLOYEE_ID] wrote from [EMAIL], card 4111111111111111"
    assert out.counts == {"employee_id": 1, "email": 1}


def test_kinds_given_as_a_generator_are_all_kept() -> None:
    r = Redactor(kinds=(k for k in ("email", "phone")))
    assert r.kinds == ["email", "phone"]
    assert r.redact("mail ann@example.com").text == "mail [EMAIL]"


def test_bad_configuration_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown redaction kind"):
        Redactor(kinds=["passport"])
    with pytest.raises(ConfigError, match="does not compile"):
        Redactor(patterns={"x": "("})
    with pytest.raises(ConfigError, match="bad redaction pattern name"):
        Redactor(patterns={"Bad Name": "x"})


def test_record_redaction_covers_messages_output_and_metadata() -> None:
    rec = {
        "kind": "interaction",
        "input": [{"role": "user", "content": "I am ann@example.com"}],
        "output": "We will call +1 (415) 555-2671",
        "error": None,
        "metadata": {"note": "card 4111111111111111", "n": 3},
    }
    counts = Redactor().record(rec)
    assert counts == {"email": 1, "phone": 1, "card": 1}
    assert rec["input"] == [{"role": "user", "content": "I am [EMAIL]"}]
    assert rec["output"] == "We will call [PHONE]"
    assert rec["metadata"] == {"note": "card [CARD]", "n": 3, "redactions": counts}
    fb = {"kind": "feedback", "comment": "reach me at x@y.com", "edited_output": None}
    assert Redactor().record(fb) == {"email": 1}
    assert fb["comment"] == "reach me at [EMAIL]" and "metadata" not in fb


def _luhn_fix(digits: str) -> str:
    for last in "0123456789":
        if luhn_valid(digits + last):
            return digits + last
    raise AssertionError


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=13, max_value=19), st.randoms(use_true_random=False))
def test_luhn_property(length: int, rnd: random.Random) -> None:
    body = str(rnd.randint(1, 9)) + "".join(str(rnd.randint(0, 9)) for _ in range(length - 2))
    valid = _luhn_fix(body)
    invalid = valid[:-1] + str((int(valid[-1]) + 1) % 10)
    assert redact_text(f"pay {valid} now").text == "pay [CARD] now"
    out = redact_text(f"ref {invalid} now")
    assert out.text == f"ref {invalid} now" and out.total == 0
