"""The one-pass pre-check (``quick_gate``) skips only texts the full pre-check skips.

The full pre-check (digit count, substring needs) is held to running every regex by
``test_redact_gates.py``; here the quick one is held to the full one: on every text where
it says "nothing here", the full one must say so too, and the redacted output with it
must be byte-identical to the output without it.
"""

from __future__ import annotations

import copy
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from pilotgate.redact import Redactor
from pilotgate.redact._redact import _has_any, quick_gate, quick_skip

WORDS = (
    "account balance transfer card payment the a to of and for my is was on in with "
    "please could you help me why when how what Exchange Refund Card Token secretary "
    "Jazz Kelp AIzb eyj akia key sk pg gh xox BEGIN http www example com"
).split()
PII = [
    "ann.lee@example.co.uk",
    "+44 20 7946 0958",
    "4111 1111 1111 1111",
    "GB82 WEST 1234 5698 7654 32",
    "sk-abcdefghijklmnopqrstuvwxyz012345",
    "ghp_" + "a1" * 18,
    "AKIA" + "B" * 16,
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc",
    "AIza" + "x" * 35,
    "client_secret=abcdef",
    "MY_SECRET=hunter2",
    "https://user:pw@example.com/x",
    "12345678",
    "-----BEGIN PRIVATE KEY-----",
]
REDACTORS = [
    Redactor(),
    Redactor(kinds=["card", "phone"]),
    Redactor(kinds=["iban"]),
    Redactor(kinds=["email", "secret"]),
    Redactor(kinds=["secret"]),
]


def full_skip(r: Redactor, text: str) -> bool:
    """Whether the full pre-check skips every detector: no need in the text, and fewer
    digits than the gate (without digit detectors, each detector is skipped by its needs)."""
    gate = r._digit_gate
    return (not gate or sum(ch.isdigit() for ch in text) < gate) and not _has_any(text, r._needs)


def without_quick(r: Redactor) -> Redactor:
    slow = copy.copy(r)
    slow._quick = None
    return slow


def near_misses(rng: random.Random) -> str:
    """Prose with, now and then, a piece of personal data, a need, a mark or a few digits
    (one fewer than a gate, exactly a gate), cut at a random place."""
    out: list[str] = []
    for _ in range(rng.randrange(1, 40)):
        roll = rng.random()
        if roll < 0.05:
            out.append(rng.choice(PII))
        elif roll < 0.1:
            out.append(rng.choice(["-", "_", ":", "@", "//", "K", "J", "z", "ecret", "ECRET"]))
        elif roll < 0.15:
            out.append(str(rng.randrange(10 ** rng.randrange(1, 14))))
        elif roll < 0.17:
            out.append(rng.choice(["é", "١٢", "\u2019", "\x00"]))
        else:
            out.append(rng.choice(WORDS))
    text = " ".join(out)
    cut = rng.randrange(len(text) + 1)
    return text[:cut] if rng.random() < 0.3 else text


def test_quick_path_equals_full_precheck_on_seeded_near_misses() -> None:
    rng = random.Random(20261206)
    skipped = 0
    for _ in range(4000):
        text = near_misses(rng)
        for r in REDACTORS:
            assert r._quick is not None
            if quick_skip(r._quick, r._digit_gate, text):
                skipped += 1
                assert full_skip(r, text), (r.kinds, text)
            fast, slow = r.redact(text), without_quick(r).redact(text)
            assert (fast.text, fast.counts) == (slow.text, slow.counts), (r.kinds, text)
    assert skipped > 2000  # the quick path is taken, not just never wrong


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="abcKJzECRET-_:/@0123 .é", max_size=40))
def test_quick_skip_implies_full_skip(text: str) -> None:
    for r in REDACTORS:
        assert r._quick is not None
        if quick_skip(r._quick, r._digit_gate, text):
            assert full_skip(r, text), (r.kinds, text)


def test_every_need_and_the_digit_gate_stop_the_quick_skip() -> None:
    prose = "Could you help me with my account balance please. " * 40
    r = Redactor()
    assert r._quick is not None
    assert quick_skip(r._quick, r._digit_gate, prose)
    for need in r._needs:
        for text in (need + prose, prose + need, prose[:1000] + need + prose[1000:]):
            assert not quick_skip(r._quick, r._digit_gate, text), need
    one_short = prose + "7" * (r._digit_gate - 1)
    assert quick_skip(r._quick, r._digit_gate, one_short)
    assert not quick_skip(r._quick, r._digit_gate, one_short + "7")
    assert not quick_skip(r._quick, r._digit_gate, prose + "é")  # outside ASCII: full check


def test_marks_are_one_byte_of_each_need_or_the_need_itself() -> None:
    needs = ("-", "AKIA", "eyJ", "AIza", "ecret", "ECRET", "://", "@")
    gate = quick_gate(needs, 2)
    assert gate is not None
    delete, direct = gate
    kept = bytes(b for b in range(256) if b not in delete)
    assert kept == b"-0123456789:@JKz"
    assert direct == ("ecret", "ECRET")  # no rare byte: tested as substrings
    no_digits = quick_gate(needs, 0)
    assert no_digits is not None and bytes(b for b in range(256) if b not in no_digits[0]) == (
        b"-:@JKz"
    )
    assert quick_gate(("é",), 2) is None
    assert Redactor(patterns={"emp": r"EMP-\d{5}"})._quick is None  # ungated: no pre-check
