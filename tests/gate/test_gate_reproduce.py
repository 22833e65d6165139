"""A "Reproduce" command keeps the options that produced the number (issue 18, item 5)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.gate.gate_fixtures import FEATURE, NOW, crit, eval_doc, load_doc, make_plan, save_run_at

from pilotgate._cli import main
from pilotgate.gate import evaluate_gate
from pilotgate.report._capabilities import coverage_section
from pilotgate.simulator import Dist, SimulatorProfile, run_in_thread
from pilotgate.store import Store


def _evidence(store: Store, criteria: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    res = evaluate_gate(make_plan(criteria), store, now=NOW, save=False)
    return {c["name"]: c["evidence"] for c in res.to_json()["criteria"]}


def test_api_recorded_runs_rebuild_their_options(store: Store) -> None:
    params = {"config": {"duration_s": 15.0}, "expected": 10, "labels": ["1x", "2x", "3x"]}
    doc = load_doc({"1x": 900, "2x": 1800, "3x": 4500})
    save_run_at(store, "load", doc, NOW - timedelta(hours=1), params=params, target="http:x")
    scorers = {"label": {"name": "label", "kwargs": {"extractor": "prefix"}}}
    save_run_at(
        store, "eval", eval_doc("label", 0.9, (0.8, 0.95), 100, "prod@1"),
        NOW - timedelta(hours=1),
        params={"scorers": scorers, "cases": {"kind": "eval_set", "ref": "prod@1"}},
        target="openai:http://127.0.0.1:1/v1",
    )  # fmt: skip
    crit_eval = crit("quality", "eval.label.mean", ">=", 0.8)
    crit_eval["eval_set"] = "prod"
    ev = _evidence(store, [crit("p99", "latency.e2e.p99@3x", "<=", 5000), crit_eval])
    assert "--duration 15" in str(ev["p99"]["command"])
    assert "--duration 60" not in str(ev["p99"]["command"])
    cmd = str(ev["quality"]["command"])
    assert "--scorer label:extractor=prefix" in cmd and "--eval-set prod@1" in cmd


def test_cli_recorded_runs_keep_their_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    profile = SimulatorProfile(ttft_ms=Dist.constant(5), output_tokens=Dist.constant(2))
    with run_in_thread(profile) as sim:
        target = f"openai:{sim.url}/v1"
        argv = ["load", "-t", target, "--model", "m", "--expected", "1", "--multiplier", "1",
                "-d", "0.4", "--store", url, "--feature", FEATURE, "--version", "v2"]  # fmt: skip
        try:
            main(argv)
        except SystemExit as exc:
            assert exc.code in (0, None)
    with Store(url) as st:
        run = st.list_runs("load")[0]
        assert run["params"]["command"].startswith("pilotgate load -t")
        assert "-d 0.4" in run["params"]["command"]
        plan = make_plan([crit("p99", "latency.e2e.p99@1x", "<=", 5000)])
        res = evaluate_gate(plan, st, save=False).to_json()
    assert "-d 0.4" in res["criteria"][0]["evidence"]["command"]


def test_report_reads_the_coverage_interval_the_shift_run_stores(store: Store) -> None:
    summary = {"schema": "pilotgate.shift/1", "coverage": 0.8, "coverage_ci95": [0.7, 0.88]}
    store.save_run("shift", summary)
    sec = coverage_section(store)
    assert sec["coverage"] == 0.8 and sec["coverage_ci95"] == [0.7, 0.88]
