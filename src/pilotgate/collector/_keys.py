"""Per-project API keys with scopes: created once, stored hashed, compared in constant time.

A key reads ``pg_<id>_<secret>``. The id (12 hex digits) finds the row; only
``sha256(salt + secret)`` with a random per-key salt is stored, so a copy of the store
does not reveal a usable key. The secret is shown once, by ``pilotgate keys create``.

A key belongs to one project and carries scopes (:data:`SCOPES`): ``ingest`` writes
interactions, feedback, steps and traces; ``read`` opens the dashboard and the JSON API;
``admin`` reviews eval sets (and will manage keys over HTTP); ``browser`` posts feedback
and steps only, from the page origins the key is bound to (it ships inside a web page,
so it is public: it can do nothing else).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from pilotgate.errors import InputError
from pilotgate.store import Store, tables

__all__ = [
    "SCOPES",
    "ApiKey",
    "authenticate",
    "create_key",
    "list_keys",
    "parse_origin",
    "revoke_key",
    "verify_key",
]

_KEY = re.compile(r"^pg_([0-9a-f]{12})_([A-Za-z0-9_\-]{20,100})$")
_PROJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_ORIGIN = re.compile(r"^(https?)://([a-z0-9.-]+|\[[0-9a-f:.]+\])(?::([0-9]{1,5}))?$")

SCOPES = ("ingest", "read", "admin", "browser")
"""What a key may do; see the module docstring."""
LEGACY_SCOPES = ("ingest", "read", "admin")
"""The scopes of keys made before scopes existed (migration 0007): what they could do."""


@dataclass(frozen=True)
class ApiKey:
    """A key's public facts (never its secret)."""

    id: str
    project: str
    name: str | None
    created_at: datetime
    revoked_at: datetime | None
    scopes: tuple[str, ...] = LEGACY_SCOPES
    origins: tuple[str, ...] = ()

    def allows(self, scope: str) -> bool:
        return scope in self.scopes

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "project": self.project,
            "name": self.name,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "scopes": list(self.scopes),
            "origins": list(self.origins),
        }


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(p for p in (text or "").split(",") if p)


def parse_origin(origin: str) -> str | None:
    """``origin`` in the form browsers send (``scheme://host[:port]``, lower case, default
    ports dropped), or None when it is not an http(s) origin."""
    m = _ORIGIN.match(origin.strip().lower().rstrip("/"))
    if m is None:
        return None
    scheme, host, port = m.groups()
    if port is not None:
        if int(port) > 65535:
            return None
        if int(port) == {"http": 80, "https": 443}[scheme]:
            port = None
    return f"{scheme}://{host}" + (f":{port}" if port else "")


def _check_scopes(
    scopes: Sequence[str], origins: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    bad = [s for s in scopes if s not in SCOPES]
    if bad or not scopes:
        raise InputError(
            f"unknown scope {bad[0]!r}" if bad else "a key needs at least one scope",
            fix=f"use --scope with one of {', '.join(SCOPES)}",
        )
    if "browser" in scopes and len(set(scopes)) > 1:
        raise InputError(
            "a browser key ships inside a web page: it cannot carry other scopes",
            fix="create a separate key with --scope browser",
        )
    clean = []
    for o in origins:
        p = parse_origin(o)
        if p is None:
            raise InputError(f"not a page origin: {o!r}", fix="--origin https://app.example.com")
        clean.append(p)
    if ("browser" in scopes) != bool(clean):
        raise InputError(
            "a browser key needs the page origins it may be used from (and only it takes them)",
            fix="--scope browser --origin https://app.example.com",
        )
    ordered = tuple(s for s in SCOPES if s in scopes)
    return ordered, tuple(dict.fromkeys(clean))


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode()).hexdigest()


def create_key(
    store: Store,
    project: str,
    *,
    name: str | None = None,
    scopes: Sequence[str] = ("ingest",),
    origins: Sequence[str] = (),
) -> tuple[str, ApiKey]:
    """Create a key for ``project``; returns the full key (shown once) and its record.

    Args:
        store: where the key's hash is kept.
        project: the project the key writes and reads (letters, digits, ``._-``).
        name: a label (who or what uses the key).
        scopes: what it may do (:data:`SCOPES`); ``ingest`` only by default, the scope
            an app's SDK needs and nothing more.
        origins: the page origins a ``browser`` key may be used from.
    """
    if not _PROJECT.match(project or ""):
        raise InputError(
            f"not a project name: {project!r}",
            fix="--project NAME: 1-100 letters, digits, '.', '_' or '-', starting alphanumeric",
        )
    scope_t, origin_t = _check_scopes(list(scopes), list(origins))
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    now = datetime.now(UTC)
    with store.engine.begin() as conn:
        conn.execute(
            tables.api_keys.insert().values(
                id=key_id,
                project=project,
                name=name,
                key_hash=f"sha256${salt}${_digest(salt, secret)}",
                created_at=now,
                scopes=",".join(scope_t),
                origins=",".join(origin_t) or None,
            )
        )
    return f"pg_{key_id}_{secret}", ApiKey(key_id, project, name, now, None, scope_t, origin_t)


def _row_key(row: Any) -> ApiKey:
    key_id, project, name, created, revoked, scopes, origins = row
    return ApiKey(key_id, project, name, created, revoked, _split(scopes), _split(origins))


def list_keys(
    store: Store, *, include_revoked: bool = True, key_id: str | None = None
) -> list[ApiKey]:
    """Keys in creation order (``key_id``: that one only)."""
    c = tables.api_keys.c
    q = select(c.id, c.project, c.name, c.created_at, c.revoked_at, c.scopes, c.origins)
    q = q.order_by(c.created_at, c.id)
    if key_id is not None:
        q = q.where(c.id == key_id)
    if not include_revoked:
        q = q.where(c.revoked_at.is_(None))
    with store.engine.connect() as conn:
        return [_row_key(row) for row in conn.execute(q)]


def revoke_key(store: Store, key_id: str) -> ApiKey:
    """Revoke a key by id (or by the full key); revoking twice keeps the first time."""
    m = _KEY.match(key_id)
    key_id = m.group(1) if m else key_id
    c = tables.api_keys.c
    with store.engine.begin() as conn:
        conn.execute(
            update(tables.api_keys)
            .where(c.id == key_id, c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
    for k in list_keys(store):
        if k.id == key_id:
            return k
    raise InputError(f"no API key with id {key_id!r}", fix="list them with `pilotgate keys list`")


def authenticate(store: Store, presented: str) -> ApiKey | None:
    """The record of a valid, unrevoked key; None otherwise (no reason given, on purpose)."""
    m = _KEY.match(presented)
    if m is None:
        return None
    key_id, secret = m.groups()
    c = tables.api_keys.c
    q = select(
        c.id, c.project, c.name, c.created_at, c.revoked_at, c.scopes, c.origins, c.key_hash
    ).where(c.id == key_id, c.revoked_at.is_(None))
    with store.engine.connect() as conn:
        row = conn.execute(q).first()
    if row is None:
        # spend the same work as a real check so timing does not tell ids apart
        hmac.compare_digest(_digest("00" * 16, secret), "0" * 64)
        return None
    stored = row[-1]
    try:
        _, salt, digest = stored.split("$")
    except ValueError:
        return None
    if not hmac.compare_digest(_digest(salt, secret), digest):
        return None
    return _row_key(row[:-1])


def verify_key(store: Store, presented: str) -> str | None:
    """The project of a valid, unrevoked key; None otherwise (see :func:`authenticate`)."""
    key = authenticate(store, presented)
    return None if key is None else key.project
