"""Materialised signals: computed once per interaction, refreshed from a high-water mark.

Why materialise: a rephrase or an abandonment is a fact about an interaction *and what
followed it*, so computing them means walking every person's stream. Doing that on
every ``pilotgate usage`` over a million interactions would take far longer than the
dashboard's second. Instead :func:`refresh_signals` keeps ``interaction_signals`` and
``user_journeys`` up to date and the figures are a ``GROUP BY`` over them.

What a refresh recomputes: the streams (users, else sessions) that got interactions
since the high-water mark on ``ingested_at`` (with a 60 s overlap for late commits,
skipping rows already materialised),
the streams that still had a window open at the previous data end (``final = 0``), and
those with feedback or steps stamped after the previous data end minus the longest
window. Feedback or steps arriving later than that are picked up by ``rebuild=True``.
A change of the plan's ``[signals]`` settings (their hash) rebuilds everything.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select

from pilotgate.plan import SignalsSection
from pilotgate.signals._compute import Computed, compute, journeys
from pilotgate.signals._load import chunks, load_feedback, load_rows, load_steps
from pilotgate.signals._rules import Row
from pilotgate.store import tables as t

if TYPE_CHECKING:
    from pilotgate.store import Store

__all__ = ["RefreshStats", "params_hash", "refresh_signals"]

_OVERLAP = timedelta(seconds=60)


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


def params_hash(cfg: SignalsSection) -> str:
    """The hash of the settings that change signals (return_days only changes reads)."""
    data = cfg.model_dump(mode="json", exclude={"return_days"})
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:32]


def _state(store: Store, feature: str) -> dict[str, Any] | None:
    s = t.signal_state
    with store.engine.connect() as conn:
        row = conn.execute(select(s).where(s.c.feature == feature)).mappings().first()
    return dict(row) if row else None


def _data_end(store: Store, feature: str) -> tuple[datetime | None, datetime | None]:
    c = t.interactions.c
    with store.engine.connect() as conn:
        end = conn.execute(select(func.max(c.ts)).where(c.feature == feature)).scalar()
    return end, None


def refresh_signals(
    store: Store,
    feature: str,
    cfg: SignalsSection | None = None,
    *,
    rebuild: bool = False,
    seed: int = 0,
) -> RefreshStats:
    """Bring the feature's materialised signals up to date; returns what it did."""
    from pilotgate.signals._offpurpose import Scope

    cfg = cfg or SignalsSection()
    t0 = time.perf_counter()
    state = _state(store, feature)
    phash = params_hash(cfg)
    full = rebuild or state is None or state["params_hash"] != phash
    data_end, _ = _data_end(store, feature)
    hwm_now = _max_ingested(store, feature)
    if data_end is None:
        return RefreshStats(feature, full, 0, 0, time.perf_counter() - t0, 0.0)
    scope = Scope.load(store, cfg)
    if full:
        rows = load_rows(store, feature, everything=True)
        threshold = None
    else:
        assert state is not None
        users, sessions = _affected(store, feature, cfg, state)
        if not users and not sessions and state["data_end"] == data_end:
            return RefreshStats(feature, False, 0, 0, time.perf_counter() - t0, state["threshold"])
        rows = load_rows(store, feature, users=users, sessions=sessions)
        threshold = state["threshold"]
    computed = _compute(store, rows, cfg, data_end, threshold, seed, full)
    off = scope.judge(store, rows) if scope is not None else {}
    js = journeys(list(rows.values()), {s.id: s.outcome for s in computed.signals})
    _write(store, feature, rows, computed, off, js, full)
    _save_state(store, feature, phash, computed.threshold, hwm_now, data_end)
    return RefreshStats(
        feature, full, len(rows), len(js), time.perf_counter() - t0, computed.threshold
    )


def _compute(
    store: Store,
    rows: dict[str, Row],
    cfg: SignalsSection,
    data_end: datetime,
    threshold: float | None,
    seed: int,
    full: bool,
) -> Computed:
    from pilotgate.shift import StoreEmbeddingCache

    outputs = _outputs(store, rows)
    feedback = load_feedback(store, outputs, everything=full)
    sessions = sorted({r.session_id for r in rows.values() if r.session_id})
    steps = load_steps(store, sessions, cfg.copy_steps, everything=full)
    cache = StoreEmbeddingCache(store) if cfg.similarity not in ("none", "lexical") else None
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


def _outputs(store: Store, rows: dict[str, Row]) -> dict[str, str | None]:
    """Each row's output, for telling an edit from a copy of the answer (feedback only)."""
    c = t.interactions.c
    out: dict[str, str | None] = dict.fromkeys(rows)
    with store.engine.connect() as conn:
        fb = t.feedback.c
        ids = list(rows)
        for part in chunks(ids):
            q = select(c.id, c.output).where(
                c.id.in_(select(fb.interaction_id).where(fb.interaction_id.in_(part)))
            )
            for iid, output in conn.execute(q):
                out[iid] = output
    return out


def _max_ingested(store: Store, feature: str) -> datetime | None:
    c = t.interactions.c
    with store.engine.connect() as conn:
        v = conn.execute(select(func.max(c.ingested_at)).where(c.ingested_at.isnot(None))).scalar()
    if isinstance(v, str):
        v = datetime.fromisoformat(v)
    if isinstance(v, datetime) and v.tzinfo is None:
        v = v.replace(tzinfo=UTC)
    return v if isinstance(v, datetime) else None


def _affected(
    store: Store, feature: str, cfg: SignalsSection, state: dict[str, Any]
) -> tuple[list[str], list[str]]:
    """Users and (user-less) sessions whose signals may have changed since the state."""
    c, sg = t.interactions.c, t.interaction_signals.c
    users: set[str] = set()
    sessions: set[str] = set()

    def add(uid: str | None, sid: str | None) -> None:
        if uid:
            users.add(uid)
        elif sid:
            sessions.add(sid)

    horizon = timedelta(
        seconds=max(cfg.rephrase_window_s, cfg.abandon_window_s, cfg.escalate_window_s)
        + cfg.followup_window_s
    )
    with store.engine.connect() as conn:
        hwm = state["hwm_ingested"]
        # rows stamped a little before the mark may have committed after it: re-read
        # an overlap, skipping the rows already materialised
        done = select(sg.interaction_id).where(sg.interaction_id == c.id).exists()
        q = select(c.user_id, c.session_id).where(c.feature == feature, ~done)
        if hwm is not None:
            q = q.where(c.ingested_at > hwm - _OVERLAP)
        else:
            q = q.where(c.ingested_at.isnot(None))
        for uid, sid in conn.execute(q):
            add(uid, sid)
        pending = select(sg.user_id, sg.session_id).where(sg.feature == feature, sg.final == 0)
        for uid, sid in conn.execute(pending):
            add(uid, sid)
        if state["data_end"] is not None:
            since = state["data_end"] - horizon
            fb, i = t.feedback.c, t.interactions.c
            late_fb = (
                select(i.user_id, i.session_id)
                .select_from(t.feedback.join(t.interactions, i.id == fb.interaction_id))
                .where(fb.ts >= since, i.feature == feature)
            )
            for uid, sid in conn.execute(late_fb):
                add(uid, sid)
            st = t.steps.c
            late_sessions = {
                sid for (sid,) in conn.execute(select(st.session_id).where(st.ts >= since))
            }
            for part in chunks(sorted(late_sessions)):
                q2 = select(c.user_id, c.session_id).where(
                    c.session_id.in_(part), c.feature == feature
                )
                for uid, sid in conn.execute(q2):
                    add(uid, sid)
    return sorted(users), sorted(sessions)


def _flag(v: bool | None) -> int | None:
    return None if v is None else int(v)


def _write(
    store: Store,
    feature: str,
    rows: dict[str, Row],
    computed: Computed,
    off: dict[str, tuple[bool, float]],
    js: Sequence[Any],
    full: bool,
) -> None:
    sg, uj = t.interaction_signals, t.user_journeys
    out = []
    for s in computed.signals:
        r = rows[s.id]
        o = off.get(s.id)
        out.append(
            {
                "interaction_id": s.id,
                "feature": feature,
                "version": r.version,
                "day": r.ts.astimezone(UTC).strftime("%Y-%m-%d"),
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
    jrows = [
        {
            "feature": feature,
            "user_id": j.user_id,
            "first_id": j.first_id,
            "first_ts": j.first_ts,
            "first_day": j.first_ts.astimezone(UTC).strftime("%Y-%m-%d"),
            "first_version": j.first_version,
            "first_outcome": j.first_outcome,
            "returned_ts": j.returned_ts,
            "return_day": j.return_day,
            "n": j.n,
            "last_ts": j.last_ts,
        }
        for j in js
    ]
    with store.engine.begin() as conn:
        if full:
            conn.execute(delete(sg).where(sg.c.feature == feature))
            conn.execute(delete(uj).where(uj.c.feature == feature))
        else:
            for part in chunks(list(rows)):
                conn.execute(delete(sg).where(sg.c.interaction_id.in_(part)))
            for part in chunks([j.user_id for j in js]):
                conn.execute(delete(uj).where(uj.c.feature == feature, uj.c.user_id.in_(part)))
        for k in range(0, len(out), 5_000):
            conn.execute(insert(sg), out[k : k + 5_000])
        for k in range(0, len(jrows), 5_000):
            conn.execute(insert(uj), jrows[k : k + 5_000])


def _save_state(
    store: Store,
    feature: str,
    phash: str,
    threshold: float,
    hwm: datetime | None,
    data_end: datetime,
) -> None:
    s = t.signal_state
    n_q = (
        select(func.count())
        .select_from(t.interaction_signals)
        .where(t.interaction_signals.c.feature == feature)
    )
    with store.engine.begin() as conn:
        n = int(conn.execute(n_q).scalar_one())
        conn.execute(delete(s).where(s.c.feature == feature))
        conn.execute(
            insert(s),
            [
                {
                    "feature": feature,
                    "params_hash": phash,
                    "threshold": threshold,
                    "hwm_ingested": hwm,
                    "data_end": data_end,
                    "updated_at": datetime.now(UTC),
                    "n": n,
                }
            ],
        )
