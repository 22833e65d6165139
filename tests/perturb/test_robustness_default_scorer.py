"""The default robustness scorer judges sampled free text by meaning, not by whole-reply
equality, and failing pairs are shown around where they differ (issue 18, item 6)."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pytest

from pilotgate._textdiff import diff_excerpts
from pilotgate.perturb import run_robustness
from pilotgate.records import Case

HERE = Path(__file__).parent
_COUNTER = itertools.count()
_LOCK = threading.Lock()

_REFUND = [
    "I'm sorry about the double charge. I have opened a refund request for you; the money "
    "should be back on your card within five working days.",
    "Sorry for the double charge! A refund request is now open, and the amount should be back "
    "on your card in about five working days.",
    "Apologies for charging you twice. I've started a refund, which should reach your card "
    "within five business days.",
]
_BALANCE = [
    "Your current account balance is shown at the top of the Accounts page in the app.",
    "You can see your balance at the top of the Accounts page in the mobile app.",
    "Open the app and go to Accounts: your balance is displayed at the top of the page.",
]


def sampled(text: str) -> str:
    """A feature whose wording varies from call to call, as sampled LLM output does."""
    with _LOCK:
        k = next(_COUNTER)
    pool = _REFUND if any(w in text.lower() for w in ("refund", "charg")) else _BALANCE
    return pool[k % len(pool)]


CASES = [
    Case(id="r1", input="I want a refund for a double charge."),
    Case(id="r2", input="Someone charged my account twice, refund please."),
    Case(id="b1", input="What is my balance today?"),
    Case(id="b2", input="Where can I see the balance of my account?"),
]


@pytest.fixture(autouse=True)
def _importable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(HERE))


def test_sampled_replies_with_one_meaning_pass_by_default() -> None:
    target = "python:test_robustness_default_scorer:sampled"
    result = run_robustness(target, CASES, perturbations=["typo", "all_caps"], samples=2, seed=0)
    assert result.scorers["consistency"]["name"] == "embedding"
    for name in ("typo", "all_caps"):
        pass_rate = result.perturbations[name].rate.pass_rate
        assert pass_rate is not None
        assert pass_rate >= 0.75, name
    strict = run_robustness(
        target, CASES, perturbations=["typo"], samples=2, seed=0, scorer="normalised_match"
    )
    assert (strict.perturbations["typo"].rate.pass_rate or 0.0) <= 0.5


def test_diff_excerpts_show_where_long_answers_differ() -> None:
    head = "Thank you for contacting Northwind Bank support about your account. " * 3
    a, b = diff_excerpts(head + "Your refund is approved.", head + "Your refund is refused.", 60)
    assert a != b
    assert "approved" in a and "refused" in b and a.startswith("…")
    short_a, short_b = diff_excerpts("yes", "no", 60)
    assert (short_a, short_b) == ("yes", "no")
