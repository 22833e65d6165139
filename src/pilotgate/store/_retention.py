"""Retention: delete raw production text older than a date, keep what was derived from it.

Production inputs and outputs are personal data with a shelf life; runs, eval sets (their
cases are copies, already redacted), reviews and keys are not touched. ``keep_cases`` also
keeps the interactions (and their feedback) that an eval-set case was built from, so a case's
``origin.interaction_id`` still resolves.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    Column,
    MetaData,
    String,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from pilotgate.store import _schema as t
from pilotgate.store._rollups import mark_pruned, refresh_rollups
from pilotgate.store._types import to_utc

if TYPE_CHECKING:
    from pilotgate.store._store import Store

__all__ = ["PruneResult", "prune"]

_CHUNK = 500  # kept ids per insert


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


def _kept_table(conn: Any, ids: set[str]) -> Table:
    """A temporary table of the ids kept for eval-set cases (dropped at commit on
    PostgreSQL; SQLite's lives until the connection closes, so it is dropped by hand)."""
    kept = Table(
        "pilotgate_prune_kept",
        MetaData(),
        Column("id", String(200), primary_key=True),
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )
    kept.drop(conn, checkfirst=True)
    kept.create(conn)
    rows = [{"id": x} for x in sorted(ids)]
    for k in range(0, len(rows), _CHUNK):
        conn.execute(insert(kept), rows[k : k + _CHUNK])
    return kept


def _count(conn: Any, table: Any, cond: ColumnElement[bool]) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(cond)).scalar_one())


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

    Every statement is set-based (semi- and anti-joins the database plans as it likes), so
    a prune costs about what the rows it deletes cost, whatever the store holds: ids are
    never listed in Python, and no ``NOT IN (subquery)`` (which PostgreSQL evaluates row by
    row against every stored id once the ids outgrow ``work_mem``) is ever sent.
    """
    cutoff = to_utc(before)
    i, f, s = t.interactions, t.feedback, t.steps
    kept_ids = _case_interaction_ids(store) if keep_cases else set()
    if not dry_run:  # rollups first: they keep the pruned hours' figures
        refresh_rollups(store)
    with store.engine.begin() as conn:
        if not dry_run:
            mark_pruned(conn, _pruned_features(conn, feature), cutoff)
        kept = _kept_table(conn, kept_ids) if kept_ids else None

        def old(x: Any) -> ColumnElement[bool]:
            """``x``'s rows the rule covers (before the date, of the feature)."""
            c: ColumnElement[bool] = x.c.ts < cutoff
            return c if feature is None else and_(c, x.c.feature == feature)

        def doomed(x: Any) -> ColumnElement[bool]:
            """``x``'s rows that go: covered, and not kept for a case."""
            if kept is None:
                return old(x)
            return and_(old(x), ~exists().where(kept.c.id == x.c.id))

        n_old = _count(conn, i, old(i))
        n_doomed = n_old if kept is None else _count(conn, i, doomed(i))
        # steps first: a session's fate is judged while its interactions are all there
        if feature is None:
            step_cond: ColumnElement[bool] = s.c.ts < cutoff
        else:
            gone, other = i.alias("gone"), i.alias("other")
            step_cond = and_(
                s.c.ts < cutoff,
                exists().where(gone.c.session_id == s.c.session_id, doomed(gone)),
                ~exists().where(other.c.session_id == s.c.session_id, ~doomed(other)),
            )
        n_steps = _count(conn, s, step_cond)
        fb_cond = exists().where(i.c.id == f.c.interaction_id, doomed(i))
        n_fb = _count(conn, f, fb_cond)
        if not dry_run:
            conn.execute(delete(s).where(step_cond))
            conn.execute(delete(f).where(fb_cond))
            conn.execute(delete(i).where(doomed(i)))
        if feature is None:  # feedback naming no stored interaction: judged by its own date
            # (in a dry run the interactions about to go still name theirs: that feedback
            # was counted above, and only true orphans are counted here either way)
            orphan = and_(f.c.ts < cutoff, ~exists().where(i.c.id == f.c.interaction_id))
            n_fb += _count(conn, f, orphan)
            if not dry_run:
                conn.execute(delete(f).where(orphan))
        if kept is not None and store.dialect != "postgresql":
            kept.drop(conn)
    return PruneResult(
        before=cutoff.isoformat(),
        feature=feature,
        dry_run=dry_run,
        interactions=n_doomed,
        feedback=int(n_fb),
        steps=int(n_steps),
        kept_for_cases=n_old - n_doomed,
    )


def _pruned_features(conn: Any, feature: str | None) -> list[str]:
    if feature is not None:
        return [feature]
    rolled = select(t.rollup_interactions.c.feature).distinct()
    return [str(f) for f in conn.execute(rolled).scalars()]
