"""Locking and sign-off through the library, on both store backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.gate.gate_fixtures import NOW, crit, load_doc, make_plan, save_run_at

from pilotgate.errors import ConfigError
from pilotgate.gate import criteria_changes, current_pilot, evaluate_gate, sign_off, start_pilot
from pilotgate.store import Store

P99 = crit("p99", "latency.e2e.p99@3x", "<=", 4000)


def test_lock_change_signoff_roundtrip(store_url: str) -> None:
    with Store(store_url) as st:
        save_run_at(st, "load", load_doc({"1x": 1000, "2x": 2000, "3x": 4500}), NOW)
        plan = make_plan([P99])
        pilot = start_pilot(st, plan, now=NOW - timedelta(days=10))
        assert current_pilot(st, plan.feature.name) == pilot

        looser = make_plan([{**P99, "threshold": 5000}])
        changes = criteria_changes(pilot, looser)
        assert list(changes) == ["p99"] and changes["p99"].kind == "changed"
        res = evaluate_gate(looser, st, now=NOW)
        assert res.verdict == "fail" and res.criteria[0].judged_definition == "original"

        so = sign_off(st, looser, "p99", reason="agreed with ops", who="ana", now=NOW)
        assert so.new_definition["threshold"] == 5000
        reloaded = current_pilot(st, plan.feature.name)
        assert reloaded is not None and reloaded.signoffs[-1].reason == "agreed with ops"
        res = evaluate_gate(looser, st, now=NOW)
        assert res.verdict == "pass" and res.exit_code == 0
        assert res.criteria[0].change is not None and res.criteria[0].change.signed_off

        # the locked plan's load section decides which level is "3x", even if edited later
        moved = make_plan([{**P99, "threshold": 5000}], load={"expected_concurrency": 10000})
        res = evaluate_gate(moved, st, now=NOW)
        assert res.criteria[0].value == 4500 and "load" in res.plan_changed_sections


def test_pilot_window_starts_at_pilot_start_without_plan_dates(store_url: str) -> None:
    with Store(store_url) as st:
        plan = make_plan([{**P99, "window": "pilot"}], pilot={})
        save_run_at(st, "load", load_doc({"3x": 1000}), NOW - timedelta(days=5))
        start_pilot(st, plan, now=NOW - timedelta(days=2))
        res = evaluate_gate(plan, st, now=NOW, save=False)
        assert res.verdict == "insufficient_data"  # the only run predates the pilot
        save_run_at(st, "load", load_doc({"3x": 1000}), NOW - timedelta(days=1))
        assert evaluate_gate(plan, st, now=NOW, save=False).verdict == "pass"


def test_sign_off_needs_a_reason(store_url: str) -> None:
    with Store(store_url) as st:
        plan = make_plan([P99])
        start_pilot(st, plan, now=NOW)
        with pytest.raises(ConfigError, match="reason"):
            sign_off(st, make_plan([{**P99, "threshold": 1}]), "p99", reason="  ")
