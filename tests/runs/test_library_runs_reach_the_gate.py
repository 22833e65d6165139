"""A script that uses the library only (no CLI) records runs the gate then finds.

The script runs in its own Python process: ``analyze_shift(..., store=URL)``, a load run
(``run_levels`` against the provider simulator on loopback) and ``run_robustness(...)``
on a Python target, each naming the feature and version it measured. Then ``pilotgate
gate`` judges a plan of that feature and version, and every criterion's evidence names
the run the script printed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from pilotgate._cli import main

SCRIPT = """
import json, sys
sys.path.insert(0, {tmp!r})
from pilotgate.load import LoadConfig, expected_levels, run_levels, to_target
from pilotgate.perturb import run_robustness
from pilotgate.records import Case
from pilotgate.shift import analyze_shift
from pilotgate.simulator import Dist, SimulatorProfile, run_in_thread

URL = {url!r}
SCOPE = dict(feature="router", version="v2")
texts = [f"where is my card number {{i}}" for i in range(40)]
shift = analyze_shift(texts[:20], texts, embedder="lexical", store=URL, eval_set="gold@1",
                      **SCOPE)
profile = SimulatorProfile(ttft_ms=Dist.constant(5), token_ms=Dist.constant(1),
                           output_tokens=Dist.constant(3))
with run_in_thread(profile, seed=0) as sim:
    levels, labels = expected_levels(2, 3.0)
    load = run_levels(LoadConfig(concurrency=2, duration_s=1.0, max_requests=40, seed=0),
                      to_target(f"openai:{{sim.url}}/v1", model="m"), [int(x) for x in levels],
                      labels=labels,
                      store=URL, **SCOPE)
cases = [Case(id=f"c{{i}}", input=f"hello number {{i}}") for i in range(12)]
rob = run_robustness("python:libfeat:answer", cases, perturbations="all_caps,typo",
                     store=URL, eval_set="gold@1", **SCOPE)
# a run of another feature, made after: the gate must not read it
analyze_shift(texts[:5], texts, embedder="lexical", store=URL, feature="billing",
              version="v2", eval_set="gold@1")
print(json.dumps({{"shift": shift.run_id, "load": load.run_id, "robustness": rob.run_id}}))
"""

PLAN = """
[feature]
name = "router"
version = "v2"

[load]
expected_concurrency = 2

[[criteria]]
name = "coverage"
metric = "shift.coverage"
eval_set = "gold"
op = ">="
threshold = 0.0
min_samples = 5

[[criteria]]
name = "p99 at 3x"
metric = "latency.e2e.p99@3x"
op = "<="
threshold = 60000
min_samples = 1

[[criteria]]
name = "caps"
metric = "robustness.all_caps.pass_rate"
op = ">="
threshold = 0.0
min_samples = 5
"""


def test_runs_made_through_the_library_are_judged_by_the_gate(tmp_path: Path) -> None:
    (tmp_path / "libfeat.py").write_text(
        "def answer(text):\n    return text.strip().upper()\n", encoding="utf-8"
    )
    url = f"sqlite:///{tmp_path}/store.db"
    script = tmp_path / "pilot_script.py"
    script.write_text(textwrap.dedent(SCRIPT.format(tmp=str(tmp_path), url=url)), "utf-8")
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    ids = json.loads(proc.stdout.strip().splitlines()[-1])
    assert all(ids.values()), ids

    plan = tmp_path / "pilotgate.toml"
    plan.write_text(PLAN, encoding="utf-8")
    out = tmp_path / "gate.json"
    try:
        main(["gate", "--plan", str(plan), "--store", url, "--json", str(out), "--no-store"])
    except SystemExit as exc:
        assert exc.code in (0, None), exc.code
    doc = json.loads(out.read_text(encoding="utf-8"))
    got = {c["name"]: c for c in doc["criteria"]}
    assert got["coverage"]["evidence"]["run_id"] == ids["shift"]
    assert got["p99 at 3x"]["evidence"]["run_id"] == ids["load"]
    assert got["caps"]["evidence"]["run_id"] == ids["robustness"]
    for c in got.values():
        assert c["status"] == "pass", (c["name"], c["reason"])
        assert c["evidence"]["selection"]["feature"] == "router"
        assert c["evidence"]["selection"]["version"] == "v2"
    skipped = [x for x in got["coverage"]["candidates"] if not x["taken"]]
    assert [x["feature"] for x in skipped] == ["billing"]
