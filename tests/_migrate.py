"""Move an open store's schema to a migration revision (the tests of single migrations)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from pilotgate.store import Store
from pilotgate.store._engine import MIGRATIONS


def migrate(store: Store, revision: str) -> None:
    """Upgrade or downgrade ``store`` to ``revision``, in one transaction."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        current = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        if current is not None and str(current) > revision:
            command.downgrade(cfg, revision)
        else:
            command.upgrade(cfg, revision)
