"""One store, four readers, the same numbers: the gate, `pilotgate usage`, the report and
the dashboard print identical latency p50/p95/p99, acceptance (with its interval), error
rate and dwell p50, because all four take them from ``usage_figures``. SQLite and
PostgreSQL (``store_url``)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.runs._live_dashboard import dashboard as _dashboard
from tests.runs._live_dashboard import get as _get

from pilotgate._cli import main
from pilotgate.plan import load_plan
from pilotgate.report import build_report
from pilotgate.report._stats import fmt_ms, fmt_pct
from pilotgate.store import Store
from pilotgate.store.rollups import REL_ERROR

FEATURE = "bank"
PLAN = """
[feature]
name = "bank"
version = "v2"

[store]
url = "{url}"
{criteria}
"""
METRICS = {
    "p50": "usage.latency.p50",
    "p95": "usage.latency.p95",
    "p99": "usage.latency.p99",
    "acceptance": "usage.acceptance_rate",
    "errors": "usage.error_rate",
    "dwell": "usage.dwell.p50",
}


def _fill(store: Store) -> dict[str, Any]:
    """Two features (feedback must be joined to the right one), errors, missing values."""
    rng = random.Random(7)
    t0 = datetime.now(UTC) - timedelta(days=5)
    inter: list[dict[str, Any]] = []
    fb: list[dict[str, Any]] = []
    mine: list[dict[str, Any]] = []
    for i in range(700):
        feature = FEATURE if i % 7 else "other"
        row: dict[str, Any] = {
            "id": f"i{i}", "ts": t0 + timedelta(minutes=9 * i), "feature": feature,
            "version": rng.choice(["v1", "v2"]), "input": f"q{i}",
            "latency_ms": None if i % 13 == 0 else round(rng.lognormvariate(6.5, 0.7), 3),
            "error": "timeout" if rng.random() < 0.04 else None,
        }  # fmt: skip
        inter.append(row)
        if feature == FEATURE:
            mine.append(row)
        if i % 3:
            fb.append(
                {"interaction_id": f"i{i}", "ts": row["ts"] + timedelta(seconds=20),
                 "accepted": None if i % 10 == 0 else rng.random() < 0.7,
                 "dwell_ms": None if i % 11 == 0 else float(rng.randint(500, 30000))}
            )  # fmt: skip
    store.add_interactions(inter)
    store.add_feedback(fb)
    lat = [r["latency_ms"] for r in mine if r["latency_ms"] is not None]
    ids = {r["id"] for r in mine}
    judged = [f for f in fb if f["interaction_id"] in ids and f["accepted"] is not None]
    dwell = [f["dwell_ms"] for f in fb if f["interaction_id"] in ids and f["dwell_ms"] is not None]
    return {
        "p50": float(np.percentile(lat, 50)),
        "p95": float(np.percentile(lat, 95)),
        "p99": float(np.percentile(lat, 99)),
        "acceptance": sum(1 for f in judged if f["accepted"]) / len(judged),
        "errors": sum(1 for r in mine if r["error"]) / len(mine),
        "dwell": float(np.percentile(dwell, 50)),
    }


def _cli(*args: str) -> None:
    try:
        main(list(args))
    except SystemExit as exc:
        assert exc.code in (0, 1, 3, None), exc.code


def test_gate_usage_report_and_dashboard_print_the_same_figures(
    store_url: str, tmp_path: Path
) -> None:
    with Store(store_url) as store:
        truth = _fill(store)
    criteria = "".join(
        f'\n[[criteria]]\nname = "{k}"\nmetric = "{m}"\nop = ">="\nthreshold = 0\nmin_samples = 1\n'
        for k, m in METRICS.items()
    )
    plan = tmp_path / "pilotgate.toml"
    plan.write_text(PLAN.format(url=store_url, criteria=criteria), encoding="utf-8")

    # 1. the gate
    _cli("gate", "--plan", str(plan), "--store", store_url, "--json", str(tmp_path / "gate.json"))
    gate = {c["name"]: c for c in json.loads((tmp_path / "gate.json").read_text())["criteria"]}
    # 2. pilotgate usage
    _cli("usage", "--feature", FEATURE, "--store", store_url, "--json", str(tmp_path / "u.json"))
    usage = json.loads((tmp_path / "u.json").read_text())["overall"]
    # 3. the report (the data its page is rendered from, and the page `report` writes)
    html_path = tmp_path / "report.html"
    _cli("report", "--plan", str(plan), "--store", store_url, "--out", str(html_path))
    with Store(store_url) as store:
        ctx = build_report(store, load_plan(plan))
    ov = next(s for s in ctx["sections"] if s["key"] == "usage")["overview"]
    report_html = html_path.read_text(encoding="utf-8")
    # 4. the dashboard (its JSON API and its overview page)
    with _dashboard(store_url, plan) as (base, key):
        dash = json.loads(_get(base + "/api/overview", key))["usage"]
        dash_html = _get(base + "/")

    got = {
        "gate": {k: gate[k]["value"] for k in METRICS},
        "usage": {
            "p50": usage["latency_ms"]["p50"], "p95": usage["latency_ms"]["p95"],
            "p99": usage["latency_ms"]["p99"],
            "acceptance": usage["feedback"]["acceptance"]["value"],
            "errors": usage["error_rate"]["value"], "dwell": usage["dwell_ms"]["p50"],
        },
        **{
            name: {
                "p50": o["latency_ms"]["p50"], "p95": o["latency_ms"]["p95"],
                "p99": o["latency_ms"]["p99"], "acceptance": o["feedback"]["acceptance_rate"],
                "errors": o["error_rate"], "dwell": o["dwell_ms"]["p50"],
            }
            for name, o in (("report", ov), ("dashboard", dash))
        },
    }  # fmt: skip
    for reader, figures in got.items():
        assert figures == got["gate"], reader  # identical, not approximately equal
    for k, want in truth.items():  # and right: exact rates, percentiles within the bound
        if k in ("acceptance", "errors"):
            assert got["gate"][k] == pytest.approx(want, rel=1e-9), k
        else:  # read from the hourly rollups' log buckets: within REL_ERROR * (x + 1)
            assert abs(got["gate"][k] - want) <= REL_ERROR * (want + 1) * (1 + 1e-9), k
    assert usage["latency_ms"]["p99"] == got["gate"]["p99"]
    exact = json.loads((tmp_path / "u.json").read_text())["figures"]
    assert exact["method"] == "rollups" and exact["latency_ms"]["p99"]["rel_error_max"] > 0
    # the acceptance interval too
    ci = gate["acceptance"]["ci95"]
    assert usage["feedback"]["acceptance"]["ci95"] == ci
    assert list(ov["feedback"]["ci95"]) == ci and list(dash["feedback"]["ci95"]) == ci
    # and the pages print the same figures
    printed = [fmt_ms(got["gate"][k]) for k in ("p50", "p95", "p99", "dwell")]
    printed += [fmt_pct(got["gate"]["acceptance"]), fmt_pct(got["gate"]["errors"])]
    for text in printed:
        assert text in report_html, text
        assert text in dash_html, text
