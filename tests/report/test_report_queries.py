"""The dashboard's SQL aggregates agree with a plain Python computation of the same data."""

from __future__ import annotations

import functools
import itertools
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pilotgate.report import features, usage_overview
from pilotgate.store import Store
from pilotgate.store.rollups import REL_ERROR
from pilotgate.usage import usage_figures
from pilotgate.usage._stats import quantile_metric

T0 = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)


def _fill(store: Store, seed: int = 3) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for i in range(500):
        feat = "a" if i % 5 else "b"
        rows.append(
            {"kind": "interaction", "id": f"i{i}", "ts": T0 + timedelta(minutes=17 * i),
             "feature": feat, "version": rng.choice(["v1", "v2"]), "input": f"q{i}",
             "latency_ms": None if i % 11 == 0 else rng.lognormvariate(6, 0.6),
             "error": "timeout" if rng.random() < 0.05 else None, "tokens_out": 10})  # fmt: skip
    store.add_interactions(rows)
    fb = [
        {"interaction_id": f"i{i}", "ts": T0 + timedelta(minutes=17 * i + 1),
         "accepted": rng.random() < 0.7 if i % 4 else None,
         "edited_output": "x" if i % 9 == 0 else None}
        for i in range(0, 500, 2)
    ]  # fmt: skip
    store.add_feedback(fb)
    return rows


def test_overview_matches_python(store_url: str) -> None:
    with Store(store_url) as store:
        rows = _fill(store)
        ov = usage_overview(store, feature="a")
        fb = store.feedback()
        assert features(store) == ["a", "b"]
    mine = [r for r in rows if r["feature"] == "a"]
    assert ov["n"] == len(mine)
    assert ov["errors"] == sum(1 for r in mine if r["error"])
    lat = np.array([r["latency_ms"] for r in mine if r["latency_ms"] is not None])
    for q in (50, 95, 99):
        exact = float(np.percentile(lat, q))  # rollups: within REL_ERROR * (x + 1)
        assert abs(ov["latency_ms"][f"p{q}"] - exact) <= REL_ERROR * (exact + 1) * (1 + 1e-9)
    by_day: dict[tuple[str, str], int] = {}
    for r in mine:
        key = (r["ts"].date().isoformat(), r["version"])
        by_day[key] = by_day.get(key, 0) + 1
    assert {(d["day"], d["version"]): d["n"] for d in ov["by_day"]} == by_day
    assert sum(v["n"] for v in ov["versions"]) == len(mine)
    # several features: feedback is joined to its interaction's feature
    ids = {r["id"] for r in mine}
    judged = [f for f in fb if f["interaction_id"] in ids and f["accepted"] is not None]
    acc = sum(1 for f in judged if f["accepted"])
    assert ov["feedback"]["accepted"] == acc
    assert ov["feedback"]["acceptance_rate"] == pytest.approx(acc / len(judged))
    lo, hi = ov["feedback"]["ci95"]
    assert lo < acc / len(judged) < hi


def test_overview_of_everything_and_of_nothing(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 's.db'}") as store:
        empty = usage_overview(store)
        assert empty["n"] == 0 and empty["by_day"] == [] and empty["latency_ms"]["p50"] is None
        rows = _fill(store)
        everything = usage_overview(store)
        assert everything["n"] == len(rows)
        window = usage_overview(store, feature="a", since=T0 + timedelta(days=2),
                                until=T0 + timedelta(days=3))  # fmt: skip
    want = [r for r in rows if r["feature"] == "a"
            and T0 + timedelta(days=2) <= r["ts"] < T0 + timedelta(days=3)]  # fmt: skip
    assert window["n"] == len(want) > 0


@functools.cache
def _memory_store() -> Store:
    """One migrated in-memory store for every example (migrating costs ~0.2 s)."""
    import sqlalchemy as sa
    from sqlalchemy.pool import StaticPool

    engine = sa.create_engine("sqlite://", poolclass=StaticPool)
    return Store("sqlite:///:memory:", engine=engine)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.5, 1e5, allow_nan=False), min_size=1, max_size=60))
def test_percentiles_are_numpys(values: list[float]) -> None:
    """The headline latency figures (read with OFFSET windows) are numpy's percentiles, and
    their intervals are the order statistics the histogram-based quantile_metric picks."""
    store = _memory_store()
    feature = f"f{next(_COUNTER)}"
    store.add_interactions(
        [{"kind": "interaction", "id": f"{feature}-{i}", "ts": T0, "feature": feature,
          "input": "q", "latency_ms": v} for i, v in enumerate(values)]
    )  # fmt: skip
    got = usage_figures(store, feature=feature, exact=True).latency
    hist: dict[float, int] = {}
    for v in values:
        hist[v] = hist.get(v, 0) + 1
    for key, q in (("p50", 50), ("p95", 95), ("p99", 99)):
        assert got[key].value == pytest.approx(np.percentile(values, q), rel=1e-9, abs=1e-9)
        assert got[key].ci95 == quantile_metric(hist, q / 100).ci95, key
        assert got[key].n == len(values)


_COUNTER = itertools.count()


def test_dashboard_indexes_do_not_capture_session_lookups(tmp_path: Path) -> None:
    """Without ANALYZE statistics SQLite would pick any feature-led index for a session's
    ``MAX(version)`` (pilotgate.usage's funnel) and read the whole feature per session;
    the dashboard's indexes are partial so that only its own queries use them."""
    with Store(f"sqlite:///{tmp_path / 's.db'}") as store:
        _fill(store)
        with store.engine.connect() as conn:
            plan = conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT MAX(version) FROM interactions "
                "WHERE session_id = ? AND feature = ?",
                ("s1", "a"),
            ).all()
            detail = " ".join(str(r[-1]) for r in plan)
            assert "ix_interactions_session" in detail, detail
            # and the dashboard's own count reads only its index
            plan = conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT count(*) FROM interactions INDEXED BY "
                "ix_interactions_volume WHERE feature = ? AND version = ? AND ts IS NOT NULL "
                "AND ts >= ? AND ts < ?",
                ("a", "v1", "2025-03-03", "2025-03-04"),
            ).all()
            assert "COVERING INDEX ix_interactions_volume" in " ".join(str(r[-1]) for r in plan)
