"""Each built-in provider reads its documented --json shape from a stored run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tests.gate.gate_fixtures import (
    NOW,
    add_usage,
    compare_doc,
    crit,
    eval_doc,
    load_doc,
    make_plan,
    robustness_doc,
    save_run_at,
    shift_doc,
)

from pilotgate.errors import ConfigError
from pilotgate.gate import evaluate_gate, resolve_metric
from pilotgate.store import Store


def _by_name(plan_criteria: list[dict[str, object]], store: Store) -> dict[str, dict[str, Any]]:
    res = evaluate_gate(make_plan(plan_criteria), store, now=NOW, save=False)
    return {c["name"]: c for c in res.to_json()["criteria"]}


def test_load_level_at_k_times_expected(store: Store) -> None:
    rid = save_run_at(
        store, "load", load_doc({"1x": 900, "2x": 1800, "3x": 4500}), NOW - timedelta(hours=1)
    )
    got = _by_name(
        [
            crit("p99 at 3x", "latency.e2e.p99@3x", "<=", 4000),
            crit("p99 at 1x", "latency.e2e.p99@1x", "<=", 4000),
            crit("service p50 at 2x", "latency.service.p50@2x", "<=", 1000),
            crit("top level p99", "latency.e2e.p99", "<=", 5000),
            crit("no 5x level", "latency.e2e.p99@5x", "<=", 4000),
        ],
        store,
    )
    assert got["p99 at 3x"]["value"] == 4500 and got["p99 at 3x"]["status"] == "fail"
    assert got["p99 at 3x"]["evidence"]["run_id"] == rid
    assert "level 3x" in got["p99 at 3x"]["evidence"]["note"]
    assert got["p99 at 1x"]["value"] == 900 and got["p99 at 1x"]["status"] == "pass"
    assert got["service p50 at 2x"]["value"] == pytest.approx(1800 * 0.9 / 3)
    assert got["top level p99"]["value"] == 4500 and got["top level p99"]["n"] == 500
    assert got["no 5x level"]["status"] == "insufficient_data"
    assert "no 5x level" in got["no 5x level"]["reason"]


def test_load_level_found_by_concurrency_when_unlabelled(store: Store) -> None:
    doc = load_doc({"a": 100, "b": 200, "c": 300})  # labels not 1x/2x/3x
    save_run_at(store, "load", doc, NOW - timedelta(hours=1))
    got = _by_name([crit("p99 at 3x", "latency.e2e.p99@3x", "<=", 4000)], store)
    assert got["p99 at 3x"]["value"] == 300  # concurrency 30 = 3 x expected 10


def test_latest_run_wins_and_future_runs_are_ignored(store: Store) -> None:
    save_run_at(store, "load", load_doc({"3x": 1000}), NOW - timedelta(days=2))
    newer = save_run_at(store, "load", load_doc({"3x": 2000}), NOW - timedelta(days=1))
    save_run_at(store, "load", load_doc({"3x": 9000}), NOW + timedelta(days=1))  # after 'now'
    got = _by_name([crit("p99", "latency.e2e.p99@3x", "<=", 4000)], store)
    assert got["p99"]["value"] == 2000 and got["p99"]["evidence"]["run_id"] == newer


def test_trailing_window_excludes_old_runs(store: Store) -> None:
    save_run_at(store, "load", load_doc({"3x": 1000}), NOW - timedelta(days=10))
    got = _by_name(
        [
            crit("recent", "latency.e2e.p99@3x", "<=", 4000, window="7d"),
            crit("any", "latency.e2e.p99@3x", "<=", 4000),
        ],
        store,
    )
    assert got["recent"]["status"] == "insufficient_data"
    assert "no load run of feature" in got["recent"]["reason"]
    assert "outside the window" in got["recent"]["reason"]
    assert got["any"]["status"] == "pass"


def test_eval_on_named_eval_set(store: Store) -> None:
    save_run_at(store, "eval", eval_doc("exact", 0.95, (0.9, 0.98), 200, "demo@1"), NOW)
    prod = save_run_at(
        store,
        "eval",
        eval_doc("exact", 0.8, (0.74, 0.85), 200, "prod@2"),
        NOW - timedelta(hours=2),
    )
    got = _by_name(
        [
            crit("prod quality", "eval.exact.mean", ">=", 0.85, eval_set="prod"),
            crit("prod quality v2", "eval.exact.mean", ">=", 0.75, eval_set="prod@2"),
            crit("demo quality", "eval.exact.mean", ">=", 0.85, eval_set="demo"),
            crit("other set", "eval.exact.mean", ">=", 0.85, eval_set="nope"),
            crit("other scorer", "eval.judge.mean", ">=", 0.85, eval_set="prod"),
        ],
        store,
    )
    assert got["prod quality"]["value"] == 0.8 and got["prod quality"]["status"] == "fail"
    assert got["prod quality"]["evidence"]["run_id"] == prod
    assert got["prod quality"]["ci95"] == [0.74, 0.85]
    assert got["prod quality v2"]["status"] == "pass"
    assert got["demo quality"]["status"] == "pass"
    assert got["other set"]["status"] == "insufficient_data"
    assert "has no scorer 'judge'" in got["other scorer"]["reason"]


def test_robustness_shift_compare(store: Store) -> None:
    save_run_at(store, "robustness", robustness_doc("typos", 90, 100, (0.83, 0.94)), NOW)
    save_run_at(store, "shift", shift_doc(0.82, (0.79, 0.85), 1000), NOW)
    save_run_at(store, "compare", compare_doc(0.04, (0.01, 0.07), 200), NOW, name="v2-vs-v1")
    got = _by_name(
        [
            crit("typo family", "robustness.typos.pass_rate", ">=", 0.85, judge_on="bound"),
            crit("typo perturbation", "robustness.typo.pass_rate", ">=", 0.85),
            crit("coverage", "shift.coverage", ">=", 0.8, judge_on="bound"),
            crit("v2 not worse", "compare.v2-vs-v1.delta", ">=", 0, judge_on="bound"),
            crit("v2 exact", "compare.v2-vs-v1.exact.delta", ">=", 0.05),
            crit("unknown family", "robustness.zzz.pass_rate", ">=", 0.85),
        ],
        store,
    )
    assert got["typo family"]["status"] == "fail"  # 0.90 estimate, lower bound 0.83
    assert got["typo family"]["judged_value"] == 0.83
    assert got["typo perturbation"]["status"] == "pass"
    assert got["coverage"]["status"] == "fail" and got["coverage"]["n"] == 1000
    assert got["v2 not worse"]["status"] == "pass" and got["v2 not worse"]["value"] == 0.04
    assert got["v2 exact"]["status"] == "fail"
    assert got["unknown family"]["status"] == "insufficient_data"


def test_usage_windows_and_rates(store: Store) -> None:
    add_usage(store, n=200, accepted=170, errors=2)  # inside the pilot (3 days before NOW)
    # before the pilot started: all rejected, must not count in the 'pilot' window
    add_usage(store, n=100, accepted=0, start=NOW - timedelta(days=40), prefix="old")
    got = _by_name(
        [
            crit("acceptance (pilot)", "usage.acceptance_rate", ">=", 0.8, window="pilot"),
            crit("acceptance (all)", "usage.acceptance_rate", ">=", 0.8),
            crit("acceptance bound", "usage.acceptance_rate", ">=", 0.8, window="pilot",
                 judge_on="bound"),
            crit("errors", "usage.error_rate", "<=", 0.02, window="7d"),
            crit("p99", "usage.latency.p99", "<=", 1000, window="pilot"),
            crit("too few", "usage.acceptance_rate", ">=", 0.8, window="pilot", min_samples=500),
        ],
        store,
    )  # fmt: skip
    a = got["acceptance (pilot)"]
    assert a["status"] == "pass" and a["n"] == 200 and a["value"] == pytest.approx(0.85)
    lo, hi = a["ci95"]
    assert lo < 0.85 < hi
    assert got["acceptance (all)"]["n"] == 300 and got["acceptance (all)"]["status"] == "fail"
    assert got["acceptance bound"]["status"] == "fail"  # 0.85 but lower bound < 0.8
    assert got["errors"]["value"] == pytest.approx(0.01) and got["errors"]["status"] == "pass"
    assert got["p99"]["status"] == "pass" and got["p99"]["evidence"]["kind"] == "usage"
    assert "pilotgate usage --feature support-router" in a["evidence"]["command"]
    assert got["too few"]["status"] == "insufficient_data"


def test_headline_usage_criteria_read_the_figures_not_the_report(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Acceptance, errors and percentiles are the usage report's headline figures: the gate
    reads them from ``usage_figures`` (no slices by day and version built), with the values
    the report gives; a criterion that needs the report (volume) still builds it."""
    import pilotgate.usage as usage_pkg

    add_usage(store, n=200, accepted=170, errors=2)
    built: list[object] = []
    real = usage_pkg.usage_report

    def counted(*args: Any, **kw: Any) -> Any:
        built.append(kw.get("feature"))
        return real(*args, **kw)

    monkeypatch.setattr(usage_pkg, "usage_report", counted)
    headline = [
        crit("acceptance", "usage.acceptance_rate", ">=", 0.8, window="pilot"),
        crit("errors", "usage.error_rate", "<=", 0.02, window="pilot"),
        crit("p99", "usage.latency.p99", "<=", 1000, window="pilot"),
        crit("dwell", "usage.dwell.p50", "<=", 100_000, window="pilot"),
    ]
    got = _by_name(headline, store)
    assert built == []
    report = real(store, feature="support-router")  # every row is inside the pilot
    for name, key in (("acceptance", "acceptance_rate"), ("errors", "error_rate"),
                      ("p99", "latency.p99"), ("dwell", "dwell.p50")):  # fmt: skip
        m = report.metric(key)
        if m.value is None:
            assert got[name]["status"] == "insufficient_data"
            continue
        assert (got[name]["value"], got[name]["n"]) == (m.value, m.n), name
    _by_name([crit("volume", "usage.volume", ">=", 1, window="pilot")], store)
    assert built == ["support-router"]


def test_usage_no_interactions_is_insufficient(store: Store) -> None:
    got = _by_name([crit("acc", "usage.acceptance_rate", ">=", 0.8)], store)
    assert got["acc"]["status"] == "insufficient_data"
    assert "no interactions" in got["acc"]["reason"]


def test_unknown_metric_lists_the_catalogue(store: Store) -> None:
    with pytest.raises(ConfigError) as err:
        evaluate_gate(make_plan([crit("x", "latency.e2e.p98@3x", "<=", 1)]), store, save=False)
    msg = str(err.value)
    assert "unknown metric 'latency.e2e.p98@3x'" in msg and "usage.acceptance_rate" in msg
    assert "criterion 'x'" in msg


def test_pilot_window_without_start_is_a_config_error(store: Store) -> None:
    plan = make_plan([crit("a", "usage.acceptance_rate", ">=", 0.7, window="pilot")], pilot={})
    with pytest.raises(ConfigError, match="pilot start"):
        evaluate_gate(plan, store, now=NOW, save=False)


@pytest.mark.parametrize(
    ("metric", "pattern"),
    [
        ("latency.ttft.p95@1.5x", "latency.<kind:e2e|service|ttft|itl>."),
        ("usage.dropoff.copied_answer", "usage.dropoff.<step>"),
        ("compare.a.delta", "compare.<name>.delta"),
        ("compare.a.exact.delta", "compare.<name>.<scorer>.delta"),
    ],
)
def test_patterns(metric: str, pattern: str) -> None:
    assert resolve_metric(metric).pattern.startswith(pattern)


def test_gate_evaluation_is_stored_as_a_run(store: Store) -> None:
    save_run_at(store, "load", load_doc({"3x": 1000}), NOW)
    res = evaluate_gate(make_plan([crit("p99", "latency.e2e.p99@3x", "<=", 4000)]), store, now=NOW)
    assert res.run_id is not None
    run = store.get_run(res.run_id)
    assert run["kind"] == "gate" and run["summary"]["verdict"] == "pass"
    assert run["plan_hash"] == res.plan_hash
    assert [r["item_id"] for r in store.run_results(res.run_id)] == ["p99"]
