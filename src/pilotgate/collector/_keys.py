"""Per-project API keys: created once, stored hashed, compared in constant time.

A key reads ``pg_<id>_<secret>``. The id (12 hex digits) finds the row; only
``sha256(salt + secret)`` with a random per-key salt is stored, so a copy of the store
does not reveal a usable key. The secret is shown once, by ``pilotgate keys create``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from pilotgate.errors import InputError
from pilotgate.store import Store, tables

__all__ = ["ApiKey", "create_key", "list_keys", "revoke_key", "verify_key"]

_KEY = re.compile(r"^pg_([0-9a-f]{12})_([A-Za-z0-9_\-]{20,100})$")


@dataclass(frozen=True)
class ApiKey:
    """A key's public facts (never its secret)."""

    id: str
    project: str
    name: str | None
    created_at: datetime
    revoked_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "project": self.project,
            "name": self.name,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode()).hexdigest()


def create_key(store: Store, project: str, *, name: str | None = None) -> tuple[str, ApiKey]:
    """Create a key for ``project``; returns the full key (shown once) and its record."""
    if not project or len(project) > 200:
        raise InputError("a project name of 1–200 characters is needed", fix="--project NAME")
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
            )
        )
    return f"pg_{key_id}_{secret}", ApiKey(key_id, project, name, now, None)


def list_keys(store: Store, *, include_revoked: bool = True) -> list[ApiKey]:
    c = tables.api_keys.c
    q = select(c.id, c.project, c.name, c.created_at, c.revoked_at).order_by(c.created_at, c.id)
    if not include_revoked:
        q = q.where(c.revoked_at.is_(None))
    with store.engine.connect() as conn:
        return [ApiKey(*row) for row in conn.execute(q)]


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


def verify_key(store: Store, presented: str) -> str | None:
    """The project of a valid, unrevoked key; None otherwise (no reason given, on purpose)."""
    m = _KEY.match(presented)
    if m is None:
        return None
    key_id, secret = m.groups()
    c = tables.api_keys.c
    q = select(c.project, c.key_hash).where(c.id == key_id, c.revoked_at.is_(None))
    with store.engine.connect() as conn:
        row = conn.execute(q).first()
    if row is None:
        # spend the same work as a real check so timing does not tell ids apart
        hmac.compare_digest(_digest("00" * 16, secret), "0" * 64)
        return None
    project, stored = row
    try:
        _, salt, digest = stored.split("$")
    except ValueError:
        return None
    return str(project) if hmac.compare_digest(_digest(salt, secret), digest) else None
