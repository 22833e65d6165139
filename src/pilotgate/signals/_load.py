"""Reading what the rules need from the store: rows, feedback and steps, in batches."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import any_, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement

from pilotgate.records import input_text
from pilotgate.signals._rules import Feedback, Row, Step
from pilotgate.store import tables as t

if TYPE_CHECKING:
    from pilotgate.store import Store

__all__ = [
    "among",
    "load_feedback",
    "load_outputs",
    "load_rows",
    "load_steps",
    "row_text",
    "unindexed",
]

_BATCH = 500
_COLS = (
    "id",
    "ts",
    "version",
    "session_id",
    "user_id",
    "input",
    "input_messages",
    "output",
    "latency_ms",
    "error",
)


def chunks(items: Sequence[str], n: int = _BATCH) -> Iterator[list[str]]:
    for i in range(0, len(items), n):
        yield list(items[i : i + n])


def among(col: Any, values: Sequence[Any], dialect: str) -> ColumnElement[bool]:
    """``col IN values``; on PostgreSQL ``col = ANY(:array)``, one parameter instead of one
    per value (which SQLAlchemy renders and the driver parses again for every batch)."""
    cond: ColumnElement[bool]
    if dialect == "postgresql":
        cond = col == any_(bindparam(None, list(values), type_=ARRAY(col.type)))
    else:
        cond = col.in_(values)
    return cond


def unindexed(col: Any, dialect: str) -> Any:
    """``col`` kept off indexes on SQLite (unary ``+``), so the planner seeks the index of
    the statement's selective term (user, session, ingest time, feedback time) instead of
    the ``(feature, ts)`` index, whose ``feature = ?`` reads the whole feature per refresh.
    PostgreSQL costs the plans itself: the column as is."""
    if dialect != "sqlite":
        return col
    return literal_column(f"+{col.table.name}.{col.name}", type_=col.type)


def row_text(r: Any) -> str:
    """The request text of a result row with ``input`` and ``input_messages``."""
    msgs = r.input_messages
    if msgs:
        value = msgs if isinstance(msgs, list) else json.loads(msgs)
        return input_text(value)
    return str(r.input or "")


def _row(r: Any) -> Row:
    text = row_text(r)
    return Row(
        id=r.id,
        ts=r.ts,
        version=r.version or "",
        session_id=r.session_id or None,
        user_id=r.user_id or None,
        text=text,
        latency_ms=r.latency_ms,
        error=r.error,
        answered=r.error is None,
    )


def load_rows(
    store: Store,
    feature: str,
    *,
    users: Sequence[str] = (),
    sessions: Sequence[str] = (),
    ids: Sequence[str] = (),
    everything: bool = False,
    since: datetime | None = None,
) -> dict[str, Row]:
    """The feature's interactions: all of them, or those of the given users / sessions
    (from ``since`` on, when given) and those of the given ids (whatever their time)."""
    c = t.interactions.c
    cols = [c[name] for name in _COLS]
    out: dict[str, Row] = {}
    with store.engine.connect() as conn:
        if everything:
            q = select(*cols).where(c.feature == feature)
            for r in conn.execution_options(yield_per=20_000).execute(q):
                out[r.id] = _row(r)
            return out
        for col, keys in ((c.user_id, users), (c.session_id, sessions)):
            for part in chunks(sorted(set(keys))):
                q = select(*cols).where(
                    among(col, part, store.dialect), unindexed(c.feature, store.dialect) == feature
                )
                if since is not None:
                    q = q.where(c.ts >= since)
                for r in conn.execute(q):
                    out[r.id] = _row(r)
        for part in chunks(sorted(set(ids))):
            q = select(*cols).where(among(c.id, part, store.dialect), c.feature == feature)
            for r in conn.execute(q):
                out[r.id] = _row(r)
    return out


def load_outputs(
    store: Store, rows: dict[str, Row], *, batch: int = _BATCH
) -> dict[str, str | None]:
    """Each row's output, for telling an edit from a copy of the answer (feedback only)."""
    c = t.interactions.c
    out: dict[str, str | None] = dict.fromkeys(rows)
    with store.engine.connect() as conn:
        fb = t.feedback.c
        ids = list(rows)
        for part in chunks(ids, batch):
            q = select(c.id, c.output).where(
                c.id.in_(
                    select(fb.interaction_id).where(among(fb.interaction_id, part, store.dialect))
                )
            )
            for iid, output in conn.execute(q):
                out[iid] = output
    return out


def load_feedback(
    store: Store,
    outputs: dict[str, str | None],
    *,
    everything: bool = False,
    batch: int = _BATCH,
) -> dict[str, Feedback]:
    """The latest feedback of each interaction in ``outputs`` (id -> its output)."""
    f = t.feedback.c
    cols = (f.interaction_id, f.ts, f.id, f.accepted, f.edited_output)
    found: dict[str, tuple[Any, ...]] = {}

    def take(rows: Iterable[Any]) -> None:
        for r in rows:
            if r.interaction_id not in outputs:
                continue
            prev = found.get(r.interaction_id)
            if prev is None or (r.ts, r.id) >= (prev[1], prev[2]):
                found[r.interaction_id] = tuple(r)

    with store.engine.connect() as conn:
        if everything:
            take(conn.execution_options(yield_per=20_000).execute(select(*cols)))
        else:
            for part in chunks(list(outputs), batch):
                take(
                    conn.execute(select(*cols).where(among(f.interaction_id, part, store.dialect)))
                )
    out = {}
    for iid, (_, _, _, accepted, edit) in found.items():
        edited = edit is not None and edit != outputs.get(iid)
        out[iid] = Feedback(accepted, edited)
    return out


def load_steps(
    store: Store,
    sessions: Sequence[str],
    names: Iterable[str],
    *,
    everything: bool = False,
) -> dict[str, list[Step]]:
    """Per session: its named steps (copies, abandonment) and its last step of any name.

    The last step is kept as a nameless :class:`Step` so the abandonment rule can see
    activity after an answer without reading every step.
    """
    s = t.steps.c
    wanted = sorted(set(names))
    out: dict[str, list[Step]] = {}
    keep = set(sessions)
    with store.engine.connect() as conn:
        parts: Iterable[list[str] | None] = [None] if everything else chunks(sorted(keep))
        for part in parts:
            last = select(s.session_id, func.max(s.ts)).group_by(s.session_id)
            named = select(s.session_id, s.ts, s.name, s.metadata).where(
                s.name.in_(wanted) | s.name.like("%abandon%")
            )
            if part is not None:
                last = last.where(among(s.session_id, part, store.dialect))
                named = named.where(among(s.session_id, part, store.dialect))
            for sid, ts in conn.execute(last):
                if everything and sid not in keep:
                    continue
                out.setdefault(sid, []).append(Step(_aware(ts), ""))
            for sid, ts, name, meta in conn.execute(named):
                if everything and sid not in keep:
                    continue
                iid = meta.get("interaction_id") if isinstance(meta, dict) else None
                out.setdefault(sid, []).append(
                    Step(ts, name, iid if isinstance(iid, str) else None)
                )
    return out


def _aware(ts: Any) -> datetime:
    """``MAX(ts)`` comes back untyped on SQLite: parse it as UTC."""
    from pilotgate._time import to_utc

    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts)
    assert isinstance(ts, datetime)
    return to_utc(ts)
