"""The candidate pool: stored interactions with their feedback and failure signals.

Why one pass of plain lists and arrays: a build reads up to 100k interactions in a few
seconds only if it asks the database for the columns it needs and joins feedback and
abandonment steps in SQL, instead of one query per interaction.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select

from pilotgate.cases._spec import FAILURE_KINDS, BuildSpec
from pilotgate.records import input_text
from pilotgate.store import tables as t

if TYPE_CHECKING:
    from pilotgate.store import Store

__all__ = ["Pool", "load_pool"]

_COLUMNS = (
    "id",
    "ts",
    "feature",
    "version",
    "session_id",
    "input",
    "input_messages",
    "output",
    "latency_ms",
    "error",
)


@dataclass
class Pool:
    """Interactions eligible for the eval set, index-aligned lists."""

    rows: list[dict[str, Any]]
    texts: list[str]
    feedback: dict[str, dict[str, Any]]
    failures: list[list[str]]
    slow_ms: float | None
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    def failure_counts(self) -> dict[str, int]:
        out = dict.fromkeys(FAILURE_KINDS, 0)
        for kinds in self.failures:
            for k in kinds:
                out[k] += 1
        return out

    def latencies(self) -> npt.NDArray[np.float64]:
        return np.array([r["latency_ms"] for r in self.rows if r["latency_ms"] is not None])


def _conds(spec: BuildSpec) -> list[Any]:
    c = t.interactions.c
    conds: list[Any] = []
    if spec.feature is not None:
        conds.append(c.feature == spec.feature)
    if spec.version is not None:
        conds.append(c.version == spec.version)
    if spec.since is not None:
        conds.append(c.ts >= spec.since)
    if spec.until is not None:
        conds.append(c.ts < spec.until)
    return conds


def load_pool(store: Store, spec: BuildSpec) -> Pool:
    """Read the interactions matching ``spec``'s filters and derive their failure signals."""
    rows = list(
        store.iter_interactions(
            feature=spec.feature,
            version=spec.version,
            since=spec.since,
            until=spec.until,
            columns=_COLUMNS,
        )
    )
    texts = [_text(r) for r in rows]
    feedback = _feedback(store, spec)
    abandoned = _abandoned(store, rows)
    implicit = _implicit_bad(store, spec, rows)
    lat = np.array([r["latency_ms"] for r in rows if r["latency_ms"] is not None])
    notes: list[str] = []
    slow_ms: float | None = None
    if len(lat) >= 10:
        slow_ms = float(np.quantile(lat, spec.slow_quantile))
    elif rows:
        notes.append("fewer than 10 latencies recorded: nothing is marked slow")
    failures: list[list[str]] = []
    for i, r in enumerate(rows):
        kinds: list[str] = []
        fb = feedback.get(r["id"])
        if fb is not None:
            if fb.get("accepted") is False:
                kinds.append("rejected")
            edit = fb.get("edited_output")
            if edit is not None and edit != r["output"]:
                kinds.append("edited")
        if r["error"]:
            kinds.append("errored")
        if slow_ms is not None and r["latency_ms"] is not None and r["latency_ms"] > slow_ms:
            kinds.append("slow")
        if i in abandoned:
            kinds.append("abandoned")
        if r["id"] in implicit and fb is None and not r["error"]:
            kinds.append("implicit_bad")
        failures.append(kinds)
    return Pool(rows, texts, feedback, failures, slow_ms, notes)


def _text(row: dict[str, Any]) -> str:
    msgs = row.get("input_messages")
    if msgs:
        return input_text(msgs)
    return str(row["input"])


def _feedback(store: Store, spec: BuildSpec) -> dict[str, dict[str, Any]]:
    """The latest feedback per interaction in the pool (one joined query)."""
    f, i = t.feedback, t.interactions
    q = (
        select(f)
        .join(i, (i.c.id == f.c.interaction_id) & (i.c.project == f.c.project))
        .where(*_conds(spec))
        .order_by(f.c.ts, f.c.id)
    )
    out: dict[str, dict[str, Any]] = {}
    with store.engine.connect() as conn:
        for row in conn.execute(q).mappings():
            out[row["interaction_id"]] = dict(row)  # later rows win: latest feedback
    return out


def _abandoned(store: Store, rows: list[dict[str, Any]]) -> set[int]:
    """Indices of interactions that were the last before their session was abandoned.

    A session is abandoned at a step whose name contains "abandon" (``abandoned``,
    ``abandoned_assistant``…); the interaction blamed is the session's last one at or
    before that step.
    """
    s = t.steps
    q = select(s.c.session_id, s.c.ts).where(s.c.name.ilike("%abandon%"))
    by_session: dict[str, list[datetime]] = defaultdict(list)
    with store.engine.connect() as conn:
        for sid, ts in conn.execute(q):
            by_session[sid].append(ts)
    if not by_session:
        return set()
    members: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for idx, r in enumerate(rows):
        sid = r["session_id"]
        if sid in by_session:
            members[sid].append((r["ts"], idx))
    out: set[int] = set()
    for sid, items in members.items():
        items.sort()
        times = [ts for ts, _ in items]
        for when in by_session[sid]:
            k = bisect_right(times, when)
            if k:
                out.add(items[k - 1][1])
    return out


def _implicit_bad(store: Store, spec: BuildSpec, rows: list[dict[str, Any]]) -> set[str]:
    """Ids whose implicit outcome is bad (signals refreshed incrementally first).

    The signals are computed with the default ``[signals]`` settings unless the feature's
    stored signals were made with others (``pilotgate usage --plan``), which are then read
    as they are.
    """
    from pilotgate.plan import SignalsSection
    from pilotgate.signals import refresh_signals

    features = {spec.feature} if spec.feature is not None else {r["feature"] for r in rows}
    sg = t.interaction_signals.c
    out: set[str] = set()
    for feature in sorted(features):
        with store.engine.connect() as conn:
            st = conn.execute(
                select(t.signal_state.c.params_hash).where(t.signal_state.c.feature == feature)
            ).scalar()
        if st is None or st == SignalsSection().params_hash():
            refresh_signals(store, feature)
        q = select(sg.interaction_id).where(sg.feature == feature, sg.outcome == "bad")
        with store.engine.connect() as conn:
            out |= {iid for (iid,) in conn.execute(q)}
    return out


def case_input(row: dict[str, Any]) -> str | list[dict[str, Any]]:
    """The case input: chat messages when recorded as such, else the text."""
    msgs = row.get("input_messages")
    if msgs:
        return list(msgs) if isinstance(msgs, list) else json.loads(msgs)
    return str(row["input"])
