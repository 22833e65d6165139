"""`pilotgate demo` end to end on a small stream: every step runs and the report is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from pilotgate.demo._orchestrate import DemoConfig, run_demo
from pilotgate.demo._steps import capability_steps
from pilotgate.store import Store


@pytest.mark.slow
def test_small_demo_runs_every_step_and_writes_the_report(tmp_path: Path) -> None:
    cfg = DemoConfig(out_dir=tmp_path / "demo", n_requests=400, load_seconds=2.0)
    ctx, log = run_demo(cfg, extra_steps=capability_steps())
    failed = {s.name: s.error for s in log if s.status != "ok"}
    assert failed == {}
    names = [s.name for s in log]
    assert names[:2] == ["pilot plan", "replay production"] and names[-1] == "report"
    report = ctx.files["report"]
    html = report.read_text(encoding="utf-8")
    assert "Verdict" in html and "Demo vs production" in html
    assert "<script src=" not in html  # self-contained
    with Store(ctx.store_url) as store:
        kinds = {r["kind"] for r in store.list_runs()}
        n = store.count()
        demo_eval = store.latest_run("eval", name="demo-v1")
        prod_eval = store.latest_run("eval", name="production-v1")
    assert {"eval", "compare", "shift", "robustness", "load", "gate"} <= kinds
    assert 300 <= n <= 400  # sessions abandoned after bad answers send fewer requests
    assert demo_eval is not None and prod_eval is not None
    demo_mean = demo_eval["summary"]["scorers"]["label"]["mean"]
    prod_mean = prod_eval["summary"]["scorers"]["label"]["mean"]
    assert demo_mean > prod_mean  # the seed's point: the demo set flatters the feature
    assert ctx.results["gate"]["verdict"] in ("pass", "fail", "insufficient_data")
    # the v1 -> v2 comparison the report shows is measured on held-out templates, and says so
    with Store(ctx.store_url) as store:
        latest = store.latest_run("compare")
        seen = store.latest_run("compare", name="v1-vs-v2 (seen)")
    assert latest is not None and latest["name"] == "v1-vs-v2 (held out)"
    assert latest["summary"]["scope"].startswith("held out")
    assert seen is not None and seen["summary"]["scope"].startswith("seen by the fix")
    assert "Measured on:</b> held out" in html
    summary = ctx.results["summary"]
    assert "v2 vs v1 (held out)" in summary and "v2 vs v1 (seen by the fix, in sample)" in summary
