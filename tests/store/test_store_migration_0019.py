"""Migration 0019 drops the unscoped percentile indexes and its downgrade recreates them
(SQLite and PostgreSQL); the exact figures are the same either way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from tests._migrate import migrate

from pilotgate.store import Store
from pilotgate.usage import usage_figures

DROPPED = {("interactions", "ix_interactions_feature_latency"), ("feedback", "ix_feedback_dwell")}
T0 = datetime(2026, 5, 1, tzinfo=UTC)


def _indexes(conn: Connection) -> set[tuple[str, str]]:
    insp = inspect(conn)
    return {
        (t, str(ix["name"])) for t in ("interactions", "feedback") for ix in insp.get_indexes(t)
    }


def test_0019_drops_and_downgrade_recreates(store_url: str) -> None:
    with Store(store_url) as store:
        store.add_interactions(
            [{"id": f"i{k}", "ts": T0 + timedelta(minutes=k), "feature": "f", "input": "q",
              "latency_ms": float(k * k % 97)} for k in range(50)]
        )  # fmt: skip
        store.add_feedback(
            [{"interaction_id": f"i{k}", "ts": T0, "accepted": k % 3 > 0, "dwell_ms": k * 7.0}
             for k in range(0, 50, 2)]
        )  # fmt: skip
        after = usage_figures(store, exact=True, feature="f")
        with store.engine.connect() as conn:
            assert not DROPPED & _indexes(conn)
        migrate(store, "0018")
        with store.engine.connect() as conn:
            assert DROPPED <= _indexes(conn)
        assert usage_figures(store, exact=True, feature="f") == after
        assert after.latency["p50"].value is not None and after.dwell_p50.n == 25
        migrate(store, "0019")
        with store.engine.connect() as conn:
            assert not DROPPED & _indexes(conn)
