"""Opening a store that is already at the newest revision skips Alembic (no import, no
migration lock): the newest revision read from the migration files must be Alembic's, and a
store behind it must still be migrated (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from pilotgate.store import Store
from pilotgate.store._engine import MIGRATIONS, _head


def test_the_head_read_from_the_files_is_alembics() -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    heads = ScriptDirectory.from_config(cfg).get_heads()
    assert len(heads) == 1 and _head() == heads[0]


def test_a_store_at_head_opens_without_alembic(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrades: list[str] = []
    real = command.upgrade

    def counted(cfg: Any, revision: str, **kw: Any) -> None:
        upgrades.append(revision)
        real(cfg, revision, **kw)

    monkeypatch.setattr(command, "upgrade", counted)
    with Store(store_url) as store:  # new: migrated
        assert upgrades == ["head"]
        store.add_interactions([{"id": "a", "ts": "2025-05-01T10:00:00Z", "feature": "f",
                                 "input": "q", "output": "a"}])  # fmt: skip
    with Store(store_url) as store:  # at head: nothing to do, Alembic not asked
        assert upgrades == ["head"]
        assert [r["id"] for r in store.interactions()] == ["a"]
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with store.engine.begin() as conn:  # one revision behind: migrated again
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "-1")
            behind = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        assert behind != _head()
    with Store(store_url) as store:
        assert upgrades == ["head", "head"]
        with store.engine.connect() as conn:
            now = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        assert now == _head()
