"""Migration 0007 on a store written before projects: records keep their project, keys keep
what they could do (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from pilotgate.collector import list_keys
from pilotgate.store import Store
from pilotgate.store._engine import MIGRATIONS, make_engine


def _old_store(url: str) -> None:
    """A store at revision 0004 with a keyed record, a key-less one, feedback, a step, a key."""
    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    now = datetime(2025, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
        ins = text(
            "INSERT INTO interactions (id, ts, feature, version, input, metadata) "
            "VALUES (:id, :ts, 'f', 'v1', 'q', :md)"
        )
        conn.execute(ins, {"id": "keyed", "ts": now, "md": json.dumps({"project": "acme"})})
        conn.execute(ins, {"id": "local", "ts": now, "md": None})
        conn.execute(ins, {"id": "odd", "ts": now, "md": json.dumps({"project": 7})})
        conn.execute(
            text("INSERT INTO feedback (id, interaction_id, ts, accepted) "
                 "VALUES ('fb', 'keyed', :ts, true)"),
            {"ts": now},
        )  # fmt: skip
        conn.execute(
            text("INSERT INTO steps (id, session_id, ts, name, metadata) "
                 "VALUES ('st', 's', :ts, 'opened', :md)"),
            {"ts": now, "md": json.dumps({"project": "acme"})},
        )  # fmt: skip
        conn.execute(
            text("INSERT INTO api_keys (id, project, name, key_hash, created_at) "
                 "VALUES ('abc', 'acme', 'old', 'sha256$00$00', :ts)"),
            {"ts": now},
        )  # fmt: skip
    engine.dispose()


def test_existing_records_and_keys_migrate_to_their_project(store_url: str) -> None:
    _old_store(store_url)
    with Store(store_url) as store:
        projects = {r["id"]: r["project"] for r in store.interactions()}
        assert projects == {"keyed": "acme", "local": "default", "odd": "default"}
        assert [f["project"] for f in store.feedback()] == ["acme"]
        assert [s["project"] for s in store.steps()] == ["acme"]
        (key,) = list_keys(store)
        assert (key.project, key.scopes, key.origins) == ("acme", ("ingest", "read", "admin"), ())
        # and the same id can now be stored again in another project
        rec = {"id": "keyed", "ts": "2025-01-02T00:00:00Z", "feature": "f", "input": "other"}
        assert store.add_interactions([rec], project="bravo") == 1
        assert store.add_interactions([rec], project="acme") == 0
        assert store.scoped("acme").count() == 1 and store.scoped("bravo").count() == 1
