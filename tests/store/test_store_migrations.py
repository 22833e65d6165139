"""The Alembic migrations and the SQLAlchemy schema describe the same database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from pilotgate.store import Store
from pilotgate.store._schema import metadata


def test_migrated_database_matches_the_schema(store_url: str) -> None:
    store = Store(store_url)
    try:
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        store.close()
    assert diff == [], "schema and migrations disagree: write a migration for the change"
