"""A rollup refresh and a write that marks the same hours, at once on PostgreSQL (the
collector's upkeep in one worker, a batch arriving in another): neither waits for the other
in a cycle. The write trigger marks ``(feature, hour)`` rows in key order; the refresh must
clear its marks in that order too, or the two deadlock and PostgreSQL aborts one (a failed
refresh, or a batch answered "retry later" after a second's wait)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pilotgate.store import Store
from pilotgate.store.rollups import refresh_rollups

H1 = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
H2 = H1 + timedelta(hours=1)


def _insert(conn: sa.Connection, rid: str, ts: datetime) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO interactions (id, ts, feature, version, input) "
            "VALUES (:id, :ts, 'f', 'v1', 'q')"
        ),
        {"id": rid, "ts": ts},
    )


def _blocked_by(store: Store, pid: int) -> int:
    """How many backends wait for a lock that backend ``pid`` holds."""
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE :p = ANY(pg_blocking_pids(pid))"
                ),
                {"p": pid},
            ).scalar_one()
        )


def test_a_refresh_and_a_write_over_the_same_hours_do_not_deadlock(store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("row locks on the dirty marks: PostgreSQL (SQLite has one writer)")
    # the later hour marked first: the marks' table holds it before the earlier one
    with store.engine.begin() as conn:
        _insert(conn, "a2", H2)
    with store.engine.begin() as conn:
        _insert(conn, "a1", H1)
    with store.engine.connect() as conn:
        heap = [int(h) for h in conn.execute(sa.text("SELECT hour FROM rollup_dirty")).scalars()]
    assert heap == sorted(heap, reverse=True), "the precondition: marks stored out of order"

    writer = store.engine.connect()
    try:
        writer.execute(sa.text("SET lock_timeout = '20s'"))
        pid = int(writer.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
        _insert(writer, "b1", H1)  # marks H1: its row locked until this write commits

        failed: list[BaseException] = []

        def refresh() -> None:
            try:
                refresh_rollups(store)
            except BaseException as exc:  # the thread's outcome, checked below
                failed.append(exc)

        thread = threading.Thread(target=refresh)
        thread.start()
        deadline = time.monotonic() + 20
        # until the refresh is done, or waits for the writer (to clear H1's mark)
        while thread.is_alive() and _blocked_by(store, pid) == 0:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        _insert(writer, "b2", H2)  # marks H2, which the refresh must not hold meanwhile
        writer.commit()
        thread.join(30)
        assert not thread.is_alive()
        assert failed == []
    finally:
        writer.close()

    refresh_rollups(store)  # the marks the writer renewed meanwhile
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM rollup_dirty")).scalar_one() == 0
        per_hour = conn.execute(
            sa.text("SELECT hour, sum(n) FROM rollup_interactions GROUP BY hour ORDER BY hour")
        ).all()
    assert [int(n) for _h, n in per_hour] == [2, 2]
