"""Migration 0018: an interaction in the last half millisecond of an hour is marked, and
rolled up, in its own hour (SQLite's strftime rounded it into the next); a store made before
puts its rollups right on upgrade; the downgrade restores the old triggers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from tests._migrate import migrate

from pilotgate.store import Store, _rollups
from pilotgate.store.rollups import refresh_rollups
from pilotgate.usage import daily_counts, usage_figures

EDGE = datetime(2026, 5, 1, 9, 59, 59, 999_900, tzinfo=UTC)  # in hour 9, 0.1 ms before 10:00
HOUR = int(datetime(2026, 5, 1, 9, tzinfo=UTC).timestamp()) // 3600


def _hourly(store: Store) -> dict[int, int]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT hour, SUM(n) FROM rollup_interactions GROUP BY hour ORDER BY hour")
        ).all()
    return {int(h): int(n) for h, n in rows}


def _marks(store: Store) -> set[int]:
    with store.engine.connect() as conn:
        return {int(h) for (h,) in conn.execute(text("SELECT hour FROM rollup_dirty"))}


def test_the_last_instant_of_an_hour_is_marked_and_counted_in_it(store_url: str) -> None:
    with Store(store_url) as store:
        # one row through the row trigger (a collector's write), one through the bulk path
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM rollup_dirty"))
        store.add_interactions([{"id": "a", "ts": EDGE, "feature": "f", "input": "q"}])
        assert _marks(store) == {HOUR}
        store.add_interactions(
            [{"id": f"b{k}", "ts": EDGE, "feature": "f", "input": "q"} for k in range(3)]
        )
        assert _marks(store) == {HOUR}
        refresh_rollups(store)
        assert _hourly(store) == {HOUR: 4}
        until = datetime(2026, 5, 1, 10, tzinfo=UTC)  # whole hours: read from the rollups
        assert usage_figures(store, feature="f", until=until).n == 4
        assert usage_figures(store, feature="f", since=until).n == 0


def test_a_store_before_0018_is_put_right_on_upgrade(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(store_url) as store:
        migrate(store, "0017")
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM rollup_dirty"))
        rows = [{"id": "edge", "ts": EDGE, "feature": "f", "input": "q"}]
        rows += [{"id": f"n{k}", "ts": EDGE.replace(minute=k), "feature": "f", "input": "q"}
                 for k in range(3)]  # fmt: skip
        with store.engine.begin() as conn:  # the row trigger of 0013, one row at a time
            for r in rows:
                ts = r["ts"]
                assert isinstance(ts, datetime)
                conn.execute(
                    text("INSERT INTO interactions (id, ts, feature, version, input, project) "
                         "VALUES (:id, :ts, :feature, '', :input, 'default')"),
                    {**r, "ts": ts.strftime("%Y-%m-%d %H:%M:%S.%f")
                     if store.dialect == "sqlite" else ts},
                )  # fmt: skip
        with monkeypatch.context() as m:  # the refresh as it was before 0018
            old = "(CAST(strftime('%s', {c}) AS INTEGER) / 3600)"
            if store.dialect == "sqlite":
                m.setattr(_rollups, "hour_sql", lambda _d, c: old.format(c=c))
            refresh_rollups(store)
        before = _hourly(store)
        if store.dialect == "sqlite":  # the rounding: the edge row counted in hour 10
            assert before == {HOUR: 3, HOUR + 1: 1}
        else:
            assert before == {HOUR: 4}
        migrate(store, "0018")
        refresh_rollups(store)
        assert _hourly(store) == {HOUR: 4}
        days = daily_counts(store, "f", None, None)
        assert days is not None and sum(d["n"] for d in days) == 4
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0018"
