"""Who may write what: API keys and their scopes, browser origins, CORS, rate limits.

Every write route asks :class:`Access` for its :class:`Caller`: the project the records
belong to and the key (None on a ``--no-auth`` collector without a key). A ``browser``
key must come from one of its page origins and is rate-limited per client; the answers
to it carry the CORS headers that let the page read them. Preflights are answered for
origins that some live browser key is bound to, and for no other.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from pilotgate.collector._keys import ApiKey, authenticate, parse_origin
from pilotgate.store import Store, tables

__all__ = ["Access", "Caller", "RateLimiter", "foreign_references", "require_json"]

JSON_TYPES = frozenset(
    {"application/json", "application/x-ndjson", "application/jsonl", "application/x-jsonlines"}
)
PREFLIGHT_MAX_AGE_S = 600


@dataclass(frozen=True)
class Caller:
    """The project a request writes for, its key (None: no key, ``--no-auth``) and the
    page origin a browser key was used from."""

    project: str
    key: ApiKey | None
    origin: str | None = None

    @property
    def is_browser(self) -> bool:
        return self.key is not None and self.key.allows("browser")

    def cors(self) -> dict[str, str]:
        """Headers that let the page that sent the request read the answer."""
        if self.origin is None:
            return {}
        return {"Access-Control-Allow-Origin": self.origin, "Vary": "Origin"}


def require_json(request: Request, extra: Sequence[str] = ()) -> str:
    """The request's content type, when it is JSON or NDJSON (or one of ``extra``).

    A cross-site HTML form can only send ``text/plain``, urlencoded or multipart bodies,
    and no page can send another type to a server that does not answer its preflight: so
    refusing them closes cross-site writes even on a ``--no-auth`` collector.
    """
    raw = request.headers.get("content-type", "")
    ctype = raw.split(";")[0].strip().lower()
    if ctype in JSON_TYPES or ctype in extra:
        return raw
    allowed = ", ".join(sorted(JSON_TYPES | set(extra)))
    raise HTTPException(415, detail=f"content type {ctype or '(none)'!r} refused; send {allowed}")


class RateLimiter:
    """Token buckets per client: ``rate`` requests a second, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: int, *, max_clients: int = 100_000) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.max_clients = max_clients
        self._buckets: dict[Any, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client: Any) -> float:
        """0 when the request may go now, else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[client] = (tokens, now)
                return (1 - tokens) / self.rate
            if len(self._buckets) >= self.max_clients and client not in self._buckets:
                self._buckets.clear()  # a flood of clients: forget them all, stay bounded
            self._buckets[client] = (tokens - 1, now)
            return 0.0


class Access:
    """Authentication and authorisation of the collector's write routes."""

    def __init__(self, store: Store, *, require_key: bool, limiter: RateLimiter) -> None:
        self.store = store
        self.require_key = require_key
        self.limiter = limiter

    async def caller(self, request: Request, scopes: Iterable[str]) -> Caller:
        """The request's caller, when its key has one of ``scopes``.

        Raises:
            HTTPException: 401 without a valid key (where one is needed), 403 for a key
                without the scope or a browser key used from another origin, 429 when a
                browser client sends faster than its limit.
        """
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            if not self.require_key:
                return Caller(tables.DEFAULT_PROJECT, None)
            raise HTTPException(
                401, detail="missing API key", headers={"WWW-Authenticate": "Bearer"}
            )
        key = await run_in_threadpool(authenticate, self.store, token.strip())
        return self.check(request, key, scopes)

    def check(self, request: Request, key: ApiKey | None, scopes: Iterable[str]) -> Caller:
        """The caller of an authenticated ``key`` (see :meth:`caller`)."""
        if key is None:
            raise HTTPException(
                401, detail="invalid or revoked API key", headers={"WWW-Authenticate": "Bearer"}
            )
        wanted = tuple(scopes)
        if not any(key.allows(s) for s in wanted):
            raise HTTPException(
                403,
                detail=f"this key's scopes ({', '.join(key.scopes)}) do not include "
                f"{' or '.join(wanted)}; create one with `pilotgate keys create --scope`",
            )
        if not key.allows("browser"):
            return Caller(key.project, key)
        origin = parse_origin(request.headers.get("origin", ""))
        if origin is None or origin not in key.origins:
            raise HTTPException(403, detail="this browser key is not bound to this page origin")
        caller = Caller(key.project, key, origin)
        client = request.client.host if request.client else ""
        wait = self.limiter.take((key.id, client))
        if wait:
            headers = {**caller.cors(), "Retry-After": str(max(1, round(wait)))}
            raise HTTPException(429, detail="too many browser events", headers=headers)
        return caller

    def preflight_origin(self, request: Request) -> str | None:
        """The request's origin when a live browser key is bound to it."""
        origin = parse_origin(request.headers.get("origin", ""))
        if origin is None:
            return None
        c = tables.api_keys.c
        q = select(c.origins).where(
            c.revoked_at.is_(None), c.scopes.like("%browser%"), c.origins.like(f"%{origin}%")
        )
        with self.store.engine.connect() as conn:
            for (origins,) in conn.execute(q):
                if origin in (origins or "").split(","):
                    return origin
        return None

    def preflight_headers(self, origin: str) -> dict[str, str]:
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": "POST",
            "Access-Control-Allow-Headers": "authorization, content-type",
            "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_S),
            "Vary": "Origin",
        }


def foreign_references(store: Store, project: str, records: Sequence[dict[str, Any]]) -> set[int]:
    """Positions of feedback and steps that name an interaction their project does not have.

    Feedback names one by ``interaction_id``, a step may in ``metadata.interaction_id``.
    Interactions of the same batch count (they are stored first). Such records are
    refused: feedback (an edit becomes an eval reference) must never attach to another
    project's interaction, and refusing unknown ids the same way says nothing about
    whether another project has them.
    """
    own = {r["id"] for r in records if r["kind"] == "interaction"}
    refs: dict[str, list[int]] = {}
    for pos, rec in enumerate(records):
        if rec["kind"] == "feedback":
            iid = rec.get("interaction_id")
        elif rec["kind"] == "step":
            iid = (rec.get("metadata") or {}).get("interaction_id")
        else:
            continue
        if isinstance(iid, str) and iid not in own:
            refs.setdefault(iid, []).append(pos)
    if not refs:
        return set()
    c = tables.interactions.c
    ids = list(refs)
    found: set[str] = set()
    with store.engine.connect() as conn:
        for i in range(0, len(ids), 500):
            q = select(c.id).where(c.project == project, c.id.in_(ids[i : i + 500]))
            found.update(r[0] for r in conn.execute(q))
    return {pos for iid, where in refs.items() if iid not in found for pos in where}
