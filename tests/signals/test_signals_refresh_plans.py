"""The signals' incremental refresh seeks the index of each lookup's selective term on SQLite.

Every statement an incremental refresh runs on ``interactions``, ``feedback`` or ``steps``
is captured and explained (``EXPLAIN QUERY PLAN``) on the store itself, without
statistics (an import runs ``ANALYZE`` on PostgreSQL only). SQLite's planner used to
take the ``(feature, ts)`` index for the new rows (``ingested_at > hwm``), the late
feedback (``feedback.ts >= ?``) and the per-user and per-session reads, i.e. read the
whole feature on every refresh (~3.7 s of CPU at 1M interactions for 500 fresh ones).
Each must now search the index of its own term, and none may scan these tables (the
late steps walked the whole ``(session_id, ts)`` index for its order rather than search
``ix_steps_ts``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

import pilotgate.signals._load as load_mod
import pilotgate.signals._refresh as refresh_mod
from pilotgate.signals import freshness, refresh_signals
from pilotgate.store import Store

T0 = datetime(2025, 3, 3, 9, tzinfo=UTC)
USERS = 60
PER_USER = 40

#: statement pattern -> the index its plan must search
EXPECTED = {
    r"interactions\.ingested_at >": "ix_interactions_ingested",
    r"FROM feedback JOIN interactions": "ix_feedback_ts_accepted",
    r"interactions\.user_id IN": "ix_interactions_user_ts",
    r"interactions\.session_id IN": "ix_interactions_session",
    r"FROM steps\s+WHERE steps\.ts >=": "ix_steps_ts",
}


def _row(i: int, ts: datetime, *, user: bool = True, prefix: str = "") -> dict[str, Any]:
    u = i % USERS
    return {
        "id": f"{prefix}i{i}",
        "ts": ts.isoformat(),
        "feature": "f",
        "version": "v1",
        "session_id": f"{prefix}s{i // 4}" if user else f"{prefix}anon{i // 4}",
        "user_id": f"u{u}" if user else None,
        "input": f"question {i % 7}",
        "output": "answer",
    }


def _store(path: Path) -> Store:
    store = Store(f"sqlite:///{path}")
    n = USERS * PER_USER
    rows = [_row(i, T0 + timedelta(minutes=i), user=i % 10 != 0) for i in range(n)]
    store.add_interactions(rows)
    store.add_feedback(
        {"interaction_id": f"i{i}", "ts": (T0 + timedelta(minutes=i, seconds=20)).isoformat(),
         "accepted": i % 3 != 0}
        for i in range(0, n, 5)
    )  # fmt: skip
    refresh_signals(store, "f")
    end = T0 + timedelta(minutes=n)
    # fresh rows (users and user-less sessions), feedback and steps after the data's end
    store.add_interactions(
        [_row(n + k, end + timedelta(seconds=k), user=k % 5 != 0, prefix="new") for k in range(40)]
    )
    store.add_feedback(
        [{"interaction_id": f"i{n - 1}", "ts": (end + timedelta(seconds=5)).isoformat(),
          "accepted": False}]
    )  # fmt: skip
    store.add_steps(
        [{"session_id": f"s{(n - 2) // 4}", "name": "copy",
          "ts": (end + timedelta(seconds=7)).isoformat()}]
    )  # fmt: skip
    return store


def _plans(store: Store) -> list[tuple[str, str]]:
    """Each statement of a refresh and of ``freshness`` on interactions, feedback or steps,
    and its query plan."""
    seen: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().startswith("SELECT") and re.search(
            r"\bFROM (interactions|feedback|steps)\b", statement
        ):
            seen.append((statement, params))

    event.listen(store.engine, "before_cursor_execute", grab)
    try:
        stats = refresh_signals(store, "f")
        assert freshness(store, "f").behind == 0  # usage's count of what is not in them
    finally:
        event.remove(store.engine, "before_cursor_execute", grab)
    assert not stats.full and stats.rows > 0, stats
    out = []
    with store.engine.connect() as conn:
        for statement, params in seen:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
            out.append((statement, " | ".join(str(r[-1]) for r in plan)))
    return out


def _check(plans: list[tuple[str, str]]) -> None:
    found = set()
    for statement, plan in plans:
        assert not re.search(r"\bSCAN (interactions|feedback|steps)\b", plan), (statement, plan)
        if "max(interactions.ts)" not in statement:  # the data's end: the feature's last ts
            assert "ix_interactions_feature_ts" not in plan, (statement, plan)
        for pattern, index in EXPECTED.items():
            if re.search(pattern, statement):
                found.add(pattern)
                assert re.search(rf"SEARCH \w+ USING (COVERING )?INDEX {index}\b", plan), (
                    statement,
                    plan,
                )
    assert found == set(EXPECTED), found  # every lookup was issued and checked


def test_incremental_refresh_searches_each_lookups_own_index(tmp_path: Path) -> None:
    with _store(tmp_path / "s.db") as store:
        _check(_plans(store))


def test_the_check_fails_with_the_feature_term_indexable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old statements (feature term left indexable) fail the check: it can fail."""
    same: Callable[[Any, str], Any] = lambda col, dialect: col  # noqa: E731
    monkeypatch.setattr(load_mod, "unindexed", same)
    monkeypatch.setattr(refresh_mod, "unindexed", same)
    with _store(tmp_path / "s.db") as store:
        plans = _plans(store)
    with pytest.raises(AssertionError):
        _check(plans)


def test_examples_are_read_only_for_flags_with_hits(tmp_path: Path) -> None:
    """With no window, a flag the daily counts put at 0 has no examples: its query (a walk of
    every signal row in search of one on SQLite) is not run; a flag with hits still is."""
    from pilotgate.signals import silent_users
    from pilotgate.signals._figures import read_examples

    with _store(tmp_path / "s.db") as store:
        late = T0 + timedelta(days=30)
        asked = [
            (late, "how do I close account number 7"),
            (late + timedelta(seconds=20), "how do I close account number 7 ??"),
        ]
        store.add_interactions(
            [{"id": f"r{k}", "ts": ts.isoformat(), "feature": "f", "version": "v1",
              "session_id": "rs", "user_id": "ru", "input": q, "output": "ok"}
             for k, (ts, q) in enumerate(asked)]
        )  # fmt: skip
        refresh_signals(store, "f")
        run: list[str] = []

        def grab(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            m = re.search(r"AND s\.(\w+) = 1", statement)
            if m:
                run.append(m.group(1))

        event.listen(store.engine, "before_cursor_execute", grab)
        try:
            got = silent_users(store, "f", refresh=False)
        finally:
            event.remove(store.engine, "before_cursor_execute", grab)
        for flag, examples in (("rephrased", got.rephrases), ("escalated", got.escalations)):
            assert (flag in run) == (got.overall.k[flag] > 0), (flag, run)
            assert examples == read_examples(store, "f", flag)
        assert got.overall.k["rephrased"] > 0 and got.overall.k["escalated"] == 0, got.overall.k
