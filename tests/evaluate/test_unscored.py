"""A case a scorer cannot judge is "not scored", never "failed" (issue 15, point 1).

300 cases of which 20 have no reference: every number stands on the 280 scored ones,
the documents say so, and a comparison pairs only cases scored in both runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pilotgate.evaluate import compare_runs, run_eval
from pilotgate.scoring import NO_REFERENCE, get_scorer, scored_phrase

N, N_NOREF = 300, 20


def v1(text: str) -> str:
    """Right on cases whose number is divisible by 3 or 5."""
    i = int(text.rsplit(" ", 1)[1])
    return "[intent=card] 42" if i % 3 == 0 or i % 5 == 0 else "[intent=loans] 7"


def v2(text: str) -> str:
    """Right on cases whose number is divisible by 2, 3 or 5."""
    i = int(text.rsplit(" ", 1)[1])
    return "[intent=card] 42" if i % 2 == 0 or i % 3 == 0 or i % 5 == 0 else "[intent=loans] 7"


def _cases() -> list[dict[str, Any]]:
    # the cases without a reference are chosen among those v1 gets right, so that
    # counting them as failures would visibly lower v1's accuracy
    return [
        {
            "id": f"c{i:03d}",
            "input": f"request number {i}",
            "expected": None if i % 15 == 0 and i < 15 * N_NOREF else "card",
            "tags": ["t"],
        }
        for i in range(N)
    ]


def _right(fn: Any, cases: list[dict[str, Any]]) -> tuple[int, int]:
    scored = [c for c in cases if c["expected"] is not None]
    return sum("card" in fn(c["input"]) for c in scored), len(scored)


def test_eval_means_stand_on_scored_cases_only(store_url: str) -> None:
    cases = _cases()
    assert sum(c["expected"] is None for c in cases) == N_NOREF
    db = store_url
    res = run_eval("python:test_unscored:v1", cases, ["label"], store=db, version="v1")
    s = res.document["scorers"]["label"]
    right, n = _right(v1, cases)
    assert (s["n_scored"], s["n_unscored"], s["n"]) == (280, 20, 280)
    assert s["unscored_reasons"] == {NO_REFERENCE: 20}
    assert s["mean"] == pytest.approx(right / n, abs=1e-6)
    assert s["pass_rate"] == pytest.approx(right / n, abs=1e-6)
    # counting the unscored cases as failures would have read lower
    assert right / N < s["mean"]
    tag = res.document["by_tag"]["t"]["label"]
    assert tag["n"] == 280 and tag["n_unscored"] == 20
    assert scored_phrase(s["n_scored"], s["unscored_reasons"]) == (
        "280 of 300 scored (20 have no reference)"
    )

    b = run_eval("python:test_unscored:v2", cases, ["label"], store=db, version="v2")
    cmp = compare_runs(res.run_id, b.run_id, store=db)
    d = cmp.document["scorers"]["label"]
    right2, _ = _right(v2, cases)
    assert (d["n"], d["n_scored"], d["n_unscored"]) == (280, 280, 20)
    assert d["diff"] == pytest.approx((right2 - right) / 280, abs=1e-6)
    assert d["unscored_reasons"] == {NO_REFERENCE: 20}
    # and the report says what the numbers stand on
    from pilotgate.report._capabilities import compare_section
    from pilotgate.store import Store

    with Store(db) as st:
        sec = compare_section(st, st.get_run(cmp.run_id or ""))
    assert sec["rows"][0]["scored"] == "280 of 300 scored (20 have no reference)"


def test_compare_pairs_only_cases_scored_in_both_runs(tmp_path: Path) -> None:
    from pilotgate.evaluate import compare_rows

    def row(i: int, scored: bool, passed: bool) -> dict[str, Any]:
        score = {"value": float(passed), "passed": passed, "detail": "", "scored": scored}
        return {"case_id": f"c{i}", "scores": {"k": score}}

    rows_a = [row(i, i != 0, i % 2 == 0) for i in range(10)]
    rows_b = [row(i, i != 1, True) for i in range(10)]
    doc = compare_rows(rows_a, rows_b, "k")
    assert (doc["n"], doc["n_unscored"]) == (8, 2)
    # over c2..c9: A passes c2,c4,c6,c8; B all 8
    assert doc["mean_a"] == 0.5 and doc["mean_b"] == 1.0 and doc["improved"] == 4


def test_target_errors_stay_failures(tmp_path: Path) -> None:
    cases = [{"id": f"e{i}", "input": f"x {i}", "expected": "card"} for i in range(4)]
    res = run_eval(
        "python:test_unscored:broken", cases, ["label"], store=f"sqlite:///{tmp_path}/e.db"
    )
    s = res.document["scorers"]["label"]
    assert (s["n_scored"], s["n_unscored"], s["mean"]) == (4, 0, 0.0)


def broken(text: str) -> str:
    raise RuntimeError("the feature is down")


@pytest.mark.parametrize(
    ("name", "kwargs", "output", "reference", "passed"),
    [
        ("exact", {}, "card", "card", True),
        ("normalised_match", {}, "Card!", "card", True),
        ("contains", {}, "your card", "card", True),
        ("regex", {}, "card 12", r"\d+", True),
        ("numeric", {"tolerance": 0.5}, "about 42", 42, True),
        ("label", {}, "[intent=card] ok", "card", True),
        ("embedding", {"backend": "lexical"}, "the card is frozen", "the card is frozen", True),
    ],
)
def test_each_reference_based_scorer_leaves_no_reference_unscored(
    name: str, kwargs: dict[str, Any], output: str, reference: Any, passed: bool
) -> None:
    s = get_scorer(name, **kwargs)
    judged = s(output, reference)
    assert judged.scored and judged.passed is passed
    wrong = s("zzz", reference)
    assert wrong.scored and not wrong.passed  # a real failure stays a failure
    missing = s(output, None)
    assert missing.scored is False and missing.detail == NO_REFERENCE
    assert missing.to_json()["scored"] is False


async def test_judge_without_a_reference_it_needs_is_not_scored() -> None:
    s = get_scorer("judge", target="python:test_unscored:v1", needs_reference=True)
    out = await s.ascore("o", None, input="q")
    assert out.scored is False and out.detail == NO_REFERENCE


def test_phrase_names_every_reason() -> None:
    assert scored_phrase(10, {}) == "10 of 10 scored"
    line = scored_phrase(7, {NO_REFERENCE: 2, "judge gave no verdict (unparseable verdict)": 1})
    assert line == "7 of 10 scored (2 have no reference, 1 got no judge verdict)"
