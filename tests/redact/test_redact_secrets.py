"""Secrets coverage (positive and negative), user patterns under a time limit, linear time."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pilotgate.redact import Redactor, redact_text
from pilotgate.report._sections import scrub

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFubiJ9"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6\n"
    "ffAt0gBEwRprRyRKiBT0QyTn2ZL3fmWxKr+g7W4N1uJ3s5Kc=\n-----END RSA PRIVATE KEY-----"
)

SECRETS = {
    "jwt": JWT,
    "pem": PEM,
    "pem cut short": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw",
    "stripe secret": "sk_live_51H8dQ2KZvKYlo2C0aBcDeFgHiJkLmNoP",
    "stripe restricted": "rk_test_4eC39HqLyjWDarjtT1zdp7dc9x",
    "google api key": "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
    "hugging face": "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "gitlab": "glpat-xK3n9Qe2LpVb7RtY1mZs",
    "aws secret key": "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "aws secret key (env)": "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "aws secret key (json)": '"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
    "password in url": "postgres://admin:hunter2@db.internal:5432/app",
}


@pytest.mark.parametrize("name", list(SECRETS))
def test_each_secret_kind_is_redacted(name: str) -> None:
    secret = SECRETS[name]
    out = redact_text(f"please use {secret} for the import")
    assert out.counts.get("secret", 0) >= 1, name
    # the secret's sensitive part is gone
    for part in ("SflKxw", "MIIE", "51H8dQ", "4eC39H", "9tSrke", "AbCdEf", "xK3n9Q", "wJalrX"):
        assert part not in out.text
    assert "hunter2" not in out.text


NOT_SECRETS = [
    "order 550e8400-e29b-41d4-a716-446655440000 shipped",
    "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709 and sha256 "
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "<img src='data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4"
    "2mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='>",
    # base64 text holding token prefixes inside its runs
    "blob: QUJDeyJhbGciOiJIUzI1NiJ9QUJDAIzaSyD9tSrke72PouQMnMXa7eZSW0jkFMBWYhf_aaaa",
    "see https://example.com/path?query=1 and http://localhost:8080/",
    "the secret is out: we ship on Monday",
    "aws_secret_access_key is set in the console",
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----",
    "mailto:ann@example.com",
]


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_no_false_positives(text: str) -> None:
    out = Redactor(kinds=["secret"]).redact(text)
    assert out.counts == {} and out.text == text


def test_catastrophic_user_pattern_times_out_and_is_reported() -> None:
    red = Redactor(kinds=[], patterns={"evil": r"(a|aa)+$"}, timeout_s=0.05)
    start = time.perf_counter()
    out = red.redact("a" * 3000 + "!")
    assert time.perf_counter() - start < 2.0  # unbounded, it would run for years
    assert out.counts == {"evil:timeout": 1}
    assert out.text == "[EVIL TIMED OUT]"  # fail closed: the text is not stored as it was


def test_user_pattern_timeout_is_counted_in_record_redactions() -> None:
    red = Redactor(kinds=[], patterns={"evil": r"(x+x+)+y"}, timeout_s=0.05)
    rec: dict[str, Any] = {
        "kind": "interaction",
        "input": "x" * 3000,
        "output": "fine",
        "metadata": {},
    }
    counts = red.record(rec)
    assert counts == {"evil:timeout": 1}
    assert rec["input"] == "[EVIL TIMED OUT]" and rec["output"] == "fine"
    assert rec["metadata"]["redactions"] == {"evil:timeout": 1}


def test_well_behaved_user_pattern_still_works() -> None:
    red = Redactor(kinds=["email"], patterns={"employee_id": r"EMP-\d{5}"})
    out = red.redact("EMP-12345 wrote to ann@example.com")
    assert out.text == "[EMPLOYEE_ID] wrote to [EMAIL]"


def test_email_pattern_is_linear_on_its_near_misses() -> None:
    """The pattern that used to be quadratic: 200k characters of near-misses stay fast."""
    red = Redactor(kinds=["email"])
    for piece in ("ann.example@", "a@" + "b." * 40 + "1 ", "x" * 1000 + "@"):
        text = (piece * (200_000 // len(piece) + 1))[:200_000]
        start = time.thread_time()
        red.redact(text)
        # linear: ~6 ms here; the quadratic pattern took minutes on this input
        assert time.thread_time() - start < 1.0, piece[:20]


def test_scrub_clips_before_redacting() -> None:
    text = "ann@example.com " + "a@" * 500_000
    start = time.thread_time()
    out = scrub(text, 100)
    assert time.thread_time() - start < 0.5
    assert out.startswith("[EMAIL] ") and len(out) <= 100


def test_scrub_does_not_leak_a_secret_cut_by_the_limit() -> None:
    out = scrub("x" * 90 + " " + JWT, 100)
    assert "eyJhbGci" not in out


ORIGINAL_CARD = re.compile(r"(?<![\d\w])\d(?:[ -]?\d){12,18}(?![\d\w])")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789 -xé_", max_size=80))
def test_card_pattern_matches_what_the_original_matched(text: str) -> None:
    """The faster card pattern finds exactly the spans of the plain formulation."""
    from pilotgate.redact._detect import builtin_detectors

    fast = builtin_detectors()["card"].pattern
    assert [m.span() for m in fast.finditer(text)] == [
        m.span() for m in ORIGINAL_CARD.finditer(text)
    ]


ORIGINAL_PHONE = re.compile(
    r"(?=[+(\d])(?:(?<![\w+])(?:\+\d{1,3}[ .\-]?)?(?:\(\d{1,4}\)[ .\-]?)?"
    r"\d{2,4}(?:[ .\-]?\d{2,4}){1,5}(?![\w])|(?<![\w+])\+\d{7,15}(?!\w))"
)


@settings(max_examples=600, deadline=None)
@given(
    st.lists(
        st.sampled_from(["1", "23", "0", " ", ".", "-", "(", ")", "+", "a", "_", "(555)", "+44"]),
        max_size=30,
    ).map("".join)
)
def test_phone_pattern_matches_what_the_original_matched(text: str) -> None:
    from pilotgate.redact._detect import builtin_detectors

    fast = builtin_detectors()["phone"].pattern
    assert [m.span() for m in fast.finditer(text)] == [
        m.span() for m in ORIGINAL_PHONE.finditer(text)
    ]
