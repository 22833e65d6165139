"""Shared fixtures: stores on both backends, free loopback ports."""

from __future__ import annotations

import os
import secrets
import socket
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pilotgate.store import Store

PG_ENV = "PILOTGATE_TEST_POSTGRES_URL"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get(PG_ENV)
    if url:
        return f"store backends: sqlite + postgresql ({PG_ENV} set)"
    return (
        f"store backends: sqlite ONLY — {PG_ENV} is not set, PostgreSQL store tests will be "
        "SKIPPED (set it, as .ci/run does, to run them)"
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store URL on each backend (PostgreSQL in a throwaway schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/store.db"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL store tests skipped: {PG_ENV} is not set")
    import sqlalchemy as sa

    from pilotgate.store import normalise_url

    schema = f"pgtest_{secrets.token_hex(4)}"
    admin = sa.create_engine(normalise_url(base))
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    from pilotgate.store import Store

    with warnings.catch_warnings():
        s = Store(store_url)
    yield s
    s.close()


@pytest.fixture(autouse=True)
def _isolated_default_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Commands that record runs write to a throwaway store, never to ./.pilotgate."""
    if "PILOTGATE_STORE" not in os.environ:
        path = tmp_path_factory.mktemp("default-store") / "pilotgate.db"
        monkeypatch.setenv("PILOTGATE_STORE", f"sqlite:///{path}")
