"""Opening a store URL: SQLite (WAL) by default, PostgreSQL via psycopg 3; migrations."""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from pilotgate.errors import MissingDependencyError, StoreError

__all__ = ["make_engine", "migrate", "normalise_url", "safe_url"]

MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and bare file paths."""
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


_USERINFO_PASSWORD = re.compile(r"(://[^:/@]*:)[^@/]*@")


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages and logs.

    A URL that does not parse (say, a port that is not a number) still has its password
    masked by pattern, so the message can show the user what they typed.
    """
    try:
        return make_url(normalise_url(url)).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return _USERINFO_PASSWORD.sub(r"\1***@", url)


def make_engine(url: str, **kwargs: Any) -> Engine:
    full = normalise_url(url)
    try:
        parsed = make_url(full)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise StoreError(
            "not a store URL",
            where=safe_url(url),
            fix="use sqlite:///path/to.db or postgresql://user@host:5432/db",
        ) from None
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:" and not db.startswith("file:"):
            Path(db).parent.mkdir(parents=True, exist_ok=True)
            _create_private(db)
        engine = create_engine(full, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise MissingDependencyError("psycopg", "postgres", "A PostgreSQL store") from None
        engine = create_engine(full, pool_pre_ping=True, **kwargs)
        event.listen(engine, "connect", _postgresql_session)
        return engine
    raise StoreError(
        f"unsupported database {parsed.get_backend_name()!r}",
        where=safe_url(url),
        fix="use SQLite or PostgreSQL",
    )


def _create_private(path: str) -> None:
    """Create a new SQLite file as 0600 (it holds production text); SQLite gives its WAL and
    shared-memory files the same mode. An existing file is left as its owner set it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    except FileExistsError:
        return
    except OSError:
        return  # SQLite reports what is wrong with the path when it opens it
    os.close(fd)


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _postgresql_session(dbapi_conn: Any, _record: Any) -> None:
    """No JIT: our reads are short index and rollup queries, which PostgreSQL's cost model
    would JIT-compile for longer (~1 s) than they run."""
    with dbapi_conn.cursor() as cur:
        cur.execute("SET jit = off")
    dbapi_conn.commit()


_REVISION = re.compile(
    r"^(down_revision|revision)(?:[ \t]*:[^=\n]*)?[ \t]*=[ \t]*(?:\"([0-9A-Za-z_]+)\"|None)[ \t]*$",
    re.M,
)


@functools.cache
def _head() -> str | None:
    """The newest revision, read from the migration files without Alembic: the one no other
    revises (None when that is not a single one, e.g. two branches: let Alembic decide)."""
    revs: set[str] = set()
    downs: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict(_REVISION.findall(path.read_text(encoding="utf-8")))
        if not found.get("revision"):
            return None
        revs.add(found["revision"])
        if found.get("down_revision"):
            downs.add(found["down_revision"])
    heads = revs - downs
    return next(iter(heads)) if len(heads) == 1 else None


def _at_head(engine: Engine) -> bool:
    """True when the store's recorded revision is already the newest: most opens (every CLI
    read) then skip importing Alembic and taking the migration lock."""
    head = _head()
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            got = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    except SQLAlchemyError:  # no table yet (a new store), or it cannot be read: migrate
        return False
    return [str(r[0]) for r in got] == [head]


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    if _at_head(engine):
        return
    from alembic import command
    from alembic.config import Config
    from alembic.util import CommandError

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as conn:
            _lock_for_migration(conn)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except OperationalError as exc:
        raise StoreError(
            f"cannot open the store: {exc.orig}",
            where=safe_url(str(engine.url)),
            fix="check the URL, that the database server is running, and permissions",
        ) from None
    except SQLAlchemyError as exc:
        raise StoreError(
            f"migration failed: {exc}", where=safe_url(str(engine.url)), fix="see --verbose"
        ) from None
    except CommandError as exc:  # e.g. a revision this version does not know: a newer store
        raise StoreError(
            f"cannot migrate the store: {exc}",
            where=safe_url(str(engine.url)),
            fix="open it with the pilotgate version that wrote it, or a newer one",
        ) from None


_MIGRATION_LOCK_ID = 0x70696C6F  # "pilo": one advisory-lock key for every pilotgate store


def _lock_for_migration(conn: Any) -> None:
    """Serialise migrations across processes opening the same store at once.

    Several workers forked from one parent (or several collectors) open a new store together;
    without a lock each sees an empty schema and all but one fail on "table already exists"
    (or SQLite's "database is locked" when two read transactions race to write). SQLite takes
    its write lock up front (``BEGIN IMMEDIATE``, waiting up to the busy timeout);
    PostgreSQL a transaction-scoped advisory lock. The second opener then finds the schema at
    head and does nothing.
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})")
