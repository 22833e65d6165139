from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.pool import QueuePool

from pilotgate.errors import StoreError
from pilotgate.store import Store, safe_url
from pilotgate.store._engine import make_engine


def test_bad_url_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="unsupported database|not a store URL"):
        Store("mysql://nobody@127.0.0.1/x")


def test_unreachable_postgres_is_a_clear_error() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(StoreError, match="cannot open the store"):
        Store("postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=2")


def test_password_never_in_messages() -> None:
    assert "secret" not in safe_url("postgresql://u:secret@127.0.0.1/db")
    with pytest.raises(StoreError) as info:
        Store("postgresql://u:secret@127.0.0.1:1/db?connect_timeout=2")
    assert "secret" not in str(info.value)


@pytest.mark.parametrize(
    "url", ["postgresql://u:secret@127.0.0.1:notaport/db", "://u:secret@127.0.0.1/db"]
)
def test_unparseable_url_is_a_store_error_without_the_password(url: str) -> None:
    assert "secret" not in safe_url(url) and "127.0.0.1" in safe_url(url)
    with pytest.raises(StoreError, match="not a store URL") as info:
        Store(url)
    assert "secret" not in str(info.value)


def test_bare_path_means_sqlite(tmp_path: object) -> None:
    s = Store(f"{tmp_path}/x/y.db")
    assert s.dialect == "sqlite"
    s.close()


def test_a_store_from_a_newer_version_is_a_store_error_and_frees_its_engine(
    tmp_path: Path,
) -> None:
    path = tmp_path / "newer.db"
    Store(str(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    conn.close()
    engine = make_engine(str(path))
    with pytest.raises(StoreError, match="cannot migrate the store"):
        Store(str(path), engine=engine)
    assert isinstance(engine.pool, QueuePool)
    assert engine.pool.checkedin() == 0  # disposed: no connection left open behind the error
