"""The result store: SQLAlchemy Core over SQLite (default, WAL) or PostgreSQL (psycopg 3).

Open one with :func:`open_store` (URL precedence: argument > ``PILOTGATE_STORE`` > plan >
``sqlite:///.pilotgate/pilotgate.db``). Schema changes are Alembic migrations, applied on open.
"""

from __future__ import annotations

from pilotgate.store import _schema as tables
from pilotgate.store._engine import normalise_url, safe_url
from pilotgate.store._retention import PruneResult, prune
from pilotgate.store._store import IngestCounts, Store, derive_id

__all__ = [
    "IngestCounts",
    "PruneResult",
    "Store",
    "derive_id",
    "normalise_url",
    "open_store",
    "prune",
    "safe_url",
    "tables",
]


def open_store(url: str | None = None) -> Store:
    """Open (and migrate) the store at ``url`` or the configured default."""
    if url is None:
        from pilotgate.plan import resolve_settings

        url = resolve_settings().store
    return Store(url)
