"""Slicing usage by a metadata key, in `usage --by` and in a gate criterion, on both stores."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pilotgate._cli import main
from pilotgate.errors import ConfigError
from pilotgate.gate import evaluate_gate, metric_problem
from pilotgate.plan import validate_plan_text
from pilotgate.store import Store
from pilotgate.usage import usage_report
from pilotgate.usage._slices import usage_slices

T0 = datetime(2026, 5, 1, 9, tzinfo=UTC)
# category -> (interactions, accepted of them); "balance" is the slice that fails
DATA = {"refund": (40, 36), "balance": (30, 12), "card": (10, 9)}


def _fill(st: Store) -> None:
    inter: list[dict[str, Any]] = []
    fb: list[dict[str, Any]] = []
    k = 0
    for cat, (n, acc) in DATA.items():
        for j in range(n):
            iid = f"{cat}-{j}"
            meta: dict[str, Any] = {"category": cat, "tier": 2 if j % 2 else 1}
            inter.append({"id": iid, "ts": T0 + timedelta(minutes=k), "feature": "refunds",
                          "version": "v1", "input": f"q {iid}", "latency_ms": 100.0 + j,
                          "metadata": meta})  # fmt: skip
            fb.append({"interaction_id": iid, "ts": T0 + timedelta(minutes=k, seconds=5),
                       "accepted": j < acc})  # fmt: skip
            k += 1
    inter.append({"id": "nometa", "ts": T0, "feature": "refunds", "input": "q", "metadata": {}})
    st.add_interactions(inter)
    st.add_feedback(fb)


def test_slices_by_a_metadata_key(store: Store) -> None:
    _fill(store)
    parts = usage_slices(store, "category", feature="refunds")
    got = {p.value: p.report for p in parts}
    assert list(got) == ["refund", "balance", "card", None]
    for cat, (n, acc) in DATA.items():
        m = got[cat].metric("acceptance_rate")
        assert (got[cat].overall.n, m.n, m.value) == (n, n, pytest.approx(acc / n))
    assert got[None].overall.n == 1
    tier2 = usage_report(store, feature="refunds", metadata=(("tier", "2"),))
    assert tier2.overall.n == sum(n // 2 for n, _ in DATA.values())


def test_usage_by_on_the_command_line(store_url: str, tmp_path: Path) -> None:
    with Store(store_url) as st:
        _fill(st)
    out = tmp_path / "usage.json"
    argv = ["usage", "--store", store_url, "--feature", "refunds", "--by", "metadata.category",
            "--json", str(out)]  # fmt: skip
    try:
        main(argv)
    except SystemExit as exc:
        assert exc.code in (0, None)
    doc = json.loads(out.read_text())
    assert doc["by"] == "metadata.category"
    rates = {s["value"]: s["metrics"]["acceptance_rate"]["value"] for s in doc["slices"]}
    assert rates["balance"] == pytest.approx(12 / 30) and rates["refund"] == pytest.approx(0.9)


def test_a_gate_criterion_on_a_slice(store: Store) -> None:
    _fill(store)
    plan = validate_plan_text(
        '[feature]\nname = "refunds"\n\n'
        '[[criteria]]\nname = "refunds accepted"\n'
        'metric = "usage.acceptance_rate[category=refund]"\nop = ">="\nthreshold = 0.8\n'
        "min_samples = 20\n\n"
        '[[criteria]]\nname = "balance accepted"\n'
        'metric = "usage.acceptance_rate[category=balance]"\nop = ">="\nthreshold = 0.8\n'
        "min_samples = 20\n\n"
        '[[criteria]]\nname = "all accepted"\nmetric = "usage.acceptance_rate"\n'
        'op = ">="\nthreshold = 0.5\nmin_samples = 20\n'
    )
    res = evaluate_gate(plan, store, now=T0 + timedelta(days=1), save=False).to_json()
    by = {c["name"]: c for c in res["criteria"]}
    assert by["refunds accepted"]["value"] == pytest.approx(0.9)
    assert by["refunds accepted"]["n"] == 40 and by["refunds accepted"]["status"] == "pass"
    assert by["balance accepted"]["status"] == "fail"
    assert "--where metadata.category=balance" in by["balance accepted"]["evidence"]["command"]
    assert by["all accepted"]["n"] == 80


def test_slices_only_on_usage_metrics() -> None:
    assert metric_problem("usage.acceptance_rate[category=refund]") is None
    why = metric_problem("latency.e2e.p99@3x[category=refund]")
    assert why is not None and "only usage metrics" in why
    with pytest.raises(ConfigError):
        validate_plan_text(
            '[feature]\nname = "x"\n[[criteria]]\nname = "a"\n'
            'metric = "usage.acceptance_rate[category]"\nop = ">="\nthreshold = 1\n'
        )
