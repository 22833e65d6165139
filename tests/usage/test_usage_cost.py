"""Tokens and cost from prices in the plan: usage, the gate, and the load report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pilotgate._cli import main
from pilotgate.gate import evaluate_gate
from pilotgate.plan import ModelPrice, validate_plan_text
from pilotgate.store import Store
from pilotgate.usage._cost import usage_cost

T0 = datetime(2026, 5, 1, 9, tzinfo=UTC)
PLAN = """
[feature]
name = "refunds"

[prices.gpt-small]
input_per_1k = 0.5
output_per_1k = 1.5

[prices.default]
input_per_1k = 1.0
output_per_1k = 2.0

[[criteria]]
name = "cheap enough"
metric = "usage.cost_per_call"
op = "<="
threshold = 0.01
min_samples = 3
"""


def _fill(st: Store) -> None:
    rows = []
    for k in range(4):  # 1,000 in + 1,000 out on gpt-small: 2.0 per call
        rows.append({"id": f"s{k}", "ts": T0 + timedelta(hours=k * 12), "feature": "refunds",
                     "input": "q", "tokens_in": 1000, "tokens_out": 1000,
                     "metadata": {"model": "gpt-small"}})  # fmt: skip
    rows.append(
        {
            "id": "o1",
            "ts": T0,
            "feature": "refunds",
            "input": "q",
            "tokens_in": 500,
            "tokens_out": 250,
            "metadata": {"model": "other"},
        }
    )  # default: 1.0
    rows.append({"id": "n1", "ts": T0, "feature": "refunds", "input": "q"})  # no tokens
    st.add_interactions(rows)


def test_cost_per_call_and_per_day(store: Store) -> None:
    _fill(store)
    prices = validate_plan_text(PLAN).prices
    rep = usage_cost(store, prices, feature="refunds")
    assert rep.calls == 6 and rep.calls_with_tokens == 5
    assert rep.cost == pytest.approx(4 * 2.0 + 1.0)
    assert rep.per_call == pytest.approx(9.0 / 5)
    assert rep.by_day["2026-05-01"]["cost"] == pytest.approx(2 * 2.0 + 1.0)
    assert rep.by_model["gpt-small"]["tokens_out"] == 4000
    only_small = usage_cost(store, {"gpt-small": ModelPrice(input_per_1k=1)}, feature="refunds")
    assert only_small.unpriced_models == ["other"] and only_small.cost == pytest.approx(4.0)


def test_usage_json_and_gate_read_the_cost(store_url: str, tmp_path: Path) -> None:
    with Store(store_url) as st:
        _fill(st)
    plan = tmp_path / "pilotgate.toml"
    plan.write_text(PLAN, encoding="utf-8")
    out = tmp_path / "usage.json"
    try:
        main(["usage", "--plan", str(plan), "--store", store_url, "--json", str(out)])
    except SystemExit as exc:
        assert exc.code in (0, None)
    cost = json.loads(out.read_text())["cost"]
    assert cost["cost_per_call"] == pytest.approx(1.8) and cost["tokens_in"] == 4500
    with Store(store_url) as st:
        res = evaluate_gate(validate_plan_text(PLAN), st, now=T0 + timedelta(days=3), save=False)
    crit = res.to_json()["criteria"][0]
    assert crit["value"] == pytest.approx(1.8) and crit["status"] == "fail" and crit["n"] == 5


def test_load_report_prices_each_level(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cost_feature.py").write_text(
        "def answer(text):\n    return 'one two three four'\n", encoding="utf-8"
    )
    (tmp_path / "pilotgate.toml").write_text(
        '[feature]\nname = "f"\n\n[targets.local]\nkind = "python"\n'
        'function = "cost_feature:answer"\nmodel = "m1"\n\n'
        "[prices.m1]\ninput_per_1k = 0\noutput_per_1k = 1000\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "load.json"
    try:
        main(["load", "-t", "local", "-c", "2", "-d", "1.5", "--json", str(out), "--no-store"])
    except SystemExit as exc:
        assert exc.code in (0, None)
    doc = json.loads(out.read_text())
    # 4 output tokens a call at 1,000 per 1,000 tokens: 4.0 per call
    assert doc["cost"]["per_call"] == pytest.approx(4.0)
    assert doc["cost"]["total"] == pytest.approx(4.0 * doc["requests"]["ok"])


def test_the_html_report_shows_each_load_levels_cost(tmp_path: Path) -> None:
    from pilotgate.report._capabilities import load_section

    level = {"label": "1x", "latency_ms": {"e2e": {"p50": 10, "p99": 20}},
             "cost": {"total": 8.0, "per_call": 4.0, "tokens_out": 8}}  # fmt: skip
    with Store(f"sqlite:///{tmp_path / 's.db'}") as st:
        st.save_run("load", {"schema": "pilotgate.load/1", "levels": [level], **level})
        sec = load_section(st, None)
        from pilotgate.report import build_report, render_report

        html = render_report(build_report(st, None), embed_plotly=False)
    assert sec["costs"] and sec["costs"][0]["per_call"] == 4.0 and sec["costs"][0]["label"] == "1x"
    assert 'data-testid="load-cost"' in html and "4.000000" in html
