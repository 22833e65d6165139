"""Retention: delete raw production text older than a date, keep what was derived from it.

Production inputs and outputs are personal data with a shelf life; runs, eval sets (their
cases are copies, already redacted), reviews and keys are not touched. ``keep_cases`` also
keeps the interactions (and their feedback) that an eval-set case was built from, so a case's
``origin.interaction_id`` still resolves.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import and_, delete, func, select
from sqlalchemy.sql.elements import ColumnElement

from pilotgate.store import _schema as t
from pilotgate.store._rollups import mark_pruned, refresh_rollups
from pilotgate.store._types import to_utc

if TYPE_CHECKING:
    from pilotgate.store._store import Store

__all__ = ["PruneResult", "prune"]

_CHUNK = 500  # ids per IN (...) list: far below SQLite's and PostgreSQL's parameter limits


@dataclass(frozen=True)
class PruneResult:
    """What a prune deleted (or, with ``dry_run``, would delete)."""

    SCHEMA: ClassVar[str] = "pilotgate.store-prune/1"

    before: str
    feature: str | None
    dry_run: bool
    interactions: int
    feedback: int
    steps: int
    kept_for_cases: int

    def to_json(self) -> dict[str, Any]:
        return {"schema": self.SCHEMA, **asdict(self)}


def _case_interaction_ids(store: Store) -> set[str]:
    ids: set[str] = set()
    with store.engine.connect() as conn:
        for (data,) in conn.execute(select(t.cases.c.data)):
            origin = (data or {}).get("origin") if isinstance(data, dict) else None
            if isinstance(origin, dict) and origin.get("interaction_id") is not None:
                ids.add(str(origin["interaction_id"]))
    return ids


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


def prune(
    store: Store,
    before: datetime,
    *,
    feature: str | None = None,
    keep_cases: bool = False,
    dry_run: bool = False,
) -> PruneResult:
    """Delete interactions with ``ts < before`` (of ``feature``), their feedback, and steps.

    Steps carry no feature: without ``feature`` every step before the date goes; with it, the
    steps before the date of sessions whose interactions were deleted and that have none left.
    Without ``feature``, feedback before the date that names no stored interaction goes too.
    Runs, eval sets, reviews and keys stay. One transaction: all or nothing.
    """
    cutoff = to_utc(before)
    i, f, s = t.interactions, t.feedback, t.steps
    cond: ColumnElement[bool] = i.c.ts < cutoff
    if feature is not None:
        cond = and_(cond, i.c.feature == feature)
    kept = _case_interaction_ids(store) if keep_cases else set()
    if not dry_run:  # rollups first: they keep the pruned hours' figures
        refresh_rollups(store)
    with store.engine.begin() as conn:
        if not dry_run:
            mark_pruned(conn, _pruned_features(conn, feature), cutoff)
        rows = conn.execute(select(i.c.id, i.c.session_id).where(cond)).all()
        doomed = [str(r.id) for r in rows if str(r.id) not in kept]
        n_kept = len(rows) - len(doomed)
        sessions = {str(r.session_id) for r in rows if r.session_id is not None}
        if feature is None:
            step_cond: ColumnElement[bool] = s.c.ts < cutoff
            n_steps = conn.execute(
                select(func.count()).select_from(s).where(step_cond)
            ).scalar_one()
            if not dry_run:
                conn.execute(delete(s).where(step_cond))
        else:
            n_steps = _prune_feature_steps(conn, sorted(sessions), set(doomed), cutoff, dry_run)
        n_fb = 0
        for part in _chunks(doomed):
            q = f.c.interaction_id.in_(part)
            n_fb += conn.execute(select(func.count()).select_from(f).where(q)).scalar_one()
            if not dry_run:
                conn.execute(delete(f).where(q))
                conn.execute(delete(i).where(i.c.id.in_(part)))
        if feature is None:  # feedback naming no stored interaction: judged by its own date
            orphan = and_(
                f.c.ts < cutoff, f.c.interaction_id.not_in(select(i.c.id).scalar_subquery())
            )
            n_fb += conn.execute(select(func.count()).select_from(f).where(orphan)).scalar_one()
            if not dry_run:
                conn.execute(delete(f).where(orphan))
    return PruneResult(
        before=cutoff.isoformat(),
        feature=feature,
        dry_run=dry_run,
        interactions=len(doomed),
        feedback=int(n_fb),
        steps=int(n_steps),
        kept_for_cases=n_kept,
    )


def _pruned_features(conn: Any, feature: str | None) -> list[str]:
    if feature is not None:
        return [feature]
    rolled = select(t.rollup_interactions.c.feature).distinct()
    return [str(f) for f in conn.execute(rolled).scalars()]


def _prune_feature_steps(
    conn: Any, sessions: list[str], doomed: set[str], cutoff: datetime, dry_run: bool
) -> int:
    """Steps before ``cutoff`` of the given sessions that keep no interaction after the prune.

    Judged before anything is deleted (so a dry run counts the same): a session stays alive
    while it has an interaction outside ``doomed`` (a later one, another feature's, or one
    kept for an eval-set case).
    """
    i, s = t.interactions, t.steps
    n = 0
    for part in _chunks(sessions):
        pairs = conn.execute(select(i.c.session_id, i.c.id).where(i.c.session_id.in_(part)))
        live = {str(sid) for sid, iid in pairs if str(iid) not in doomed}
        gone = [x for x in part if x not in live]
        if not gone:
            continue
        q = and_(s.c.session_id.in_(gone), s.c.ts < cutoff)
        n += conn.execute(select(func.count()).select_from(s).where(q)).scalar_one()
        if not dry_run:
            conn.execute(delete(s).where(q))
    return n
