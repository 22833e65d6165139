"""Tokens and abandonment from the hourly rollups for whole hours, raw rows at the edges.

The same split as ``_rollup.py``'s, for the two figures that read other rollups (migration
0016): ``rollup_tokens`` (calls and token sums per model) and ``rollup_rejections`` (per
session, its newest rejected answer in the hour and whether the session ended with it).
Both return exactly the rows the raw queries (``Queries.tokens``, ``Queries.abandonment``)
would, so the counts and the money are the exact ones.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from pilotgate.store import Store
from pilotgate.store.rollups import hour_sql, hour_start, refresh_rollups
from pilotgate.usage._queries import Filters, Queries
from pilotgate.usage._rollup import _day, _whole_hours

__all__ = ["abandonment_rows", "rollable", "token_rows"]


def rollable(store: Store, f: Filters, *, whole: bool | None = None) -> bool:
    """Whether the rollups can answer ``f``: log buckets (the rollups exist and are
    maintained), no metadata filter (rollups keep none) and a view of the whole store (they
    hold every project's rows; ``whole``: the caller already asked ``store.holds_only``)."""
    if f.metadata or f.missing_key is not None or not Queries(store).log_buckets:
        return False
    if whole is not None:
        return whole
    project = store.read_project
    return project is None or store.holds_only(project)


def _rollup_where(f: Filters, h0: int | None, h1: int | None) -> tuple[str, dict[str, Any]]:
    conds: list[str] = []
    params: dict[str, Any] = {}
    for col, value in (("feature", f.feature), ("version", f.version)):
        if value is not None:
            conds.append(f"{col} = :r_{col}")
            params[f"r_{col}"] = value
    if h0 is not None:
        conds.append("hour >= :r_h0")
        params["r_h0"] = h0
    if h1 is not None:
        conds.append("hour < :r_h1")
        params["r_h1"] = h1
    return " AND ".join(conds) or "1=1", params


def _edges(f: Filters, h0: int | None, h1: int | None) -> list[Filters]:
    """The part-hour windows at either end of ``f`` that the rollups do not cover."""
    out = []
    if h0 is not None and f.since is not None and hour_start(h0) > f.since:
        out.append(Filters(f.feature, f.version, f.since, hour_start(h0), f.project))
    if h1 is not None and f.until is not None and hour_start(h1) < f.until:
        out.append(Filters(f.feature, f.version, hour_start(h1), f.until, f.project))
    return out


def _prepare(store: Store, f: Filters) -> tuple[Queries, tuple[int | None, int | None] | None]:
    """The store's queries, with its rollups brought up to date, and the window's whole
    hours (None: none, read raw rows only)."""
    refresh_rollups(store)
    return Queries(store), _whole_hours(f)


def token_rows(store: Store, f: Filters) -> list[Any]:
    """(model, day, calls, calls with token counts, tokens in, tokens out), as
    ``Queries.tokens`` returns them, from ``rollup_tokens`` inside and raw rows at the edges
    (several rows may share a (model, day): the caller sums them)."""
    q, span = _prepare(store, f)
    if span is None:
        return q.tokens(f)
    h0, h1 = span
    where, params = _rollup_where(f, h0, h1)
    sql = (
        "SELECT model, hour / 24, SUM(n), SUM(n_tok), SUM(tokens_in), SUM(tokens_out) "
        f"FROM rollup_tokens WHERE {where} GROUP BY model, hour / 24"
    )
    with store.engine.connect() as conn:
        rows: list[Any] = [
            (m, _day(int(d)), *rest) for m, d, *rest in conn.execute(text(sql), params)
        ]
    for edge in _edges(f, h0, h1):
        rows.extend(q.tokens(edge))
    return rows


def abandonment_rows(store: Store, f: Filters) -> list[Any]:
    """(version, day, sessions with a rejection, sessions ended by one), as
    ``Queries.abandonment`` returns them (several rows may share a (version, day): the caller
    adds them up). Sessions with a single rollup row come summed per hour from
    ``rollup_abandon``; the others' rows from ``rollup_rejections`` (whole hours) and the raw
    rejected answers at the edges are merged per session in SQL, so a session that spans
    hours or an edge counts once, with its greatest version and latest day. (A session with
    a raw rejection at an edge has a row in that edge's hour too, so it is never alone.)"""
    q, span = _prepare(store, f)
    if span is None:
        return q.abandonment(f)
    h0, h1 = span
    where, params = _rollup_where(f, h0, h1)
    # sessions with one row in all the rollups: summed per hour already (most of them)
    alone = (
        "SELECT version, hour / 24, SUM(sessions), SUM(ended) FROM rollup_abandon "
        f"WHERE {where} GROUP BY version, hour / 24"
    )
    parts = [
        "SELECT project AS p, session_id AS s, version AS v, hour / 24 AS d, ended AS e "
        f"FROM rollup_rejections WHERE {where} AND alone = 0"
    ]
    edges = _edges(f, h0, h1)
    if edges:
        base, p_base = q.where(Filters(f.feature, f.version, project=f.project))
        params.update(p_base)
        spans = []
        for k, edge in enumerate(edges):
            spans.append(f"(i.ts >= :e{k}lo AND i.ts < :e{k}hi)")
            assert edge.since is not None and edge.until is not None
            params[f"e{k}lo"], params[f"e{k}hi"] = q._ts(edge.since), q._ts(edge.until)
        parts.append(
            f"SELECT i.project AS p, i.session_id AS s, i.version AS v, "
            f"{hour_sql(store.dialect, 'i.ts')} / 24 AS d, "
            f"CASE WHEN EXISTS (SELECT 1 FROM interactions j WHERE j.session_id = i.session_id "
            f"AND j.project = i.project AND j.ts > i.ts) THEN 0 ELSE 1 END AS e "
            f"FROM feedback fb CROSS JOIN interactions i "
            f"WHERE i.id = fb.interaction_id AND i.project = fb.project AND NOT fb.accepted "
            f"AND i.session_id IS NOT NULL AND {base} AND ({' OR '.join(spans)})"
        )
    sql = (
        "SELECT r.v, r.d, COUNT(*), SUM(r.e) FROM ("
        "SELECT MAX(u.v) AS v, MAX(u.d) AS d, MAX(u.e) AS e FROM ("
        f"{' UNION ALL '.join(parts)}) u GROUP BY u.p, u.s) r GROUP BY r.v, r.d"
    )
    with store.engine.connect() as conn:
        rows = list(conn.execute(text(alone), params)) + list(conn.execute(text(sql), params))
    return [(v, _day(int(d)), n, k) for v, d, n, k in rows]
