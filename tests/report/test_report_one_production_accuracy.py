"""The report does not contradict itself: the verdict row and "Demo vs production" show
the same production accuracy, read from the same run (first-day item 5).

The store is shared: another feature's runs and the plan's own feature at another version
are always newer than the runs the plan judges. Both sections must read the run of the
plan's feature and version on the production eval set (the gate's selection), and the
verdict must be the plan's own gate run, not the newest gate run of any feature.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.runs._live_dashboard import dashboard, get

from pilotgate.gate import evaluate_gate
from pilotgate.plan import Plan
from pilotgate.report import build_report
from pilotgate.store import Store

FEATURE = "northwind-support"


def _eval(mean: float, ref: str, n: int = 200) -> dict[str, Any]:
    return {
        "schema": "pilotgate.eval/1",
        "cases": {"kind": "eval_set", "ref": ref},
        "n_cases": n,
        "scorers": {
            "exact": {"n": n, "mean": mean, "ci95": [mean - 0.02, mean + 0.02],
                      "method": "wilson", "pass_rate": mean,
                      "pass_ci95": [mean - 0.02, mean + 0.02]},
        },
    }  # fmt: skip


def _plan(feature: str) -> Plan:
    return Plan.model_validate(
        {
            "feature": {"name": feature, "version": "v2"},
            "criteria": [
                {"name": "accuracy", "metric": "eval.exact.mean", "op": ">=", "threshold": 0.7,
                 "eval_set": "production", "min_samples": 10},
            ],
        }
    )  # fmt: skip


def _fill(store: Store) -> None:
    def run(mean: float, ref: str, feature: str, version: str) -> None:
        store.save_run("eval", _eval(mean, ref), feature=feature, version=version,
                       eval_set=ref, name=ref.partition("@")[0])  # fmt: skip

    # oldest first: the judged runs, then newer runs the plan must not read
    run(0.81, "production@1", FEATURE, "v2")
    run(0.93, "demo@1", FEATURE, "v2")
    run(0.55, "production@1", FEATURE, "v1")
    run(0.97, "demo@1", FEATURE, "v1")
    run(0.33, "production@1", "other-feature", "v2")
    run(0.99, "demo@1", "other-feature", "v2")


def _accuracies(ctx: dict[str, Any]) -> tuple[float, float, float]:
    (row,) = [c for c in ctx["verdict"]["criteria"] if c["name"] == "accuracy"]
    (q,) = [q for q in ctx["demo_vs_production"]["quality"] if q["scorer"] == "exact"]
    return row["value"], q["production"]["mean"], q["demo"]["mean"]


def test_verdict_and_demo_vs_production_read_the_same_production_run(store: Store) -> None:
    _fill(store)
    ctx = build_report(store, _plan(FEATURE))  # no gate run stored: computed now
    verdict, production, demo = _accuracies(ctx)
    assert verdict == production == 0.81
    assert demo == 0.93  # the demo set on the same feature and version


def test_the_verdict_is_the_plans_own_gate_run(store: Store) -> None:
    _fill(store)
    evaluate_gate(_plan(FEATURE), store, save=True)
    evaluate_gate(_plan("other-feature"), store, save=True)  # newer, another feature
    ctx = build_report(store, _plan(FEATURE))
    assert ctx["verdict"]["verdict"] == "pass"
    verdict, production, _ = _accuracies(ctx)
    assert verdict == production == 0.81


PLAN_TOML = f"""
[feature]
name = "{FEATURE}"
version = "v2"

[[criteria]]
name = "accuracy"
metric = "eval.exact.mean"
op = ">="
threshold = 0.7
eval_set = "production"
min_samples = 10
"""


def test_the_dashboard_scorecard_is_the_plans_own_gate_run(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    _fill(store)
    evaluate_gate(_plan(FEATURE), store, save=True)  # pass (0.81)
    evaluate_gate(_plan("other-feature"), store, save=True)  # newer: fail (0.33)
    plan_path = tmp_path / "pilotgate.toml"
    plan_path.write_text(PLAN_TOML, encoding="utf-8")
    with dashboard(store_url, plan_path) as (base, key):
        verdict = json.loads(get(base + "/api/overview", key))["verdict"]
    assert verdict["verdict"] == "pass"
    (row,) = verdict["criteria"]
    assert row["value"] == 0.81
