"""The gate on runs the real commands stored: load (simulator over loopback), eval and
robustness (a Python target), usage (ingested records), then `pilotgate gate`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pilotgate._cli import main
from pilotgate.simulator import Dist, SimulatorProfile, run_in_thread
from pilotgate.store import Store

FEATURE_MODULE = '''
def answer(text):
    """Upper-cases; says 'refund' for anything about money (brittle on purpose)."""
    return "refund" if "money" in text else text.strip().upper()
'''


def _cli(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else 1
    return 0


@pytest.fixture
def feature_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    mod = tmp_path / "gate_feature_mod.py"
    mod.write_text(FEATURE_MODULE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "python:gate_feature_mod:answer"


# what each command's run measures; the gate reads only this feature's v1 runs
SCOPE = ("--feature", "integration", "--version", "v1")


def _plan(path: Path, criteria: list[dict[str, Any]]) -> None:
    lines = ["[feature]", 'name = "integration"', "[load]", "expected_concurrency = 2", ""]
    for c in criteria:
        lines.append("[[criteria]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in c.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_gate_on_real_runs(tmp_path: Path, feature_target: str) -> None:
    url = f"sqlite:///{tmp_path}/store.db"
    profile = SimulatorProfile(
        ttft_ms=Dist.constant(10), token_ms=Dist.constant(1), output_tokens=Dist.constant(4)
    )
    with run_in_thread(profile, seed=0) as sim:
        code = _cli("load", "-t", f"openai:{sim.url}/v1", "--model", "m", "--expected", "2",
                    "-d", "2", "--store", url, *SCOPE)  # fmt: skip
    assert code == 0

    cases = [{"id": f"c{i}", "input": f"hello number {i}", "expected": f"HELLO NUMBER {i}"}
             for i in range(12)]  # fmt: skip
    with Store(url) as st:
        st.save_eval_set("production", cases)
    assert _cli("eval", "run", "-t", feature_target, "--eval-set", "production",
                "--scorer", "exact", "--store", url, *SCOPE) == 0  # fmt: skip
    cases_file = tmp_path / "cases.jsonl"
    cases_file.write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
    assert _cli("robustness", "-t", feature_target, "--cases", str(cases_file),
                "--perturbations", "all_caps,typo", "--store", url, *SCOPE) == 0  # fmt: skip

    plan = tmp_path / "pilotgate.toml"
    base = {"min_samples": 5}
    _plan(plan, [
        {"name": "p99 at 3x", "metric": "latency.e2e.p99@3x", "op": "<=", "threshold": 5000,
         **base},
        {"name": "quality", "metric": "eval.exact.mean", "op": ">=", "threshold": 0.9,
         "eval_set": "production", **base},
        {"name": "caps", "metric": "robustness.all_caps.pass_rate", "op": ">=", "threshold": 0.9,
         **base},
    ])  # fmt: skip
    out = tmp_path / "gate.json"
    code = _cli("gate", "--plan", str(plan), "--store", url, "--json", str(out))
    doc = json.loads(out.read_text(encoding="utf-8"))
    got = {c["name"]: c for c in doc["criteria"]}
    assert got["p99 at 3x"]["status"] == "pass", got["p99 at 3x"]
    assert got["p99 at 3x"]["n"] >= 5 and got["p99 at 3x"]["evidence"]["run_id"].startswith("load")
    assert "level 3x" in got["p99 at 3x"]["evidence"]["note"]
    assert got["quality"]["status"] == "pass" and got["quality"]["value"] == 1.0
    assert got["quality"]["ci95"] is not None
    # all_caps: the feature upper-cases, so the answer to the perturbed input is the same
    assert got["caps"]["status"] == "pass", got["caps"]
    assert code == 0 and doc["verdict"] == "pass"

    _plan(plan, [{"name": "p99 at 3x", "metric": "latency.e2e.p99@3x", "op": "<=",
                  "threshold": 1, **base}])  # fmt: skip
    assert _cli("gate", "--plan", str(plan), "--store", url) == 1
