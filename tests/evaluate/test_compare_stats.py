"""Paired comparison: interval coverage, exact tests, verdicts, stored comparisons, judges."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from pilotgate._stats import wilson
from pilotgate.errors import ConfigError, InputError
from pilotgate.evaluate import (
    COMPARE_SCHEMA,
    compare_rows,
    compare_runs,
    compare_scores,
    mean_ci,
    run_eval,
)
from pilotgate.evaluate._stats import (
    bootstrap_mean_ci,
    mcnemar_exact,
    paired_bootstrap_ci,
    paired_permutation_p,
)
from pilotgate.scoring._judge import clear_judge_memo
from pilotgate.store import Store

# joint (A, B) outcome probabilities: both pass, only B, only A, neither
_JOINT = [0.60, 0.15, 0.07, 0.18]
_TRUE_DIFF = _JOINT[1] - _JOINT[2]  # +0.08


def _binary_runs(seed: int, n: int = 200) -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(seed)
    cat = rng.choice(4, size=n, p=_JOINT)
    a = np.isin(cat, [0, 2]).astype(float)
    b = np.isin(cat, [0, 1]).astype(float)
    return a.tolist(), b.tolist()


def _normal_width(sd: float, n: int) -> float:
    """Width of the normal-approximation 95 % interval of a mean difference."""
    return 2 * 1.959964 * sd / math.sqrt(n)


def test_binary_interval_recovers_known_difference_in_93_of_100_trials() -> None:
    """Coverage, width and power of the paired interval on pass/fail scores.

    True difference +0.08 over 200 cases; the paired difference's standard deviation is
    sqrt(0.15 + 0.07 - 0.08^2) = 0.462, so the normal-approximation interval is 0.128
    wide and the power to exclude 0 is P(Z > 1.96 - 0.08 / 0.0327) = 0.69.
    """
    covered = detected = 0
    widths = []
    for seed in range(100):
        a, b = _binary_runs(seed)
        diff, lo, hi = paired_bootstrap_ci(a, b, seed=seed)
        assert lo <= diff <= hi
        covered += lo <= _TRUE_DIFF <= hi
        detected += lo > 0
        widths.append(hi - lo)
    assert covered >= 93
    sd = math.sqrt(_JOINT[1] + _JOINT[2] - _TRUE_DIFF**2)
    # an interval that is always too wide covers too; its width is bounded here
    assert abs(float(np.mean(widths)) / _normal_width(sd, 200) - 1) < 0.10
    # power 0.69 expected; 0.55 is 3 standard errors below over 100 trials
    assert detected >= 55


def test_graded_interval_recovers_known_difference_in_93_of_100_trials() -> None:
    """Graded scores, b = a + 0.05 + N(0, 0.15): width 0.048, power 0.98."""
    covered = detected = 0
    widths = []
    for seed in range(100):
        rng = np.random.default_rng(1000 + seed)
        a = rng.beta(2, 2, 150)
        d = 0.05 + rng.normal(0, 0.15, 150)
        diff, lo, hi = paired_bootstrap_ci(a.tolist(), (a + d).tolist(), seed=seed)
        covered += lo <= 0.05 <= hi
        detected += lo > 0
        widths.append(hi - lo)
    assert covered >= 93
    assert abs(float(np.mean(widths)) / _normal_width(0.15, 150) - 1) < 0.10
    assert detected >= 93


def test_compare_detects_the_true_difference_with_its_stated_power() -> None:
    """compare_scores calls "better" as often as the power says (0.69, see above)."""
    better = sum(
        compare_scores(*_binary_runs(500 + seed), seed=seed)["outcome"] == "better"
        for seed in range(100)
    )
    assert better >= 55


def test_identical_runs_show_no_significant_difference() -> None:
    a, _ = _binary_runs(3)
    doc = compare_scores(a, a)
    assert doc["outcome"] == "no_difference" and doc["diff"] == 0.0
    assert doc["ci95"] == [0.0, 0.0] and doc["p_value"] == 1.0
    graded = [random.Random(1).random() for _ in range(50)]
    assert compare_scores(graded, graded)["outcome"] == "no_difference"


def test_clear_difference_is_better_and_worse_both_ways() -> None:
    a, b = _binary_runs(7, n=400)
    up = compare_scores(a, b, seed=1)
    assert up["outcome"] == "better" and up["ci95"][0] > 0 and up["test"] == "mcnemar_exact"
    assert up["improved"] > up["regressed"] and up["p_value"] < 0.05
    down = compare_scores(b, a, seed=1)
    assert down["outcome"] == "worse" and down["ci95"][1] < 0
    assert down["improved"] == up["regressed"]


@pytest.mark.parametrize(("k", "n"), [(9, 40), (0, 5), (3, 3), (10, 30), (1, 1)])
def test_mcnemar_matches_scipy_binomial(k: int, n: int) -> None:
    assert mcnemar_exact(n - k, k) == pytest.approx(stats.binomtest(k, n, 0.5).pvalue)
    assert mcnemar_exact(0, 0) == 1.0


@pytest.mark.parametrize(
    ("improved", "regressed"), [(50_300, 49_700), (50_000, 50_000), (600, 424)]
)
def test_mcnemar_is_exact_at_a_hundred_thousand_flips(improved: int, regressed: int) -> None:
    want = stats.binomtest(improved, improved + regressed, 0.5).pvalue
    assert mcnemar_exact(improved, regressed) == pytest.approx(want, rel=1e-12)
    assert mcnemar_exact(regressed, improved) == pytest.approx(want, rel=1e-12)


def test_permutation_p_is_exact_for_few_differences_and_seeded_otherwise() -> None:
    a = [0.0, 0.0, 0.0, 0.0]
    b = [0.5, 0.3, 0.2, 0.4]  # all positive: 2 of 16 sign patterns are this extreme
    assert paired_permutation_p(a, b) == pytest.approx(2 / 16)
    rng = np.random.default_rng(0)
    x = rng.random(60).tolist()
    y = (np.asarray(x) + rng.normal(0.1, 0.2, 60)).tolist()
    p1 = paired_permutation_p(x, y, seed=5)
    assert p1 == paired_permutation_p(x, y, seed=5)
    assert p1 < 0.01
    assert p1 == pytest.approx(stats.wilcoxon(y, x).pvalue, abs=0.01)


def test_intervals_for_single_runs() -> None:
    iv = mean_ci([1.0] * 30 + [0.0] * 10)
    assert iv.method == "wilson" and (iv.lo, iv.hi) == pytest.approx(wilson(30, 40))
    graded = mean_ci([0.2, 0.4, 0.9, 0.7, 0.5] * 8, seed=1)
    assert graded.method == "bootstrap" and graded.lo is not None and graded.hi is not None
    assert graded.lo < 0.54 < graded.hi
    assert bootstrap_mean_ci([0.3, 0.6], seed=2) == bootstrap_mean_ci([0.3, 0.6], seed=2)
    assert math.isnan(bootstrap_mean_ci([])[0])
    # one convention at n = 0: no data, never the uninformative (0, 1)
    assert wilson(0, 0) is None
    assert mean_ci([]).to_json()["ci95"] is None and mean_ci([]).mean is None


# ------------------------------------------------------------------ stored runs
V1_WRONG = {3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 2, 6, 10, 14}
V2_WRONG = {3, 38}


def v1(text: str) -> str:
    i = int(text.split()[-1])
    return f"[intent={'loans' if i in V1_WRONG else 'card'}] ok"


def v2(text: str) -> str:
    i = int(text.split()[-1])
    return f"[intent={'loans' if i in V2_WRONG else 'card'}] ok"


_COIN = random.Random(0)


def coin(messages: list[dict[str, str]]) -> str:
    """A flaky judge: a fair coin (seeded), whatever the output."""
    return "VERDICT: PASS" if _COIN.random() < 0.5 else "VERDICT: FAIL"


def _cases(n: int = 40) -> list[dict[str, Any]]:
    return [
        {"id": f"c{i:02d}", "input": f"card question {i}", "expected": "card"} for i in range(n)
    ]


def test_compare_stored_runs_end_to_end(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/cmp.db"
    a = run_eval("python:test_compare_stats:v1", _cases(), ["label"], store=db, version="v1")
    b = run_eval("python:test_compare_stats:v2", _cases(), ["label"], store=db, version="v2")
    res = compare_runs(a.run_id, b.run_id, store=db)
    doc = res.document
    assert doc["schema"] == COMPARE_SCHEMA and doc["n_shared"] == 40
    s = doc["scorers"]["label"]
    assert (s["improved"], s["regressed"]) == (13, 1)
    assert {f["case_id"] for f in s["flipped"]["regressed"]} == {"c38"}
    assert len(s["flipped"]["improved"]) == 13
    assert doc["outcome"] == "better"
    assert res.verdict.startswith("v2 is better than v1: better on 13 cases and worse on 1; +30.0")
    assert "95 % CI [+" in res.verdict and "p = 0.002" in res.verdict
    with Store(db) as st:
        stored = st.get_run(res.run_id or "")
    assert stored["kind"] == "compare" and stored["summary"]["verdict"] == res.verdict
    same = compare_runs(a.run_id, a.run_id, store=db, save=False)
    assert same.verdict.startswith("no significant difference")
    assert same.run_id is None
    with pytest.raises(ConfigError, match="not in both runs"):
        compare_runs(a.run_id, b.run_id, store=db, scorers=["exact"])
    with pytest.raises(InputError, match="not an eval run"):
        compare_runs(res.run_id or "", b.run_id, store=db)


def test_flaky_judge_cannot_make_b_better(tmp_path: Path) -> None:
    clear_judge_memo()
    db = f"sqlite:///{tmp_path}/judge.db"
    spec = "judge:target=python:test_compare_stats:coin,repeats=3"
    a = run_eval("python:test_compare_stats:v1", _cases(), ["label", spec], store=db, version="v1")
    b = run_eval("python:test_compare_stats:v2", _cases(), ["label", spec], store=db, version="v2")
    agreement = b.document["scorers"]["judge"]["judge"]["agreement"]
    assert agreement is not None and agreement < 0.8  # a coin agrees with itself ~69 %
    res = compare_runs(a.run_id, b.run_id, store=db, scorers=["judge", "label"], save=False)
    j = res.document["scorers"]["judge"]
    assert j["judge_agreement"]["b"] == agreement
    assert j["outcome"] != "better"
    assert res.document["primary"] == "judge" and res.verdict == j["verdict"]
    assert res.document["scorers"]["label"]["outcome"] == "better"  # no judge, no refusal
    # a judge comparison that does come out ahead is refused when the judge is flaky
    rows_a = [
        {"case_id": f"c{i}", "scores": {"j": {"value": 0.0, "passed": False}}} for i in range(30)
    ]
    rows_b = [
        {"case_id": f"c{i}", "scores": {"j": {"value": 1.0, "passed": True}}} for i in range(30)
    ]
    refused = compare_rows(rows_a, rows_b, "j", agreement=(0.95, 0.6), labels=("v1", "v2"))
    assert refused["outcome"] == "inconclusive"
    assert refused["verdict"].startswith("inconclusive: the judge agrees with itself on only 60 %")
    trusted = compare_rows(rows_a, rows_b, "j", agreement=(0.95, 0.9), labels=("v1", "v2"))
    assert trusted["outcome"] == "better"
