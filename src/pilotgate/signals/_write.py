"""Writing a refresh: changed signal rows only, journeys merged, the daily rollup by deltas.

Why deltas: an incremental refresh recomputes a few thousand rows of a million. Writing
only the rows whose signals changed, and adding their difference to ``signal_daily``,
keeps both the refresh and the read (a few rollup rows) far under a second.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, text

from pilotgate.signals._compute import RETURN_GAP, Computed, Journey
from pilotgate.signals._figures import FLAGS
from pilotgate.signals._load import among, chunks
from pilotgate.signals._rules import Row
from pilotgate.store import insert_rows
from pilotgate.store import tables as t

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from pilotgate.store import Store

__all__ = ["Raced", "claim", "save_state", "signal_rows", "write_full", "write_refresh"]

_COMPARED = (
    "version",
    "day",
    "next_id",
    "answered",
    "accepted",
    "edited",
    "rephrased",
    "escalated",
    "abandoned",
    "copied",
    "followed_up",
    "outcome",
    "final",
    "off_purpose",
)


def _flag(v: bool | None) -> int | None:
    return None if v is None else int(v)


def _day(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%d")


def signal_rows(
    feature: str, rows: dict[str, Row], computed: Computed, off: dict[str, tuple[bool, float]]
) -> list[dict[str, Any]]:
    out = []
    for s in computed.signals:
        r = rows[s.id]
        o = off.get(s.id)
        out.append(
            {
                "interaction_id": s.id,
                "feature": feature,
                "version": r.version,
                "day": _day(r.ts),
                "ts": r.ts,
                "user_id": r.user_id,
                "session_id": r.session_id,
                "next_id": computed.next_ids.get(s.id),
                "answered": int(r.answered),
                "accepted": _flag(s.accepted),
                "edited": int(s.edited),
                "rephrased": _flag(s.rephrased),
                "escalated": _flag(s.escalated),
                "abandoned": _flag(s.abandoned),
                "copied": int(s.copied),
                "followed_up": _flag(s.followed_up),
                "outcome": s.outcome,
                "final": int(s.final),
                "off_purpose": None if o is None else int(o[0]),
                "novelty": None if o is None else o[1],
            }
        )
    return out


def _empty() -> dict[str, Any]:
    return {
        "n": 0,
        "answered": 0,
        "good": 0,
        "bad": 0,
        "copied": 0,
        "k": dict.fromkeys(FLAGS, 0),
        "t": dict.fromkeys(FLAGS, 0),
    }


def _add(into: dict[str, Any], row: dict[str, Any], sign: int) -> None:
    into["n"] += sign
    into["answered"] += sign * int(row["answered"] or 0)
    into["good"] += sign * int(row["outcome"] == "good")
    into["bad"] += sign * int(row["outcome"] == "bad")
    into["copied"] += sign * int(row["copied"] or 0)
    for f in FLAGS:
        v = row[f]
        if v is not None:
            into["t"][f] += sign
            into["k"][f] += sign * int(v)


def _rollup(rows: Iterable[dict[str, Any]], sign: int, into: dict[tuple[str, str], Any]) -> None:
    for r in rows:
        _add(into.setdefault((r["version"], r["day"]), _empty()), r, sign)


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = _empty()
    for k in ("n", "answered", "good", "bad", "copied"):
        out[k] = int(a.get(k, 0)) + int(b.get(k, 0))
    for f in FLAGS:
        out["k"][f] = int(a.get("k", {}).get(f, 0)) + int(b.get("k", {}).get(f, 0))
        out["t"][f] = int(a.get("t", {}).get(f, 0)) + int(b.get("t", {}).get(f, 0))
    return out


def _among(conn: Connection, col: Any, values: Sequence[Any]) -> Any:
    return among(col, values, conn.dialect.name)


def _old_rows(conn: Connection, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    sg = t.interaction_signals
    out = {}
    for part in chunks(list(ids)):
        for r in conn.execute(select(sg).where(_among(conn, sg.c.interaction_id, part))).mappings():
            out[r["interaction_id"]] = dict(r)
    return out


def _journeys(
    conn: Connection,
    feature: str,
    rows: dict[str, Row],
    fresh: list[Journey],
    old_ids: set[str],
    cutoff: datetime | None,
) -> list[dict[str, Any]]:
    """Journeys of the users in ``fresh``: recomputed when all their rows were loaded,
    else the stored journey (first interaction unchanged) extended with the new rows."""
    uj = t.user_journeys
    stored: dict[str, dict[str, Any]] = {}
    if cutoff is not None:
        for part in chunks([j.user_id for j in fresh]):
            q = select(uj).where(uj.c.feature == feature, _among(conn, uj.c.user_id, part))
            for m in conn.execute(q).mappings():
                stored[m["user_id"]] = dict(m)
    by_user: dict[str, list[Row]] = {}
    for row in rows.values():
        if row.user_id:
            by_user.setdefault(row.user_id, []).append(row)
    out = []
    for j in fresh:
        old = stored.get(j.user_id)
        if old is None or cutoff is None or old["first_ts"] >= cutoff:
            out.append(_jrow(feature, j.user_id, j.first_id, j.first_ts, j.first_version,
                             j.first_outcome, j.returned_ts, j.n, j.last_ts))  # fmt: skip
            continue
        items = sorted(by_user[j.user_id], key=lambda r: (r.ts, r.id))
        back = old["returned_ts"]
        if back is None:
            first_session = _first_session(conn, old["first_id"])
            for r in items:
                if r.ts <= _utc(old["first_ts"]):
                    continue
                if first_session and r.session_id:
                    if r.session_id != first_session:
                        back = r.ts
                        break
                elif r.ts - old["first_ts"] >= RETURN_GAP:
                    back = r.ts
                    break
        added = sum(1 for r in items if r.id not in old_ids)
        out.append(_jrow(feature, j.user_id, old["first_id"], old["first_ts"],
                         old["first_version"], old["first_outcome"], back, old["n"] + added,
                         max(old["last_ts"], items[-1].ts)))  # fmt: skip
    return out


def _utc(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _first_session(conn: Connection, first_id: str) -> str | None:
    c = t.interactions.c
    sid = conn.execute(select(c.session_id).where(c.id == first_id)).scalar()
    return str(sid) if sid else None


def _jrow(
    feature: str,
    uid: str,
    first_id: str,
    first_ts: datetime,
    version: str,
    outcome: str,
    back: datetime | None,
    n: int,
    last: datetime,
) -> dict[str, Any]:
    day = None if back is None else int((back - first_ts).total_seconds() // 86_400)
    return {
        "feature": feature,
        "user_id": uid,
        "first_id": first_id,
        "first_ts": first_ts,
        "first_day": _day(first_ts),
        "first_version": version,
        "first_outcome": outcome,
        "returned_ts": back,
        "return_day": day,
        "n": n,
        "last_ts": last,
    }


class Raced(Exception):
    """Another refresher saved the feature's signals after this one read their state: its
    work is discarded (the deltas would count twice) and the refresh starts over."""


def _lock_key(feature: str) -> int:
    """A signed 32-bit advisory lock key of the feature's signals (paired with the schema's:
    stores in two schemas of one database do not wait for each other)."""
    digest = hashlib.sha256(b"pilotgate-signals\0" + feature.encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


def claim(conn: Connection, feature: str, expect: Any) -> None:
    """Serialise the writers of one feature's signals, and check nobody saved since the
    state this refresh started from (its ``updated_at``; None: no state yet). SQLite takes
    its write lock up front; PostgreSQL a transaction-scoped advisory lock per feature.
    Raises :class:`Raced` when the state moved."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(current_schema()), :k)"),
            {"k": _lock_key(feature)},
        )
    s = t.signal_state.c
    now = conn.execute(select(s.updated_at).where(s.feature == feature)).scalar()
    if now != expect:
        raise Raced(feature)


def save_state(conn: Connection, feature: str, state: dict[str, Any]) -> None:
    """The refresh's marks (``state``: every ``signal_state`` column but the feature)."""
    s = t.signal_state
    conn.execute(delete(s).where(s.c.feature == feature))
    conn.execute(insert(s), [{"feature": feature, **state}])


def write_refresh(
    store: Store,
    feature: str,
    rows: dict[str, Row],
    new: list[dict[str, Any]],
    js: list[Journey],
    *,
    full: bool,
    cutoff: datetime | None,
    expect: Any,
    state: dict[str, Any],
) -> int:
    """Write one refresh and its state (``n`` set here) in a transaction that first checks
    the state it started from is still current (:func:`claim`); returns the signal rows
    that changed."""
    sg, uj, sd = t.interaction_signals, t.user_journeys, t.signal_daily
    with store.engine.begin() as conn:
        claim(conn, feature, expect)
        if full:
            for table in (sg, uj, sd):
                conn.execute(delete(table).where(table.c.feature == feature))
            old: dict[str, dict[str, Any]] = {}
            changed = new
        else:
            old = _old_rows(conn, [r["interaction_id"] for r in new])
            changed = [
                r
                for r in new
                if r["interaction_id"] not in old
                or any(old[r["interaction_id"]][k] != r[k] for k in _COMPARED)
            ]
        delta: dict[tuple[str, str], Any] = {}
        _rollup(changed, 1, delta)
        _rollup(
            (old[r["interaction_id"]] for r in changed if r["interaction_id"] in old), -1, delta
        )
        jrows = _journeys(conn, feature, rows, js, set(old), None if full else cutoff)
        for part in chunks([r["interaction_id"] for r in changed if r["interaction_id"] in old]):
            conn.execute(delete(sg).where(_among(conn, sg.c.interaction_id, part)))
        for k in range(0, len(changed), 5_000):
            conn.execute(insert(sg), changed[k : k + 5_000])
        for part in chunks([j["user_id"] for j in jrows]):
            conn.execute(
                delete(uj).where(uj.c.feature == feature, _among(conn, uj.c.user_id, part))
            )
        for k in range(0, len(jrows), 5_000):
            conn.execute(insert(uj), jrows[k : k + 5_000])
        _apply_daily(conn, feature, delta)
        save_state(conn, feature, {**state, "n": len(changed)})
    if full:
        analyse_after_build(store)
    return len(changed)


def _apply_daily(conn: Connection, feature: str, delta: dict[tuple[str, str], Any]) -> None:
    sd = t.signal_daily
    if not delta:
        return
    days = sorted({d for _, d in delta})
    current = {}
    for part in chunks(days):
        q = select(sd).where(sd.c.feature == feature, _among(conn, sd.c.day, part))
        for r in conn.execute(q).mappings():
            current[(r["version"], r["day"])] = r["counts"]
    for (v, d), diff in delta.items():
        merged = _merge(current.get((v, d), {}), diff)
        conn.execute(delete(sd).where(sd.c.feature == feature, sd.c.version == v, sd.c.day == d))
        if merged["n"] > 0:
            conn.execute(
                insert(sd), [{"feature": feature, "version": v, "day": d, "counts": merged}]
            )


def write_full(
    store: Store,
    feature: str,
    chunks: Callable[[Connection], Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]],
    *,
    expect: Any,
    state: dict[str, Any],
) -> tuple[int, int]:
    """Write a full build chunk by chunk in one transaction (checked as
    :func:`write_refresh`'s): ``chunks(conn)`` yields each chunk's signal rows and
    journey rows; the daily rollup is summed across them. ``state`` is read after the
    last chunk (the build may settle its threshold as it goes). Returns (rows, users)."""
    sg, uj, sd = t.interaction_signals, t.user_journeys, t.signal_daily
    n = users = 0
    with store.engine.begin() as conn:
        claim(conn, feature, expect)
        for table in (sg, uj, sd):
            conn.execute(delete(table).where(table.c.feature == feature))
        delta: dict[tuple[str, str], Any] = {}
        for new, jrows in chunks(conn):
            _rollup(new, 1, delta)
            insert_rows(conn, sg, new)
            insert_rows(conn, uj, jrows)
            n, users = n + len(new), users + len(jrows)
        _apply_daily(conn, feature, delta)
        save_state(conn, feature, {**state, "n": n})
    analyse_after_build(store)
    return n, users


def analyse_after_build(store: Store) -> None:
    """PostgreSQL: fresh planner statistics for the signal tables after a full build.

    Autovacuum gets there a minute or so later; until then the planner took the tables
    for the empty ones they were, and read a refresh's ``user_id = ANY(...)`` lookups of
    ``user_journeys`` as a scan of the feature filtered by the whole array (a string
    compare per row and id: 1.2 s of a 3 s refresh at 10M interactions)."""
    if store.dialect != "postgresql":
        return
    with store.engine.begin() as conn:
        for table in (t.interaction_signals, t.user_journeys, t.signal_daily):
            conn.exec_driver_sql(f"ANALYZE {table.name}")
