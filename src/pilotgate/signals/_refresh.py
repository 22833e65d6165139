"""Materialised signals: computed once per interaction, refreshed from a high-water mark.

Why materialise: a rephrase or an abandonment is a fact about an interaction *and what
followed it*, so computing them means walking every person's stream. Doing that on
every ``pilotgate usage`` over a million interactions would take far longer than the
dashboard's second. Instead :func:`refresh_signals` keeps ``interaction_signals`` and
``user_journeys`` up to date and the figures are a ``GROUP BY`` over them.

What a refresh recomputes: the streams (users, else sessions) that got interactions
since the high-water mark on ``ingested_at`` (with a 60 s overlap for late commits,
skipping rows already materialised),
the streams with a row still open at the previous data end (``final = 0``) one of whose
windows closed by the new one, and
those with feedback or steps stamped after the previous data end minus the longest
window. Feedback or steps arriving later than that are picked up by ``rebuild=True``.
A change of the plan's ``[signals]`` settings (their hash) rebuilds everything.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from pilotgate.plan import SignalsSection
from pilotgate.signals._compute import Computed, compute, journeys
from pilotgate.signals._load import (
    among,
    chunks,
    load_feedback,
    load_rows,
    load_steps,
    unindexed,
)
from pilotgate.signals._load import load_outputs as _outputs
from pilotgate.signals._rules import Row, answered_at, windows
from pilotgate.store import tables as t

if TYPE_CHECKING:
    from pilotgate.store import Store

__all__ = [
    "Freshness",
    "RefreshStats",
    "features_built_with",
    "freshness",
    "params_hash",
    "refresh_signals",
]

_OVERLAP = timedelta(seconds=5)
#: a full build's rows per chunk (``_full.py``); 0: all rows at once, in memory
FULL_CHUNK_ROWS = 20_000
#: stream the full build on SQLite too. Off: a streamed build writes as it goes in one
#: transaction, and SQLite's single write lock would then hold off every ingest for the
#: whole build (~100 s at 1M rows); the in-memory build takes the lock only to write.
#: PostgreSQL's writers do not wait on it. The tests turn it on to check both stores.
FULL_CHUNK_SQLITE = False
_ATTEMPTS = 5  # a refresh raced this often in a row gives up (raises ``Raced``)


@dataclass(frozen=True)
class RefreshStats:
    """What a refresh did: full or incremental, rows recomputed, seconds, threshold."""

    feature: str
    full: bool
    rows: int
    users: int
    seconds: float
    threshold: float

    def to_json(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "full": self.full,
            "rows": self.rows,
            "users": self.users,
            "seconds": round(self.seconds, 3),
            "similarity_threshold": round(self.threshold, 4),
        }


@dataclass(frozen=True)
class Freshness:
    """How current a feature's materialised signals are: every interaction stored up to
    ``up_to`` (ingest time) is in them, saved at ``refreshed_at``; ``behind`` interactions
    stored since are not (counted up to ``BEHIND_CAP``; None: no signals built yet)."""

    up_to: datetime | None
    refreshed_at: datetime | None
    behind: int | None
    capped: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "up_to": None if self.up_to is None else self.up_to.isoformat(),
            "refreshed_at": None if self.refreshed_at is None else self.refreshed_at.isoformat(),
            "behind": self.behind,
            "behind_at_least": self.capped,
        }


BEHIND_CAP = 100_000


def freshness(store: Store, feature: str) -> Freshness:
    """The feature's signal marks, and how many of its interactions they miss."""
    state = _state(store, feature)
    if state is None:
        return Freshness(None, None, None)
    c, sg = t.interactions.c, t.interaction_signals.c
    done = select(sg.interaction_id).where(sg.interaction_id == c.id).exists()
    hwm = state["hwm_ingested"]
    # through the ingest-time index (the feature's own would read all of it)
    q = select(c.id).where(unindexed(c.feature, store.dialect) == feature, ~done)
    q = q.where(c.ingested_at > hwm) if hwm is not None else q.where(c.ingested_at.isnot(None))
    with store.engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(q.limit(BEHIND_CAP).subquery()))
        behind = int(n.scalar_one())
    return Freshness(_aware(hwm), _aware(state["updated_at"]), behind, capped=behind >= BEHIND_CAP)


def params_hash(cfg: SignalsSection) -> str:
    """The hash of the settings that change signals (``SignalsSection.params_hash``)."""
    return cfg.params_hash()


def features_built_with(store: Store, cfg: SignalsSection) -> list[str]:
    """The features whose stored signals were built with ``cfg``'s settings."""
    s = t.signal_state.c
    with store.engine.connect() as conn:
        q = select(s.feature).where(s.params_hash == params_hash(cfg))
        return sorted(str(f) for f in conn.execute(q).scalars())


def _state(store: Store, feature: str) -> dict[str, Any] | None:
    s = t.signal_state
    with store.engine.connect() as conn:
        row = conn.execute(select(s).where(s.c.feature == feature)).mappings().first()
    return dict(row) if row else None


def _data_end(store: Store, feature: str) -> datetime | None:
    c = t.interactions.c
    with store.engine.connect() as conn:
        end = conn.execute(select(func.max(c.ts)).where(c.feature == feature)).scalar()
    if isinstance(end, str):
        end = datetime.fromisoformat(end)
    if isinstance(end, datetime) and end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    return end if isinstance(end, datetime) else None


def refresh_signals(
    store: Store,
    feature: str,
    cfg: SignalsSection | None = None,
    *,
    rebuild: bool = False,
    seed: int = 0,
) -> RefreshStats:
    """Bring the feature's materialised signals up to date; returns what it did.

    Safe to run from several processes at once (the CLI, the gate, every ``serve``
    worker's upkeep): writes are serialised per feature, and a refresh whose starting
    state another refresher replaced meanwhile starts over from the new state (its deltas
    would otherwise count twice).
    """
    from pilotgate.signals._write import Raced

    for _attempt in range(_ATTEMPTS - 1):
        try:
            return _refresh(store, feature, cfg or SignalsSection(), rebuild=rebuild, seed=seed)
        except Raced:
            rebuild = False  # the winner's state is current: catch up from it
    return _refresh(store, feature, cfg or SignalsSection(), rebuild=rebuild, seed=seed)


def _refresh(
    store: Store, feature: str, cfg: SignalsSection, *, rebuild: bool, seed: int
) -> RefreshStats:
    from pilotgate.signals._offpurpose import Scope
    from pilotgate.signals._write import signal_rows, write_refresh

    t0 = time.perf_counter()
    state = _state(store, feature)
    expect = None if state is None else state["updated_at"]
    phash = params_hash(cfg)
    full = rebuild or state is None or state["params_hash"] != phash
    data_end = _data_end(store, feature)
    hwm_now = _max_ingested(store)
    if data_end is None:
        return RefreshStats(feature, full, 0, 0, time.perf_counter() - t0, 0.0)
    cutoff: datetime | None = None
    if full and FULL_CHUNK_ROWS and (FULL_CHUNK_SQLITE or store.dialect != "sqlite"):
        return _full_build(store, feature, cfg, data_end, seed, expect, phash, hwm_now, t0)
    if full:
        rows = load_rows(store, feature, everything=True)
        threshold = None
    else:
        assert state is not None
        moved = state["data_end"] is None or _aware(state["data_end"]) != data_end
        todo = _affected(store, feature, cfg, state, data_end, pending=moved)
        if not todo:
            _save_marks(
                store, feature, expect, _marks(phash, state["threshold"], hwm_now, data_end)
            )
            return RefreshStats(feature, False, 0, 0, time.perf_counter() - t0, state["threshold"])
        cutoff = todo.cutoff
        rows = load_rows(
            store, feature, users=todo.users, sessions=todo.sessions, ids=todo.ids, since=cutoff
        )
        threshold = state["threshold"]
    scope = Scope.load(store, cfg)
    computed = _compute(store, rows, cfg, data_end, threshold, seed, full)
    off = scope.judge(store, rows) if scope is not None else {}
    js = journeys(list(rows.values()), {s.id: s.outcome for s in computed.signals})
    new = signal_rows(feature, rows, computed, off)
    marks = _marks(phash, computed.threshold, hwm_now, data_end)
    write_refresh(
        store, feature, rows, new, js, full=full, cutoff=cutoff, expect=expect, state=marks
    )
    return RefreshStats(
        feature, full, len(rows), len(js), time.perf_counter() - t0, computed.threshold
    )


def _full_build(
    store: Store,
    feature: str,
    cfg: SignalsSection,
    data_end: datetime,
    seed: int,
    expect: Any,
    phash: str,
    hwm_now: datetime | None,
    t0: float,
) -> RefreshStats:
    """A full build streamed in chunks of whole streams (``_full.py``): bounded memory."""
    from pilotgate.signals._full import build_chunks, calibrated_threshold
    from pilotgate.signals._write import write_full

    chunk = FULL_CHUNK_ROWS
    threshold = calibrated_threshold(store, feature, cfg, seed, chunk)
    marks = _marks(phash, 1.01 if threshold is None else threshold, hwm_now, data_end)
    run = build_chunks(store, feature, cfg, data_end, threshold, marks, seed, chunk)
    n, users = write_full(store, feature, run, expect=expect, state=marks)
    return RefreshStats(feature, True, n, users, time.perf_counter() - t0, marks["threshold"])


def _compute(
    store: Store,
    rows: dict[str, Row],
    cfg: SignalsSection,
    data_end: datetime,
    threshold: float | None,
    seed: int,
    full: bool,
) -> Computed:
    outputs = _outputs(store, rows)
    feedback = load_feedback(store, outputs, everything=full)
    sessions = sorted({r.session_id for r in rows.values() if r.session_id})
    steps = load_steps(store, sessions, cfg.copy_steps, everything=full)
    cache = None
    if cfg.similarity not in ("none", "lexical"):  # imported here: numpy only when needed
        from pilotgate.embeddings import StoreEmbeddingCache

        cache = StoreEmbeddingCache(store)
    return compute(
        list(rows.values()),
        feedback,
        steps,
        cfg,
        data_end,
        threshold=threshold,
        cache=cache,
        seed=seed,
    )


def _max_ingested(store: Store) -> datetime | None:
    """The high-water mark to save: the newest ``ingested_at``, but never later than a
    few seconds ago, so a batch stamped just before and committed just after this read
    is read again next time (rows already materialised are then skipped)."""
    newest = _newest_ingested(store)
    if newest is None:
        return None
    return min(newest, datetime.now(UTC) - _OVERLAP)


def _newest_ingested(store: Store) -> datetime | None:
    c = t.interactions.c
    with store.engine.connect() as conn:
        v = conn.execute(select(func.max(c.ingested_at)).where(c.ingested_at.isnot(None))).scalar()
    if isinstance(v, str):
        v = datetime.fromisoformat(v)
    if isinstance(v, datetime) and v.tzinfo is None:
        v = v.replace(tzinfo=UTC)
    return v if isinstance(v, datetime) else None


@dataclass
class _Affected:
    """What an incremental refresh recomputes: users, (user-less) sessions, interactions of
    nobody (each a stream of its own), and the time from which the streams' rows are read
    again (None: no stream)."""

    users: list[str]
    sessions: list[str]
    ids: list[str]
    cutoff: datetime | None

    def __bool__(self) -> bool:
        return bool(self.users or self.sessions or self.ids)


def _affected(
    store: Store,
    feature: str,
    cfg: SignalsSection,
    state: dict[str, Any],
    data_end: datetime,
    *,
    pending: bool,
) -> _Affected:
    """Users and (user-less) sessions whose signals may have changed since the state,
    and the time from which their rows must be read again (the earliest change minus
    the longest window: earlier rows cannot see it), and the new or newly judged
    interactions of nobody. Streams with a window still open are included only when the
    data's end moved (``pending``), and then only those with a row one of whose windows
    closed in between (:func:`_closing`): nothing else can change a signal that waits on
    the data's end."""
    c, sg = t.interactions.c, t.interaction_signals.c
    users: set[str] = set()
    sessions: set[str] = set()
    ids: set[str] = set()
    earliest: list[datetime] = []

    def add(uid: str | None, sid: str | None, ts: Any, iid: str | None = None) -> None:
        if uid:
            users.add(uid)
        elif sid:
            sessions.add(sid)
        else:
            if iid is not None:  # nobody's: a stream of one, read by its id
                ids.add(iid)
            return
        if isinstance(ts, datetime):
            earliest.append(ts if ts.tzinfo else ts.replace(tzinfo=UTC))

    horizon = _horizon(cfg)
    with store.engine.connect() as conn:
        hwm = state["hwm_ingested"]
        # rows stamped a little before the mark may have committed after it: re-read
        # from the mark, skipping the rows already materialised
        done = select(sg.interaction_id).where(sg.interaction_id == c.id).exists()
        # through the ingest-time index: the feature term kept off the (feature, ts) one
        feat = unindexed(c.feature, store.dialect) == feature
        q = select(c.user_id, c.session_id, func.min(c.ts)).where(feat, ~done)
        q = q.where(c.ingested_at > hwm) if hwm is not None else q.where(c.ingested_at.isnot(None))
        for uid, sid, ts in conn.execute(q.group_by(c.user_id, c.session_id)):
            if uid or sid:
                add(uid, sid, _aware(ts))
        # through the ingest-time index too: the user and session terms kept off theirs
        no_user = unindexed(c.user_id, store.dialect).is_(None)
        nobody = select(c.id).where(
            feat, ~done, no_user, unindexed(c.session_id, store.dialect).is_(None)
        )
        nobody = nobody.where(c.ingested_at > hwm) if hwm is not None else nobody
        ids.update(str(i) for (i,) in conn.execute(nobody.where(c.ingested_at.isnot(None))))
        if pending:
            open_ = (
                select(sg.user_id, sg.session_id, sg.interaction_id, sg.ts, c.latency_ms)
                .select_from(t.interaction_signals.join(t.interactions, c.id == sg.interaction_id))
                .where(sg.feature == feature, sg.final == 0, c.feature == feature)
            )
            since = _aware(state["data_end"]) if state["data_end"] is not None else None
            for uid, sid, iid, ts, latency in conn.execute(open_):
                ts = _aware(ts)
                if _closing(cfg, ts, latency, since, data_end):
                    add(uid, sid, ts, str(iid))
        if state["data_end"] is not None:
            since = state["data_end"] - horizon
            fb, i = t.feedback.c, t.interactions.c
            late_fb = (
                select(i.user_id, i.session_id, i.ts, i.id)
                .select_from(t.feedback.join(t.interactions, i.id == fb.interaction_id))
                .where(fb.ts >= since, feat)  # feedback by its ts index, then by id
            )
            for uid, sid, ts, iid in conn.execute(late_fb):
                add(uid, sid, ts, str(iid))
            st = t.steps.c
            late = select(st.session_id, func.min(st.ts)).where(st.ts >= since)
            # grouped by +session_id on SQLite: else it walks the whole (session_id, ts)
            # index for its order rather than search ix_steps_ts for the recent steps
            by = unindexed(st.session_id, store.dialect)
            late_sessions = dict(conn.execute(late.group_by(by)).all())
            for part in chunks(sorted(late_sessions)):
                q2 = select(c.user_id, c.session_id).where(
                    among(c.session_id, part, store.dialect), feat
                )
                for uid, sid in conn.execute(q2):
                    add(uid, sid, _aware(late_sessions[sid]) - horizon)
    cutoff = min(earliest) - horizon if earliest else None
    return _Affected(sorted(users), sorted(sessions), sorted(ids), cutoff)


def _closing(
    cfg: SignalsSection,
    ts: datetime,
    latency_ms: float | None,
    before: datetime | None,
    data_end: datetime,
) -> bool:
    """Whether a row still open at the data's end ``before`` has a window that closes by
    ``data_end`` (every signal that waits on the data's end is told at the answer's time
    plus one of the windows: ``pilotgate.signals._rules``). ``before`` None, or a data
    end that moved back (a prune): every open row."""
    if before is None or data_end < before:
        return True
    answered = answered_at(ts, latency_ms)
    return any(before < answered + timedelta(seconds=w) <= data_end for w in windows(cfg))


def _aware(ts: Any) -> Any:
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts)
    if isinstance(ts, datetime) and ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts


def _horizon(cfg: SignalsSection) -> timedelta:
    return timedelta(seconds=max(windows(cfg)) + cfg.clock_skew_s)


def _marks(
    phash: str, threshold: float, hwm: datetime | None, data_end: datetime
) -> dict[str, Any]:
    """A refresh's ``signal_state`` columns (``n``, the signal rows it changed: 0 here)."""
    return {
        "params_hash": phash,
        "threshold": threshold,
        "hwm_ingested": hwm,
        "data_end": data_end,
        "updated_at": datetime.now(UTC),
        "n": 0,
    }


def _save_marks(store: Store, feature: str, expect: Any, marks: dict[str, Any]) -> None:
    """Save the marks of a refresh that found nothing to recompute."""
    from pilotgate.signals._write import claim, save_state

    with store.engine.begin() as conn:
        claim(conn, feature, expect)
        save_state(conn, feature, marks)
