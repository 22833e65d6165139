from __future__ import annotations

import pytest

from pilotgate.errors import StoreError
from pilotgate.store import Store, safe_url


def test_bad_url_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="unsupported database|not a store URL"):
        Store("mysql://nobody@127.0.0.1/x")


def test_unreachable_postgres_is_a_clear_error() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(StoreError, match="cannot open the store"):
        Store("postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=2")


def test_password_never_in_messages() -> None:
    assert "secret" not in safe_url("postgresql://u:secret@127.0.0.1/db")
    try:
        Store("postgresql://u:secret@127.0.0.1:1/db?connect_timeout=2")
    except StoreError as exc:
        assert "secret" not in str(exc)


def test_bare_path_means_sqlite(tmp_path: object) -> None:
    s = Store(f"{tmp_path}/x/y.db")
    assert s.dialect == "sqlite"
    s.close()
