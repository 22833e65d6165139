"""A large refresh on PostgreSQL runs whole days on two connections at once
(``store._rollups._refresh_parallel``): the same rollup rows as one transaction, the same
figures as the raw rows, and a failed unit leaves every mark for the next refresh."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from pilotgate.store import Store, _rollups
from pilotgate.store.rollups import refresh_rollups
from pilotgate.usage import usage_report

T0 = datetime(2026, 5, 1, 7, tzinfo=UTC)
DAYS = 12


def _data(
    seed: int, part: int, days: tuple[int, ...] = tuple(range(DAYS))
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Two features over ``days``, sessions that cross days and features, feedback on half
    (a third rejected); ``part`` 1 and 2 hold different ids."""
    rng = random.Random(seed * 10 + part)
    inter, fb = [], []
    for k in range(400):
        at = timedelta(days=rng.choice(days), seconds=rng.randrange(86400))
        ts = T0 + at + timedelta(microseconds=rng.randrange(10**6))
        iid = f"p{part}-{k}"
        inter.append({"id": iid, "ts": ts, "feature": rng.choice(["fa", "fb"]),
                      "version": rng.choice(["v1", "v2"]), "input": "q", "output": "a",
                      "latency_ms": rng.choice([None, rng.lognormvariate(6, 1)]),
                      "error": rng.choice([None, None, None, "Timeout"]),
                      "tokens_in": rng.randrange(100), "tokens_out": rng.randrange(100),
                      "session_id": rng.choice([None, f"s{rng.randrange(60)}"]),
                      "metadata": {"model": rng.choice(["small", "large"])}})  # fmt: skip
        if rng.random() < 0.5:
            fb.append({"interaction_id": iid, "ts": ts + timedelta(seconds=9),
                       "accepted": rng.random() < 0.66, "dwell_ms": rng.uniform(0, 9e4),
                       "edited_output": rng.choice([None, "better"])})  # fmt: skip
    return inter, fb


def _dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every rollup table's rows, sorted (floats rounded: sums of the same values)."""
    out = {}
    with store.engine.connect() as conn:
        for table in _rollups.ROLLUP_TABLES:
            rows = conn.execute(sa.text(f"SELECT * FROM {table}")).all()
            out[table] = sorted(
                tuple(round(v, 6) if isinstance(v, float) else v for v in r) for r in rows
            )
    return out


def _recompute_all_serially(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rollups rebuilt from nothing in one transaction (every hour marked again)."""
    with store.engine.begin() as conn:
        for table in _rollups.ROLLUP_TABLES:
            conn.execute(sa.text(f"DELETE FROM {table}"))
        conn.execute(sa.text("UPDATE interactions SET version = version"))  # marks every hour
    monkeypatch.setattr(_rollups, "WORKERS", 1)
    assert refresh_rollups(store) >= 24


@pytest.mark.parametrize("seed", [0, 1])
def test_a_parallel_refresh_equals_one_transaction(
    store: Store, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    if store.dialect != "postgresql":
        pytest.skip("the parallel refresh is PostgreSQL's (SQLite has one writer)")
    threads: list[str] = []
    recompute = _rollups._recompute

    def spy(*a: Any, **kw: Any) -> bool:
        threads.append(threading.current_thread().name)
        return recompute(*a, **kw)

    monkeypatch.setattr(_rollups, "_recompute", spy)
    monkeypatch.setattr(_rollups, "PARALLEL_HOURS", 24)  # three days are enough here
    inter, fb = _data(seed, 1)
    store.add_interactions(inter)
    store.add_feedback(fb)
    refresh_rollups(store)
    # the second import reaches into three of the days, each a unit of its own: rejections
    # of the other days are no longer last in their sessions, nor alone
    inter2, fb2 = _data(seed, 2, days=(1, 5, 9))
    store.add_interactions(inter2)
    store.add_feedback(fb2)
    threads.clear()
    hours = refresh_rollups(store)
    assert hours >= _rollups.PARALLEL_HOURS
    assert threads and all(t.startswith("pilotgate-rollups") for t in threads)
    assert len(threads) == len(_rollups._day_units(_marked_hours(inter2))) == 2 * 3
    parallel = _dump(store)
    assert parallel["rollup_rejections"] and parallel["rollup_abandon"]
    kw: dict[str, Any] = {"since": T0, "until": T0 + timedelta(days=DAYS + 1)}
    for feature in ("fa", "fb"):
        rolled = usage_report(store, feature=feature, **kw)
        exact = usage_report(store, feature=feature, exact=True, **kw)
        for name in ("usage.abandonment_rate", "usage.acceptance_rate", "usage.error_rate"):
            r, e = rolled.metric(name), exact.metric(name)
            assert (r.value, r.n) == (e.value, e.n), name
    _recompute_all_serially(store, monkeypatch)
    assert _dump(store) == parallel


def _marked_hours(rows: list[dict[str, Any]]) -> dict[str, list[int]]:
    by: dict[str, set[int]] = {}
    for r in rows:
        by.setdefault(r["feature"], set()).add(int(r["ts"].timestamp() // 3600))
    return {f: sorted(h) for f, h in by.items()}


def test_a_failed_unit_keeps_every_mark(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    if store.dialect != "postgresql":
        pytest.skip("the parallel refresh is PostgreSQL's (SQLite has one writer)")
    inter, fb = _data(7, 1)
    store.add_interactions(inter)
    store.add_feedback(fb)
    days = _rollups._recompute_days
    calls = []

    def flaky(conn: Any, feature: str, day_list: Any) -> None:
        calls.append(feature)
        if len(calls) == 3:
            raise RuntimeError("the database went away")
        days(conn, feature, day_list)

    monkeypatch.setattr(_rollups, "_recompute_days", flaky)
    with store.engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM rollup_dirty")).scalar()
    with pytest.raises(RuntimeError, match="went away"):
        refresh_rollups(store)
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM rollup_dirty")).scalar() == before
    monkeypatch.setattr(_rollups, "_recompute_days", days)
    assert refresh_rollups(store) == before
    got = _dump(store)
    _recompute_all_serially(store, monkeypatch)
    assert _dump(store) == got


def test_units_are_whole_days_each_in_one_unit() -> None:
    hours = {"a": [24 * d + h for d in (0, 1, 2, 3, 7, 8) for h in (0, 5, 23)], "b": [50]}
    units = _rollups._day_units(hours)
    days = [(f, h // 24) for f, unit in units for h in unit]
    assert sorted(set(days)) == sorted({(f, h // 24) for f, hs in hours.items() for h in hs})
    for _f, unit in units:
        assert unit == sorted(unit) and unit[-1] // 24 - unit[0] // 24 < _rollups._DAYS_PER_UNIT
    per_unit = [{(f, h // 24) for h in unit} for f, unit in units]
    assert sum(len(d) for d in per_unit) == len(set(days))  # no day in two units
    assert [len(u) for _f, u in units] == [9, 3, 6, 1]


def test_the_hour_of_an_instant_either_side_of_hour_boundaries(store: Store) -> None:
    """``hour_sql`` (PostgreSQL: a double-precision epoch) puts the last microsecond before
    an hour in the hour before, and the hour's first instant in it, from 1970 to 2200."""
    rows, want = [], {}
    for k, when in enumerate(
        [datetime(1970, 1, 1, 1, tzinfo=UTC), T0, datetime(2026, 12, 31, 23, tzinfo=UTC),
         datetime(2089, 6, 1, 5, tzinfo=UTC), datetime(2199, 12, 31, 23, tzinfo=UTC)]
    ):  # fmt: skip
        hour = int(when.timestamp()) // 3600
        for j, (delta, expect) in enumerate(
            [(timedelta(microseconds=-1), hour - 1), (timedelta(0), hour),
             (timedelta(microseconds=1), hour), (timedelta(minutes=59, seconds=59,
             microseconds=999_999), hour)]
        ):  # fmt: skip
            iid = f"b{k}-{j}"
            rows.append({"id": iid, "ts": when + delta, "feature": "f", "input": "q"})
            want[iid] = expect
    store.add_interactions(rows)
    with store.engine.connect() as conn:
        got: dict[str, Any] = dict(
            conn.execute(
                sa.text(f"SELECT id, {_rollups.hour_sql(store.dialect, 'ts')} FROM interactions")
            ).all()
        )
    assert {k: int(v) for k, v in got.items()} == want
