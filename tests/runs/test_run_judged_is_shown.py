"""The report's verdict section and the dashboard show, per criterion, the run and the
version judged: with a newer run of another version stored, the reader sees which run
counted. A gate run recorded before selections existed still renders (unknown scope)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update
from tests.runs._live_dashboard import dashboard, get

from pilotgate.gate import evaluate_gate
from pilotgate.plan import load_plan
from pilotgate.report import build_report, render_report
from pilotgate.store import Store, tables

PLAN = """
[feature]
name = "router"
version = "v2"

[load]
expected_concurrency = 10

[[criteria]]
name = "tail latency"
metric = "latency.e2e.p99@3x"
op = "<="
threshold = 5000
min_samples = 10

[[criteria]]
name = "quality"
metric = "eval.exact.mean"
eval_set = "gold"
op = ">="
threshold = 0.5
min_samples = 10

[[criteria]]
name = "baseline quality"
metric = "eval.exact.mean"
eval_set = "gold"
version = "v1"
op = ">="
threshold = 0.5
min_samples = 10
"""


def _eval(mean: float) -> dict[str, object]:
    score = {"n": 100, "mean": mean, "ci95": [mean - 0.05, mean + 0.05]}
    return {
        "schema": "pilotgate.eval/1",
        "cases": {"kind": "eval_set", "ref": "gold@1"},
        "scorers": {"exact": score},
    }


def _load(p99: float) -> dict[str, object]:
    lvl = {"label": "3x", "latency_ms": {"e2e": {"p99": p99, "n": 300}}, "requests": {}}
    return {"schema": "pilotgate.load/1", **lvl, "levels": [lvl]}


def _store(url: str) -> dict[str, str]:
    ids: dict[str, str] = {}
    with Store(url) as store:
        old = datetime.now(UTC) - timedelta(hours=2)
        ids["load-v2"] = store.save_run("load", _load(900), feature="router", version="v2")
        ids["eval-v2"] = store.save_run(
            "eval", _eval(0.8), feature="router", version="v2", eval_set="gold@1"
        )
        ids["eval-v1"] = store.save_run(
            "eval", _eval(0.7), feature="router", version="v1", eval_set="gold@1"
        )
        with store.engine.begin() as conn:
            conn.execute(
                update(tables.runs)
                .where(tables.runs.c.id.in_(list(ids.values())))
                .values(created_at=old)
            )
        # newer, but for v1: the load criterion must not judge it
        ids["load-v1"] = store.save_run("load", _load(100), feature="router", version="v1")
    return ids


def _rows(html: str) -> dict[str, str]:
    """Each verdict row's text, by criterion name."""
    out = {}
    for row in re.findall(r"<tr class=\"row-[^\"]*\">(.*?)</tr>", html, flags=re.S):
        name = re.sub(r"<[^>]+>", "", row.split("</td>")[0]).strip()
        out[name] = row
    return out


def test_report_and_dashboard_name_the_run_and_version_judged(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/store.db"
    ids = _store(url)
    plan_path = tmp_path / "pilotgate.toml"
    plan_path.write_text(PLAN, encoding="utf-8")
    plan = load_plan(plan_path)
    with Store(url) as store:
        gate = evaluate_gate(plan, store)  # recorded: the report shows the latest gate run
        ctx = build_report(store, plan)
        html = render_report(ctx)
    # the load section, too, shows the plan's version, not the newer v1 run
    load = next(sec for sec in ctx["sections"] if sec["key"] == "load")
    assert [r["id"] for r in load["runs"]] == [ids["load-v2"]]
    assert load["runs"][0]["version"] == "v2"
    assert {c.name: c.run_id for c in gate.criteria} == {
        "tail latency": ids["load-v2"],
        "quality": ids["eval-v2"],
        "baseline quality": ids["eval-v1"],
    }
    with dashboard(url, plan_path) as (base, _key):
        page = get(base + "/")
    for where, text in (("report", html), ("dashboard", page)):
        rows = _rows(text)
        for name, run, version in (
            ("tail latency", "load-v2", "v2"),
            ("quality", "eval-v2", "v2"),
            ("baseline quality", "eval-v1", "v1"),
        ):
            row = rows[name]
            assert ids[run] in row, (where, name)
            assert f'class="version-judged"><code>{version}</code>' in row, (where, name)
            assert "feature &#39;router&#39;" in row or "feature 'router'" in row, (where, row)
        assert ids["load-v1"] not in rows["tail latency"], where
        assert "eval set &#39;gold&#39;" in rows["quality"] or "eval set 'gold'" in rows["quality"]
