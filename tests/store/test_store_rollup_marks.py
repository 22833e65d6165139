"""SQLite's bulk insert marks the dirty hours once per batch (``marks_once``), not by the
row trigger: the same marks, the same rollups, and the trigger still there for every other
writer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pilotgate.errors import StoreError
from pilotgate.records import FeedbackRecord
from pilotgate.store import Store
from pilotgate.store.rollups import refresh_rollups

T0 = datetime(2026, 5, 1, 22, tzinfo=UTC)
ROLLUPS = ("rollup_interactions", "rollup_tokens", "rollup_rejections", "rollup_interactions_day")


def _rows(ids: range, feature: str) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{feature}-{k}",
            "ts": T0 + timedelta(minutes=17 * k),
            "feature": feature,
            "version": "v1" if k % 3 else "v2",
            "input": "q",
            "output": "a",
            "latency_ms": 10.0 * k,
            "error": "E" if k % 7 == 0 else None,
            "tokens_in": k,
            "tokens_out": 2 * k,
            "session_id": f"s{k % 4}",
        }  # fmt: skip
        for k in ids
    ]


def _table(store: Store, name: str) -> list[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        return sorted(tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {name}"))


def _trigger_sql(store: Store) -> str | None:
    with store.engine.connect() as conn:
        sql = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'trg_rollup_interactions_ins'"
        ).scalar()
    return None if sql is None else str(sql)


def _open(tmp_path: Path, name: str) -> Store:
    return Store(f"sqlite:///{tmp_path}/{name}.db")


def test_bulk_and_row_by_row_writes_leave_the_same_marks_and_rollups(tmp_path: Path) -> None:
    with _open(tmp_path, "bulk") as bulk, _open(tmp_path, "rows") as rows:
        trigger = _trigger_sql(bulk)
        assert trigger is not None and trigger == _trigger_sql(rows)
        batches = [_rows(range(0, 40), "a"), _rows(range(20, 90), "a") + _rows(range(5), "b")]
        news = []
        for batch in batches:
            news.append(bulk.add_interactions(batch))  # the executemany path
            for r in batch:  # one statement per row through the trigger (the upsert path)
                rows.add_interactions([r], upsert=True)
        assert news == [40, 55]  # the repeated ids are not new
        marks = _table(bulk, "rollup_dirty")
        assert marks == _table(rows, "rollup_dirty")
        assert {f for f, _h, _g in marks} == {"a", "b"} and len(marks) > 10
        assert _trigger_sql(bulk) == trigger  # back, as it was
        assert refresh_rollups(bulk) == refresh_rollups(rows) == len(marks)
        for name in ROLLUPS:
            assert _table(bulk, name) == _table(rows, name), name
        # a repeated batch marks nothing; a later single row goes through the trigger again
        assert bulk.add_interactions(batches[0]) == 0
        assert _table(bulk, "rollup_dirty") == []
        late = _rows(range(500, 501), "c")
        with bulk.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO interactions (id, ts, feature, version, input, output) "
                    "VALUES ('x', :ts, 'c', 'v1', 'q', 'a')"
                ),
                {"ts": late[0]["ts"].replace(tzinfo=None)},
            )
        assert [m[0] for m in _table(bulk, "rollup_dirty")] == ["c"]


def test_a_failed_bulk_write_keeps_the_trigger_and_marks_nothing(tmp_path: Path) -> None:
    with _open(tmp_path, "failed") as store:
        trigger = _trigger_sql(store)
        with pytest.raises(StoreError):
            store.add_interaction_rows([("only-an-id",)])  # not a row: the insert fails
        assert _trigger_sql(store) == trigger is not None
        assert _table(store, "rollup_dirty") == [] and store.count() == 0
        assert store.add_interactions(_rows(range(3), "a")) == 3
        assert len(_table(store, "rollup_dirty")) == 1


def test_another_connection_still_marks_through_the_trigger(tmp_path: Path) -> None:
    with _open(tmp_path, "shared") as bulk, _open(tmp_path, "shared") as other:
        other.add_interactions(_rows(range(1), "a"), upsert=True)  # prepared before the batch
        assert bulk.add_interactions(_rows(range(1, 3), "b")) == 2
        other.add_interactions(_rows(range(100, 101), "c"), upsert=True)
        features = sorted({m[0] for m in _table(other, "rollup_dirty")})
        assert features == ["a", "b", "c"]
        assert _trigger_sql(other) is not None


def _feedback(ids: range, feature: str) -> list[dict[str, Any]]:
    return [
        {
            "interaction_id": f"{feature}-{k}",
            "ts": T0 + timedelta(minutes=17 * k + 1),
            "accepted": k % 3 != 0,
            "dwell_ms": 100.0 * k,
            **({"id": f"fb-{feature}-{k % 5}", "edited_output": f"e{k}"} if k % 2 else {}),
        }
        for k in ids
    ]


def _feedback_triggers(store: Store) -> list[tuple[Any, ...]]:
    return _table(store, "sqlite_master WHERE name LIKE 'trg_rollup_feedback%'")


def test_feedback_upsert_marks_and_stores_as_the_row_triggers_do(tmp_path: Path) -> None:
    from pilotgate.store import _schema

    with _open(tmp_path, "bulk") as bulk, _open(tmp_path, "rows") as rows:
        triggers = _feedback_triggers(bulk)
        assert len(triggers) == 2 and triggers == _feedback_triggers(rows)
        for store in (bulk, rows):
            store.add_interactions(_rows(range(0, 60), "a") + _rows(range(5), "b"))
            refresh_rollups(store)  # no marks left: what follows marks only feedback's hours
        # repeated ids in a batch and across batches (the last copy wins), feedback of an
        # interaction that is not stored, and a batch that only updates
        batches = [
            _feedback(range(0, 30), "a")
            + _feedback(range(3), "b")
            + _feedback(range(900, 901), "z"),
            _feedback(range(20, 50), "a"),
            _feedback(range(20, 50), "a"),
        ]
        written = []
        for batch in batches:
            written.append(bulk.add_feedback(batch))  # one executemany, marks once
            fb = [FeedbackRecord.model_validate(r) for r in batch]
            rows_of = [bulk_row(r) for r in fb]
            rows._insert(_schema.feedback, rows_of, upsert=True)  # SQLAlchemy, row triggers
        assert written == [len(batches[0]), 30, 30]
        assert _table(bulk, "feedback") == _table(rows, "feedback")
        marks = _table(bulk, "rollup_dirty")
        assert marks == _table(rows, "rollup_dirty") and {m[0] for m in marks} == {"a", "b"}
        assert _feedback_triggers(bulk) == triggers  # back, as they were
        assert refresh_rollups(bulk) == refresh_rollups(rows) == len(marks)
        for name in ("rollup_feedback", "rollup_feedback_day", "rollup_rejections"):
            assert _table(bulk, name) == _table(rows, name), name


def bulk_row(rec: Any) -> dict[str, Any]:
    """A feedback row as ``Store.add_feedback`` builds it before writing."""
    from pilotgate._interaction_rows import derive_id
    from pilotgate.store._types import to_utc

    d = rec.model_dump(exclude={"kind"})
    d["ts"] = to_utc(d["ts"])
    if not d["id"]:
        d["id"] = derive_id("fb", rec.interaction_id, d["ts"].isoformat(), rec.accepted)
    d["project"] = "default"
    return dict(d)


def test_a_failed_feedback_upsert_keeps_the_triggers_and_writes_nothing(tmp_path: Path) -> None:
    with _open(tmp_path, "fbfail") as store:
        store.add_interactions(_rows(range(3), "a"))
        refresh_rollups(store)
        triggers = _feedback_triggers(store)
        bad = _feedback(range(2), "a")
        bad[1]["comment"] = "\ud800"  # a lone surrogate: SQLite cannot bind it
        with pytest.raises(UnicodeEncodeError):  # mid-batch, after the triggers were dropped
            store.add_feedback(bad)
        assert _feedback_triggers(store) == triggers
        assert _table(store, "feedback") == [] and _table(store, "rollup_dirty") == []
