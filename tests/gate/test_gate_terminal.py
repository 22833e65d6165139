"""The gate's terminal verdict and the pilot status lines, printed from the library."""

from __future__ import annotations

import io
from datetime import timedelta

from rich.console import Console
from tests.gate.gate_fixtures import NOW, crit, load_doc, make_plan, save_run_at

from pilotgate.gate import evaluate_gate, pilot_status_lines, print_gate, sign_off, start_pilot
from pilotgate.store import Store

P99 = crit("p99", "latency.e2e.p99@3x", "<=", 4000)


def _printed(result: object) -> str:
    out = io.StringIO()
    print_gate(result, Console(file=out, width=220))  # type: ignore[arg-type]
    return out.getvalue()


def test_the_verdict_the_changes_and_the_status_lines(store_url: str) -> None:
    with Store(store_url) as st:
        save_run_at(st, "load", load_doc({"1x": 1000, "2x": 2000, "3x": 4500}), NOW)
        plan = make_plan([P99])
        text = _printed(evaluate_gate(plan, st, now=NOW, save=False))
        assert "not locked" in text and "verdict: FAIL" in text and "p99" in text
        pilot = start_pilot(st, plan, now=NOW - timedelta(days=10))
        looser = make_plan([{**P99, "threshold": 5000}])
        text = _printed(evaluate_gate(looser, st, now=NOW, save=False))
        assert "changed after start" in text and "judged on the original" in text
        lines = pilot_status_lines(pilot, looser)
        assert "(changed)" in lines[0] and lines[1] == "  p99 (changed, NOT signed off)"
        assert lines[2].startswith("    original:") and "4000" in lines[2]
        sign_off(st, looser, "p99", reason="agreed with ops", who="ana", now=NOW)
        text = _printed(evaluate_gate(looser, st, now=NOW, save=False))
        assert "signed off by ana" in text and "verdict: PASS" in text
        assert pilot_status_lines(pilot, plan)[-1] == "  no criterion changed since the start"
