"""Which run is judged: a store shared by two features, two versions each.

Each feature's runs of every kind are stored with distinct values, and the *other*
feature's (or the other version's) runs are always newer. Each feature's gate must read
only its own runs of the plan's version (the evidence names the run id and selection);
once a feature's own runs are gone, its criteria are insufficient_data with a reason
naming what was found, never another feature's value. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete
from tests.gate.gate_fixtures import (
    NOW,
    compare_doc,
    crit,
    eval_doc,
    load_doc,
    robustness_doc,
    save_run_at,
    shift_doc,
)

from pilotgate.gate import evaluate_gate
from pilotgate.plan import Plan
from pilotgate.store import Store, tables

FEATURES = ("router", "summariser")
KINDS = ("load", "eval", "robustness", "shift", "compare")
# (feature, version) -> hours before NOW: the other feature's / version's runs are newer
AGE = {("router", "v2"): 5, ("summariser", "v2"): 4, ("summariser", "v1"): 3, ("router", "v1"): 2}


def _value(feature: str, version: str) -> float:
    """A value unique to (feature, version), in every metric's range."""
    return {("router", "v1"): 0.61, ("router", "v2"): 0.72,
            ("summariser", "v1"): 0.83, ("summariser", "v2"): 0.94}[(feature, version)]  # fmt: skip


def _docs(v: float) -> dict[str, dict[str, Any]]:
    ci = (v - 0.01, v + 0.01)
    return {
        "load": load_doc({"1x": 1000 * v, "2x": 2000 * v, "3x": 3000 * v}),
        "eval": eval_doc("exact", v, ci, 200, "gold@1"),
        "robustness": robustness_doc("typos", round(v * 100), 100, ci),
        "shift": shift_doc(v, ci, 500),
        "compare": compare_doc(v, ci, 200),
    }


def _fill(store: Store) -> dict[tuple[str, str, str], str]:
    ids: dict[tuple[str, str, str], str] = {}
    for (feature, version), hours in AGE.items():
        for kind, doc in _docs(_value(feature, version)).items():
            meta: dict[str, Any] = {"feature": feature, "version": version}
            if kind in ("eval", "robustness", "shift"):
                meta["eval_set"] = "gold@1"
            if kind == "compare":
                meta["name"] = "v2-vs-v1"
            ids[(feature, version, kind)] = save_run_at(
                store, kind, doc, NOW - timedelta(hours=hours), **meta
            )
    # a newer eval run of the right feature and version, on another eval set: skipped
    for feature in FEATURES:
        save_run_at(
            store, "eval", eval_doc("exact", 0.11, (0.1, 0.12), 200, "demo@1"),
            NOW - timedelta(minutes=30), feature=feature, version="v2", eval_set="demo@1",
        )  # fmt: skip
    return ids


def _plan(feature: str, **extra: Any) -> Plan:
    base = {"min_samples": 10, **extra}
    criteria = [
        crit("p99", "latency.e2e.p99@3x", "<=", 1e9, **base),
        crit("quality", "eval.exact.mean", ">=", 0.0, eval_set="gold", **base),
        crit("typos", "robustness.typos.pass_rate", ">=", 0.0, eval_set="gold", **base),
        crit("coverage", "shift.coverage", ">=", 0.0, eval_set="gold", **base),
        crit("v2 vs v1", "compare.v2-vs-v1.delta", ">=", -1.0, **base),
    ]
    return Plan.model_validate(
        {"feature": {"name": feature, "version": "v2"}, "load": {"expected_concurrency": 10},
         "criteria": criteria}
    )  # fmt: skip


def _expected(kind: str, v: float) -> float:
    return 3000 * v if kind == "load" else v


def _judge(store: Store, plan: Plan) -> dict[str, dict[str, Any]]:
    res = evaluate_gate(plan, store, now=NOW, save=False)
    return {c["name"]: c for c in res.to_json()["criteria"]}


CRITERION_KIND = {"p99": "load", "quality": "eval", "typos": "robustness",
                  "coverage": "shift", "v2 vs v1": "compare"}  # fmt: skip


@pytest.mark.parametrize("feature", FEATURES)
def test_each_feature_reads_only_its_own_runs(store_url: str, feature: str) -> None:
    with Store(store_url) as store:
        ids = _fill(store)
        got = _judge(store, _plan(feature))
        # a criterion may name another version: the baseline's runs
        base = _judge(store, _plan(feature, version="v1"))
    for name, kind in CRITERION_KIND.items():
        c = got[name]
        assert c["status"] == "pass", (name, c["reason"])
        assert c["evidence"]["run_id"] == ids[(feature, "v2", kind)], name
        sel = c["evidence"]["selection"]
        assert (sel["feature"], sel["version"]) == (feature, "v2")
        assert sel["eval_set"] == ("gold" if kind in ("eval", "robustness", "shift") else None)
        assert c["value"] == pytest.approx(_expected(kind, _value(feature, "v2")))
        # the newer runs of the other feature / version were considered and skipped
        skipped = [x for x in c["candidates"] if not x["taken"]]
        assert any(x["feature"] != feature for x in skipped), name
        taken = [x for x in c["candidates"] if x["taken"]]
        assert [x["run_id"] for x in taken] == [c["evidence"]["run_id"]]
        b = base[name]
        assert b["evidence"]["run_id"] == ids[(feature, "v1", kind)], name
        assert b["value"] == pytest.approx(_expected(kind, _value(feature, "v1")))
    quality = got["quality"]["candidates"]
    assert any(x["reason"] == "on eval set 'demo@1'" for x in quality), quality


def test_without_its_own_runs_a_feature_gets_no_other_features_value(store_url: str) -> None:
    with Store(store_url) as store:
        _fill(store)
        with store.engine.begin() as conn:
            own = tables.runs.c.feature == "router"
            ids = [r[0] for r in conn.execute(tables.runs.select().with_only_columns(
                tables.runs.c.id).where(own))]  # fmt: skip
            conn.execute(delete(tables.run_results).where(tables.run_results.c.run_id.in_(ids)))
            conn.execute(delete(tables.runs).where(own))
        got = _judge(store, _plan("router"))
        other = _judge(store, _plan("summariser"))
    for name, kind in CRITERION_KIND.items():
        c = got[name]
        assert c["status"] == "insufficient_data", name
        assert c["value"] is None and c["evidence"]["run_id"] is None
        assert f"no {kind} run of feature 'router' version 'v2'" in c["reason"], c["reason"]
        assert "for feature 'summariser'" in c["reason"], c["reason"]
        assert other[name]["status"] == "pass"  # the other feature is untouched
