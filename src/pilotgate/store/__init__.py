"""The result store: SQLAlchemy Core over SQLite (default, WAL) or PostgreSQL (psycopg 3).

Open one with :func:`open_store` (URL precedence: argument > ``PILOTGATE_STORE`` > plan >
``sqlite:///.pilotgate/pilotgate.db``). Schema changes are Alembic migrations, applied on open.
"""

from __future__ import annotations

from pilotgate.errors import StoreError
from pilotgate.store import _schema as tables
from pilotgate.store._engine import normalise_url, safe_url
from pilotgate.store._fast import insert_rows
from pilotgate.store._retention import PruneResult, prune
from pilotgate.store._store import IngestCounts, Store, derive_id

__all__ = [
    "IngestCounts",
    "PruneResult",
    "Store",
    "derive_id",
    "insert_rows",
    "normalise_url",
    "open_store",
    "prune",
    "require_existing",
    "safe_url",
    "tables",
]


def open_store(url: str | None = None, *, create: bool = True) -> Store:
    """Open (and migrate) the store at ``url`` or the configured default.

    With ``create=False`` (commands that only read) a SQLite file that does not exist is an
    error instead of a new empty store: a mistyped path would otherwise print zeros.
    """
    if url is None:
        from pilotgate.plan import resolve_settings

        url = resolve_settings().store
    if not create:
        require_existing(url)
    return Store(url)


def sqlite_path(url: str) -> str | None:
    """The file a SQLite URL names (None for PostgreSQL and in-memory databases)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite":
        return None
    db = parsed.database or ""
    return None if db in ("", ":memory:") or db.startswith("file:") else db


def require_existing(url: str) -> None:
    """Raise when ``url`` is a SQLite file that does not exist (nothing is created).

    Raises:
        StoreError: no file at the path (exit 2, with the fix).
    """
    import os

    path = sqlite_path(url)
    if path is not None and not os.path.exists(path):
        raise StoreError(
            f"no store at {os.path.abspath(path)} (nothing was created)",
            where=safe_url(url),
            fix="check the path (--store, PILOTGATE_STORE or the plan's [store] url); "
            "commands that record data (ingest, serve, eval run, load…) create the store",
        )
