"""The store's fast write path: SQLite parameter builders per table, bulk pragmas, COPY rows.

The record-level pieces (the exact-subset validator, an interaction's SQLite row and COPY
line) are in :mod:`pilotgate._interaction_rows`, shared with ``pilotgate ingest``. On
SQLite the store turns records straight into DB-API parameter tuples
(:func:`~pilotgate._interaction_rows.sqlite_interaction_row`, :func:`row_maker`): no
SQLAlchemy per row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Table

from pilotgate._interaction_rows import (
    FEEDBACK_COLUMNS,
    INTERACTION_COLUMNS,
    json_text,
    sqlite_dt,
)
from pilotgate.store._types import UTCDateTime

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

__all__ = [
    "insert_rows",
    "pg_copy_row_maker",
    "row_maker",
    "tune_sqlite",
]


def _sqlite_json(v: Any) -> Any:
    return None if v is None else json_text(v)


def _sqlite_converter(typ: Any) -> Callable[[Any], Any] | None:
    if isinstance(typ, UTCDateTime):
        return sqlite_dt
    if isinstance(typ, JSON):
        return _sqlite_json
    return None


_ROW_MAKERS: dict[str, Callable[[Mapping[str, Any]], tuple[Any, ...]]] = {}


def row_maker(table: Table) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A function turning a row dict into the table's SQLite parameter tuple.

    Generated once per table from the schema's own column names: one flat tuple expression
    is ~3x faster than looping over the columns for every row.
    """
    maker = _ROW_MAKERS.get(table.name)
    if maker is None:
        env: dict[str, Any] = {}
        parts = []
        for i, col in enumerate(table.columns):
            conv = _sqlite_converter(col.type)
            if conv is None:
                parts.append(f"g({col.name!r})")
            else:
                env[f"f{i}"] = conv
                parts.append(f"f{i}(g({col.name!r}))")
        src = f"def make(r):\n    g = r.get\n    return ({', '.join(parts)},)\n"
        exec(src, env)  # column names come from our own schema
        maker = _ROW_MAKERS[table.name] = env["make"]
    return maker


def _check_columns() -> None:
    """The interactions columns, checked against the schema once at import.

    A column added to the schema but not to :func:`sqlite_interaction_row` would
    otherwise be silently left NULL by the fast path.
    """
    from pilotgate.store._schema import feedback, interactions

    if tuple(c.name for c in feedback.columns) != (*FEEDBACK_COLUMNS, "project"):
        raise RuntimeError(  # pragma: no cover - a schema change
            f"_interaction_rows.FEEDBACK_COLUMNS {FEEDBACK_COLUMNS} do not match the feedback "
            f"table {tuple(c.name for c in feedback.columns)}"
        )
    names = tuple(c.name for c in interactions.columns)
    # ``project`` is written by the store as a constant of the whole batch
    if (
        set(names) != {*INTERACTION_COLUMNS, "project"} or INTERACTION_COLUMNS[-1] != "ingested_at"
    ):  # pragma: no cover - a schema change
        raise RuntimeError(
            f"store/_fast.py INTERACTION_COLUMNS {INTERACTION_COLUMNS} "
            f"do not match the interactions table {names}"
        )


_check_columns()


def tune_sqlite(raw: Any, info: dict[Any, Any]) -> None:
    """Per-connection settings for bulk writes, applied once per DB-API connection.

    ``info`` lives as long as the pooled DB-API connection does.
    """
    if info.get("pilotgate_bulk"):
        return
    for pragma in _SQLITE_BULK_PRAGMAS:
        raw.execute(pragma)
    info["pilotgate_bulk"] = True


_SQLITE_BULK_PRAGMAS: tuple[str, ...] = (
    # a bigger page cache keeps the indexes' inner pages between batches (default 2 MB)
    "PRAGMA cache_size=-32768",
    # checkpoint (and fsync) the WAL every ~40 MB instead of every ~4 MB
    "PRAGMA wal_autocheckpoint=10000",
)


def pg_copy_row_maker(table: Table) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A function turning a row dict into the tuple ``COPY`` writes for ``table``'s columns.

    JSON columns become JSON text (``COPY`` takes text for ``json``); other values go to
    psycopg as they are (it adapts datetimes, numbers and strings).
    """
    names = [col.name for col in table.columns]
    json_cols = frozenset(col.name for col in table.columns if isinstance(col.type, JSON))

    def make(r: Mapping[str, Any]) -> tuple[Any, ...]:
        g = r.get
        return tuple(
            json_text(v) if n in json_cols and (v := g(n)) is not None else g(n) for n in names
        )

    return make


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Rows of new keys into ``table`` inside the caller's transaction: ``COPY`` on
    PostgreSQL, the driver's ``executemany`` on SQLite (several x SQLAlchemy's). A key
    already stored fails the transaction: callers delete first (a full rebuild)."""
    if not rows:
        return
    names = [c.name for c in table.columns]
    if conn.dialect.name == "postgresql":
        make = pg_copy_row_maker(table)
        raw = conn.connection.driver_connection
        assert raw is not None
        cols = ", ".join(f'"{n}"' for n in names)
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({cols}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(make(r))
        return
    make = row_maker(table)
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    conn.exec_driver_sql(sql, [make(r) for r in rows])
