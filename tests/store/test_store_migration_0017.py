"""Migration 0017 drops the two single-column project indexes of 0007 and its downgrade
recreates them (SQLite and PostgreSQL); the store's answers do not depend on them."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from tests._migrate import migrate

from pilotgate.store import Store

DROPPED = {("interactions", "ix_interactions_project"), ("feedback", "ix_feedback_project")}


def _indexes(conn: Connection) -> set[tuple[str, str]]:
    insp = inspect(conn)
    return {
        (table, str(ix["name"]))
        for table in ("interactions", "feedback")
        for ix in insp.get_indexes(table)
    }


def _where(conn: Connection, name: str) -> str:
    if conn.dialect.name == "sqlite":
        sql = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?"
    else:
        sql = (
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s AND schemaname = current_schema()"
        )
    text = str(conn.exec_driver_sql(sql, (name,)).scalar_one())
    return text.replace("::text", "").replace("(project)", "project")


def test_0017_drops_and_downgrade_recreates(store_url: str) -> None:
    with Store(store_url) as store:
        store.add_interactions(
            [{"id": "a", "ts": "2025-05-01T10:00:00Z", "feature": "f", "input": "q"}],
            project="p",
        )
        with store.engine.connect() as conn:
            assert not DROPPED & _indexes(conn)
        assert store.holds_only("p") and not store.holds_only("q")
        migrate(store, "0016")
        with store.engine.connect() as conn:
            assert DROPPED <= _indexes(conn)
            for _, name in DROPPED:  # as 0007 made them: partial on project <> ''
                assert "project <> ''" in _where(conn, name)
        assert store.holds_only("p") and not store.holds_only("q")
        migrate(store, "0017")
        with store.engine.connect() as conn:
            assert not DROPPED & _indexes(conn)
            assert (
                conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0017"
            )
