"""The trace explorer: find interactions by their text and filters, open whole sessions.

A pilot's questions are often about one conversation ("what did the user who rejected the
refund answer ask next?"). ``/traces`` searches interactions by a word of their input or
output (a case-insensitive substring: SQL ``LIKE`` with the user's ``%``/``_`` escaped, so
linear time), filtered by feature, version, outcome and time; ``/traces/session/ID`` shows
the session in order: each interaction with its feedback, the workflow steps between them,
and where redaction replaced personal data. Everything shown is escaped by the templates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import and_, exists, or_, select, true

from pilotgate.store import Store, tables

__all__ = ["TraceQuery", "add_trace_routes", "search_interactions", "session_view"]

PAGE = 50
OUTCOMES = ("", "accepted", "rejected", "no_feedback", "error")
_PLACEHOLDER = re.compile(r"\[[A-Z][A-Z_]{1,23}\]")
_MAX_TEXT = 4000


@dataclass(frozen=True)
class TraceQuery:
    """What the search form asks for (empty strings: no filter)."""

    q: str = ""
    feature: str = ""
    version: str = ""
    outcome: str = ""
    since: str = ""
    until: str = ""


def _segments(text: str | None) -> list[tuple[str, bool]]:
    """``text`` as (piece, is_redaction) pieces: placeholders like ``[EMAIL]`` marked."""
    if not text:
        return []
    text = text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"
    out: list[tuple[str, bool]] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(text):
        if m.start() > pos:
            out.append((text[pos : m.start()], False))
        out.append((m.group(0), True))
        pos = m.end()
    if pos < len(text):
        out.append((text[pos:], False))
    return out


def _when(text: str) -> datetime | None:
    if not text:
        return None
    try:
        d = datetime.fromisoformat(text)
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def _like(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _mine(store: Store, table: Any) -> list[Any]:
    """The project condition of a read key's view of the store (none for the whole store)."""
    project = store.read_project
    return [] if project is None else [table.c.project == project]


def search_interactions(store: Store, tq: TraceQuery, limit: int = PAGE) -> list[dict[str, Any]]:
    """The newest interactions matching ``tq``, with their feedback summarised."""
    i, fb = tables.interactions, tables.feedback
    conds: list[Any] = _mine(store, i)
    if tq.q.strip():
        pat = _like(tq.q.strip()[:200])
        conds.append(or_(i.c.input.ilike(pat, escape="\\"), i.c.output.ilike(pat, escape="\\")))
    if tq.feature:
        conds.append(i.c.feature == tq.feature)
    if tq.version:
        conds.append(i.c.version == tq.version)
    since, until = _when(tq.since), _when(tq.until)
    if since is not None:
        conds.append(i.c.ts >= since)
    if until is not None:
        conds.append(i.c.ts < until)
    own = and_(fb.c.interaction_id == i.c.id, fb.c.project == i.c.project)
    has_fb = exists().where(own)
    if tq.outcome == "error":
        conds.append(i.c.error.is_not(None))
    elif tq.outcome == "accepted":
        conds.append(exists().where(and_(own, fb.c.accepted.is_(True))))
    elif tq.outcome == "rejected":
        conds.append(exists().where(and_(own, fb.c.accepted.is_(False))))
    elif tq.outcome == "no_feedback":
        conds.append(~has_fb)
    cols = [i.c.id, i.c.ts, i.c.feature, i.c.version, i.c.session_id, i.c.input, i.c.output,
            i.c.error, i.c.latency_ms]  # fmt: skip
    query = select(*cols).where(and_(true(), *conds)).order_by(i.c.ts.desc()).limit(limit)
    with store.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
        ids = [r["id"] for r in rows]
        verdicts: dict[str, list[Any]] = {}
        if ids:
            q2 = select(fb.c.interaction_id, fb.c.accepted).where(
                fb.c.interaction_id.in_(ids), *_mine(store, fb)
            )
            for iid, acc in conn.execute(q2):
                verdicts.setdefault(iid, []).append(acc)
    for r in rows:
        got = verdicts.get(r["id"], [])
        r["outcome"] = (
            "error" if r["error"] else
            "accepted" if True in got else "rejected" if False in got else
            "feedback" if got else "no feedback"
        )  # fmt: skip
        r["input_segments"] = _segments(r["input"][:300])
        r["output_segments"] = _segments((r["output"] or "")[:300])
    return rows


def session_view(store: Store, session_id: str) -> dict[str, Any] | None:
    """The session's interactions (with feedback) and steps, in time order."""
    i, fb, st = tables.interactions, tables.feedback, tables.steps
    with store.engine.connect() as conn:
        inter = [
            dict(r._mapping)
            for r in conn.execute(
                select(i).where(i.c.session_id == session_id, *_mine(store, i)).order_by(i.c.ts)
            )
        ]
        steps = [
            dict(r._mapping)
            for r in conn.execute(
                select(st).where(st.c.session_id == session_id, *_mine(store, st)).order_by(st.c.ts)
            )
        ]
        ids = [r["id"] for r in inter]
        feedback: dict[str, list[dict[str, Any]]] = {}
        if ids:
            q = select(fb).where(fb.c.interaction_id.in_(ids), *_mine(store, fb)).order_by(fb.c.ts)
            for row in conn.execute(q):
                feedback.setdefault(row.interaction_id, []).append(dict(row._mapping))
    if not inter and not steps:
        return None
    events: list[dict[str, Any]] = []
    redactions = 0
    for r in inter:
        r["input_segments"] = _segments(r["input"])
        r["output_segments"] = _segments(r["output"])
        r["redactions"] = sum(1 for _, red in r["input_segments"] + r["output_segments"] if red)
        redactions += r["redactions"]
        r["feedback"] = feedback.get(r["id"], [])
        events.append({"kind": "interaction", "ts": r["ts"], "item": r})
    for s in steps:
        events.append({"kind": "step", "ts": s["ts"], "item": s})
    events.sort(key=lambda e: (e["ts"], 0 if e["kind"] == "interaction" else 1))
    return {
        "session_id": session_id,
        "events": events,
        "n_interactions": len(inter),
        "n_steps": len(steps),
        "n_feedback": sum(len(v) for v in feedback.values()),
        "redactions": redactions,
        "feature": inter[0]["feature"] if inter else None,
    }


def _interaction_session(store: Store, interaction_id: str) -> tuple[bool, str | None]:
    i = tables.interactions
    with store.engine.connect() as conn:
        q = select(i.c.session_id).where(i.c.id == interaction_id, *_mine(store, i))
        row = conn.execute(q).first()
    return (row is not None, None if row is None else row[0])


def _choices(store: Store) -> dict[str, list[str]]:
    i = tables.interactions
    with store.engine.connect() as conn:
        mine = _mine(store, i)
        feats = [r[0] for r in conn.execute(select(i.c.feature).where(*mine).distinct().limit(100))]
        vers = [r[0] for r in conn.execute(select(i.c.version).where(*mine).distinct().limit(100))]
    return {"features": sorted(f for f in feats if f), "versions": sorted(v for v in vers if v)}


def add_trace_routes(
    router: APIRouter,
    view_of: Callable[[Any], Store],
    gate: Callable[[Request], Any],
    render: Callable[..., Response],
) -> None:
    """Mount ``/traces`` pages on the dashboard router (same login and headers).

    ``view_of(viewer)`` is the store as that viewer may see it (a read key: its project).
    """

    @router.get("/traces", include_in_schema=False)
    def traces(
        request: Request, q: str = "", feature: str = "", version: str = "", outcome: str = "",
        since: str = "", until: str = "",
    ) -> Response:  # fmt: skip
        v = gate(request)
        if isinstance(v, Response):
            return v
        tq = TraceQuery(q, feature, version, outcome if outcome in OUTCOMES else "", since, until)
        store = view_of(v)
        rows = search_interactions(store, tq)
        return render(
            request, "traces.html.j2", v, page="traces", tq=tq, rows=rows, limit=PAGE,
            outcomes=OUTCOMES, **_choices(store),
        )  # fmt: skip

    @router.get("/traces/session/{session_id}", include_in_schema=False)
    def trace_session(request: Request, session_id: str) -> Response:
        v = gate(request)
        if isinstance(v, Response):
            return v
        view = session_view(view_of(v), session_id)
        if view is None:
            return render(request, "missing.html.j2", v, what=f"session {session_id}")
        return render(request, "trace_session.html.j2", v, page="traces", **view)

    @router.get("/traces/interaction/{interaction_id}", include_in_schema=False)
    def trace_interaction(request: Request, interaction_id: str) -> Response:
        v = gate(request)
        if isinstance(v, Response):
            return v
        store = view_of(v)
        found, session_id = _interaction_session(store, interaction_id)
        if not found:
            return render(request, "missing.html.j2", v, what=f"interaction {interaction_id}")
        if session_id:
            from urllib.parse import quote

            from fastapi.responses import RedirectResponse

            target = f"/traces/session/{quote(session_id, safe='')}#i-{quote(interaction_id)}"
            return RedirectResponse(target, status_code=303)
        view = session_view_single(store, interaction_id)
        return render(request, "trace_session.html.j2", v, page="traces", **view)


def session_view_single(store: Store, interaction_id: str) -> dict[str, Any]:
    """An interaction without a session, shown as a one-event session."""
    i, fb = tables.interactions, tables.feedback
    with store.engine.connect() as conn:
        r = dict(
            conn.execute(select(i).where(i.c.id == interaction_id, *_mine(store, i))).one()._mapping
        )
        q = select(fb).where(fb.c.interaction_id == interaction_id, *_mine(store, fb))
        q = q.order_by(fb.c.ts)
        r["feedback"] = [dict(x._mapping) for x in conn.execute(q)]
    r["input_segments"] = _segments(r["input"])
    r["output_segments"] = _segments(r["output"])
    r["redactions"] = sum(1 for _, red in r["input_segments"] + r["output_segments"] if red)
    return {
        "session_id": None,
        "events": [{"kind": "interaction", "ts": r["ts"], "item": r}],
        "n_interactions": 1,
        "n_steps": 0,
        "n_feedback": len(r["feedback"]),
        "redactions": r["redactions"],
        "feature": r["feature"],
    }
