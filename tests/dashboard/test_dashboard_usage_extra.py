"""The dashboard's usage page shows tokens and cost from the plan's prices, and slices by a
metadata key (issue 18: cost and slicing where a person looks)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from pilotgate._web.dashboard import dashboard_router
from pilotgate.plan import validate_plan_text
from pilotgate.store import Store

PLAN = '[feature]\nname = "refunds"\n\n[prices.m1]\ninput_per_1k = 1\noutput_per_1k = 3\n'


def test_usage_page_cost_and_slices(tmp_path: Path) -> None:
    t = datetime(2026, 5, 1, 9, tzinfo=UTC)
    with Store(f"sqlite:///{tmp_path / 's.db'}") as st:
        st.add_interactions([
            {"id": f"i{k}", "ts": t, "feature": "refunds", "input": "q", "tokens_in": 1000,
             "tokens_out": 1000, "metadata": {"model": "m1", "category": "refund" if k < 3
                                               else "<b>card</b>"}}
            for k in range(4)
        ])  # fmt: skip
        app = FastAPI()
        app.include_router(dashboard_router(st, plan=validate_plan_text(PLAN), require_login=False))
        client = TestClient(app)
        html = client.get("/usage?by=category").text
    assert 'data-testid="cost-per-call">4.000000<' in html
    assert 'data-testid="slices"' in html and "refund" in html
    assert "<b>card</b>" not in html and "&lt;b&gt;card&lt;/b&gt;" in html
