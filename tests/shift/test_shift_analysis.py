"""analyze_shift end to end with the lexical backend: null, planted gap, odd inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from pilotgate.errors import ConfigError, InputError
from pilotgate.shift import SCHEMA, InMemoryEmbeddingCache, ShiftResult, analyze_shift
from pilotgate.shift._synthetic import support_requests

POOL = support_requests(6_300, seed=1)


def assert_no_drift(result: ShiftResult) -> None:
    doc = result.to_json()
    assert doc["drift"]["flagged"] == []
    assert all(d["p_value"] >= 0.01 for d in doc["drift"]["embedding"])
    assert all(t["q_value"] >= 0.01 for t in doc["drift"]["descriptors"])


@pytest.mark.slow
@pytest.mark.parametrize("n_eval", [300, 3_000])
def test_null_same_pool_gives_high_coverage_and_no_drift(n_eval: int) -> None:
    result = analyze_shift(POOL[:n_eval], POOL[3_300:], embedder="lexical", seed=0)
    assert result.n_production == 3_000
    assert result.coverage.value >= 0.9
    lo, hi = result.coverage.ci95
    assert lo <= result.coverage.value <= hi
    assert_no_drift(result)


@pytest.fixture(scope="module")
def planted() -> ShiftResult:
    spanish = support_requests(300, seed=2, kind="es")
    prod = POOL[3_300:5_300] + spanish
    ids = [f"p{i}" for i in range(2_000)] + [f"es{i}" for i in range(300)]
    return analyze_shift(POOL[:300], prod, embedder="lexical", seed=0, production_ids=ids)


def test_planted_gap_is_the_top_gap_named_and_uncovered(planted: ShiftResult) -> None:
    top = planted.gaps[0]
    members = [planted.production_ids[i] for i in top.members]
    assert sum(m.startswith("es") for m in members) / len(members) >= 0.9
    assert sum(m.startswith("es") for m in members) >= 0.9 * 300  # one gap, not ten
    assert top.label.startswith("Spanish")
    assert any(d["descriptor"] == "language" and d["category"] == "es" for d in top.descriptors)
    assert any("Spanish" in d["text"] for d in top.descriptors)
    es = np.array([pid.startswith("es") for pid in planted.production_ids])
    assert float(np.mean(~planted.covered[es])) >= 0.9
    assert [g.size for g in planted.gaps] == sorted((g.size for g in planted.gaps), reverse=True)
    assert len(top.examples) == 5 and len(top.nearest_eval) == 3
    assert "language" in planted.to_json()["drift"]["flagged"]


def test_suggestions_spread_over_gaps_in_case_format(planted: ShiftResult) -> None:
    cases = planted.suggest_cases(7)
    assert len(cases) == 7
    assert {c.source for c in cases} == {"suggested"}
    gap_ids = [c.origin["gap"] for c in cases if c.origin]
    assert len(set(gap_ids)) == min(7, len(planted.gaps))
    assert len({c.text for c in cases}) == 7
    assert planted.suggest_cases(0) == []


def test_json_document_and_scores_follow_the_contract(planted: ShiftResult, tmp_path: Path) -> None:
    doc = planted.to_json()
    assert doc["schema"] == SCHEMA == "pilotgate.shift/1"
    for key in ("n_eval", "n_production", "coverage", "gaps", "drift", "map"):
        assert key in doc
    gap = doc["gaps"][0]
    assert {"id", "size", "share", "label", "keywords", "examples"} <= set(gap)
    sets = [p["set"] for p in doc["map"]["points"]]
    assert sets.count("production") == 2_300 and 0 < sets.count("eval") <= 300
    assert sum(p["gap"] == "gap-1" for p in doc["map"]["points"]) == planted.gaps[0].size
    assert {p["set"] for p in doc["map"]["points"]} == {"eval", "production"}
    n = planted.write_scores(tmp_path / "scores.jsonl")
    assert n == 2_300
    row = planted.score_rows()[2_000]
    assert set(row) == {"id", "novelty", "covered", "gap", "distance"}


def test_same_seed_same_result_and_cache_skips_embedding() -> None:
    cache = InMemoryEmbeddingCache()
    a = analyze_shift(POOL[:80], POOL[100:400], embedder="lexical", seed=3, cache=cache)
    b = analyze_shift(POOL[:80], POOL[100:400], embedder="lexical", seed=3, cache=cache)
    assert len(cache) == len(set(POOL[:80]) | set(POOL[100:400]))
    ja, jb = a.to_json(), b.to_json()
    ja.pop("timings_s"), jb.pop("timings_s")
    assert ja == jb


def test_timestamps_give_early_late_test_and_daily_trend() -> None:
    prod = POOL[3_300:3_900] + support_requests(200, seed=4, kind="es")
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    ts = [t0 + timedelta(hours=i) for i in range(len(prod))]
    r = analyze_shift(POOL[:300], prod, embedder="lexical", seed=0, production_ts=ts)
    late = {d.name: d for d in r.embedding_drift}["early_vs_late"]
    assert late.flagged and late.note.startswith("first 7 days")
    days = r.coverage_by_day
    assert days[0]["day"] == "2026-05-01" and sum(d["n"] for d in days) == 800
    assert days[-1]["coverage"] < days[0]["coverage"]


def test_large_production_is_sampled_and_says_so() -> None:
    r = analyze_shift(POOL[:200], POOL[300:2_300], embedder="lexical", seed=0, max_production=500)
    assert r.n_production == 2_000 and r.n_production_analyzed == 500
    assert r.sample["method"] == "uniform" and any("sub-sampled" in n for n in r.notes)
    lo, hi = r.coverage.ci95
    assert hi - lo > 0.02


def test_one_input_each_and_odd_texts_give_results_not_crashes() -> None:
    r = analyze_shift(["where is my order"], ["where is my order"], embedder="lexical")
    assert r.coverage.value == 1.0 and r.gaps == []
    odd = ["", "x" * 100_000, "我的订单在哪里" * 3, "\ud800 lone surrogate", "🙂" * 40, "ok"]
    r = analyze_shift(POOL[:50], odd + POOL[60:100], embedder="lexical", seed=0)
    assert r.n_production == 46 and len(r.score_rows()) == 46


def test_clear_errors_for_empty_or_wrong_inputs() -> None:
    with pytest.raises(InputError, match="eval set is empty"):
        analyze_shift([], ["x"], embedder="lexical")
    with pytest.raises(InputError, match="production set is empty"):
        analyze_shift(["x"], [], embedder="lexical")
    with pytest.raises(ConfigError):
        analyze_shift("abc", ["x"], embedder="lexical")
    with pytest.raises(ConfigError, match="unknown embedding backend"):
        analyze_shift(["x"], ["y"], embedder="nope")


def test_days_are_utc_days_and_naive_times_count_as_utc() -> None:
    from datetime import timezone

    plus2 = timezone(timedelta(hours=2))
    ts = [datetime(2026, 5, 2, 1, 0, tzinfo=plus2)] * 30 + [datetime(2026, 5, 3, 12, 0)] * 30  # noqa: DTZ001 (naive on purpose)
    r = analyze_shift(POOL[:100], POOL[200:260], embedder="lexical", seed=0, production_ts=ts)
    assert [d["day"] for d in r.coverage_by_day] == ["2026-05-01", "2026-05-03"]
