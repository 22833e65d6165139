"""Rejected answers per session (migration 0016): ``rollup_rejections`` and ``rollup_abandon``.

A row of ``rollup_rejections`` is one session's rejected answers in one (feature, version,
hour): the newest one's time, whether the session ended with it (``ended``: nothing of the
session came later, of any feature) and whether it is the session's only row (``alone``).
``rollup_abandon`` sums the alone rows per (feature, version, hour), so the abandonment figure
reads a few rows per hour and merges only the sessions with several rows.

Both flags of a row can change when another hour changes: a later interaction ends an older
rejection's claim to have ended its session, a new rejection elsewhere makes a row no longer
alone. So the refresh of a few hours re-checks every row of the sessions those hours hold
(through the ``session_id`` index) and re-sums the hours those rows are in; a refresh of many
hours (a bulk import) probes only the rows still ``ended``, then rebuilds every flag and sum
once (:func:`rebuild_abandon`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

__all__ = ["FEW_HOURS", "end_elsewhere", "rebuild_abandon", "recompute_rejections"]

#: up to this many hours a refresh keeps the flags and sums of the sessions it touches;
#: beyond, :func:`rebuild_abandon` rebuilds them all once
FEW_HOURS = 48

_T = "rollup_rejections"
_ENDED = (
    f"CASE WHEN EXISTS (SELECT 1 FROM interactions j WHERE j.session_id = {_T}.session_id "
    f"AND j.project = {_T}.project AND j.ts > {_T}.last_ts) THEN 0 ELSE 1 END"
)
_ALONE = (
    f"CASE WHEN EXISTS (SELECT 1 FROM {_T} o WHERE o.session_id = {_T}.session_id "
    f"AND o.project = {_T}.project AND NOT (o.feature = {_T}.feature "
    f"AND o.version = {_T}.version AND o.hour = {_T}.hour)) THEN 0 ELSE 1 END"
)
_HERE = f"{_T}.feature = :f AND {_T}.hour >= :hlo AND {_T}.hour < :hhi"


def recompute_rejections(
    conn: Connection,
    hour: str,
    only: str,
    params: dict[str, Any],
    *,
    elsewhere: bool = True,
    bulk: bool | None = None,
) -> bool:
    """The hours' rows (their old rows already deleted), each with whether it ended its
    session; then the flags of the sessions' rows elsewhere. ``hour`` is the SQL of an
    interaction's hour, ``only`` the condition keeping the dirty hours of ``[:lo, :hi)``.
    Returns True when the hours were many (``bulk``: None, more than :data:`FEW_HOURS`
    apart): :func:`rebuild_abandon` is then due.

    ``elsewhere=False`` (many hours only): the rows of other hours are left to
    :func:`end_elsewhere`, which the caller runs once these hours' rows are committed (a
    refresh split over several connections, whose row locks must not cross)."""
    conn.execute(
        text(
            f"INSERT INTO {_T} (feature, version, hour, project, session_id, last_ts, ended, "
            f"alone) SELECT i.feature, i.version, {hour} AS h, i.project, i.session_id, "
            f"MAX(i.ts), 0, 0 FROM feedback fb CROSS JOIN interactions i "
            f"WHERE i.id = fb.interaction_id AND i.project = fb.project AND NOT fb.accepted "
            f"AND i.session_id IS NOT NULL "
            f"AND i.feature = :f AND i.ts >= :lo AND i.ts < :hi{only} "
            f"GROUP BY i.feature, i.version, h, i.project, i.session_id"
        ),
        params,
    )
    # the rows just written: one probe of the session index each
    conn.execute(text(f"UPDATE {_T} SET ended = {_ENDED} WHERE {_HERE}"), params)
    if bulk is None:
        bulk = params["hhi"] - params["hlo"] > FEW_HOURS
    if bulk:
        if elsewhere:
            end_elsewhere(conn, params)
        return True
    sessions = (
        f"(SELECT i.session_id FROM interactions i WHERE i.feature = :f "
        f"AND i.ts >= :lo AND i.ts < :hi{only} AND i.session_id IS NOT NULL)"
    )
    # by session id alone (any project): recomputing a flag is idempotent
    conn.execute(
        text(f"UPDATE {_T} SET ended = {_ENDED} WHERE NOT ({_HERE}) AND session_id IN {sessions}"),
        params,
    )
    conn.execute(text(f"UPDATE {_T} SET alone = {_ALONE} WHERE session_id IN {sessions}"), params)
    touched: dict[str, set[int]] = defaultdict(set)
    touched[params["f"]].update(range(params["hlo"], params["hhi"]))
    found = conn.execute(
        text(f"SELECT DISTINCT feature, hour FROM {_T} WHERE session_id IN {sessions}"), params
    )
    for feature, h in found:
        touched[str(feature)].add(int(h))
    for feature, hours in touched.items():
        _resum(conn, feature, sorted(hours))
    return False


def end_elsewhere(conn: Connection, params: dict[str, Any]) -> None:
    """After many hours' rows of :func:`recompute_rejections`: the rows of other hours
    that a new interaction of these hours no longer lets claim to have ended their session.

    An insert can only end such a claim (deletes mark nothing): only rows still ended, older
    than these hours' end, are probed, through the session index (SQLite's unary + keeps it
    off the (feature, ts) index, which would read the whole range per row). The rows of
    ``[:hlo, :hhi)`` are not: the recompute set their flag in full.
    """
    p = "+" if conn.dialect.name == "sqlite" else ""
    conn.execute(
        text(
            f"UPDATE {_T} SET ended = 0 WHERE ended = 1 AND NOT ({_HERE}) "
            f"AND last_ts < :hi AND EXISTS (SELECT 1 FROM interactions j "
            f"WHERE j.session_id = {_T}.session_id AND j.project = {_T}.project "
            f"AND j.ts > {_T}.last_ts AND {p}j.feature = :f AND {p}j.ts >= :lo "
            f"AND {p}j.ts < :hi)"
        ),
        params,
    )


def _resum(conn: Connection, feature: str, hours: Iterable[int]) -> None:
    """``rollup_abandon`` of these hours of ``feature``, from their alone rows."""
    every = list(hours)
    for k in range(0, len(every), 500):
        in_hours = ", ".join(str(int(h)) for h in every[k : k + 500])
        where = f"feature = :f AND hour IN ({in_hours})"
        conn.execute(text(f"DELETE FROM rollup_abandon WHERE {where}"), {"f": feature})
        conn.execute(
            text(
                f"INSERT INTO rollup_abandon (feature, version, hour, sessions, ended) "
                f"SELECT feature, version, hour, COUNT(*), SUM(ended) FROM {_T} "
                f"WHERE {where} AND alone = 1 GROUP BY feature, version, hour"
            ),
            {"f": feature},
        )


def rebuild_abandon(conn: Connection) -> None:
    """Every row's ``alone`` flag and every hour's sums (after a bulk refresh)."""
    conn.execute(text(f"UPDATE {_T} SET alone = {_ALONE}"))
    conn.execute(text("DELETE FROM rollup_abandon"))
    conn.execute(
        text(
            f"INSERT INTO rollup_abandon (feature, version, hour, sessions, ended) "
            f"SELECT feature, version, hour, COUNT(*), SUM(ended) FROM {_T} "
            f"WHERE alone = 1 GROUP BY feature, version, hour"
        )
    )
