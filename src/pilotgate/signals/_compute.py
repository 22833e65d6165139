"""Signals for a batch of rows, and each user's journey, without any store.

:func:`compute` groups rows into streams, finds the pairs that may be rephrases, embeds
only their texts, and applies :class:`~pilotgate.signals._rules.Rules` stream by stream.
:func:`journeys` reads each user's first interaction and first return from the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pilotgate.plan import SignalsSection
from pilotgate.signals._rules import Feedback, Row, Rules, Signals, Step, stream_key
from pilotgate.signals._similarity import Similarity, candidate_pairs

if TYPE_CHECKING:
    from pilotgate.shift import EmbeddingCache

__all__ = ["Computed", "Journey", "compute", "journeys", "streams"]

#: Without session ids, a request this long after the first one counts as a return.
RETURN_GAP = timedelta(minutes=30)


@dataclass
class Computed:
    signals: list[Signals]
    next_ids: dict[str, str]
    threshold: float


def streams(rows: Iterable[Row]) -> dict[str | None, list[Row]]:
    """Rows by stream key, each in time order (ties by id); key None: nobody's."""
    out: dict[str | None, list[Row]] = {}
    for r in rows:
        out.setdefault(stream_key(r), []).append(r)
    for items in out.values():
        items.sort(key=lambda r: (r.ts, r.id))
    return out


def compute(
    rows: Sequence[Row],
    feedback: dict[str, Feedback],
    steps: dict[str, list[Step]],
    cfg: SignalsSection,
    data_end: datetime,
    *,
    threshold: float | None = None,
    cache: EmbeddingCache | None = None,
    seed: int = 0,
) -> Computed:
    """Signals of every row. ``threshold`` None: calibrate it on these rows."""
    grouped = streams(rows)
    ordered = [r for k, items in grouped.items() if k is not None for r in items]
    pairs = candidate_pairs(ordered, cfg.rephrase_window_s)
    sim = Similarity.build(cfg, pairs, ordered, threshold=threshold, cache=cache, seed=seed)
    rules = Rules(cfg, sim)
    out: list[Signals] = []
    next_ids: dict[str, str] = {}
    for key, items in grouped.items():
        if key is None:
            for r in items:
                out.append(rules.one(r, None, None, feedback.get(r.id), {}, data_end))
            continue
        out += rules.stream(items, feedback, steps, data_end)
        for a, b in zip(items, items[1:], strict=False):
            if b.ts - a.answered_at <= rules.horizon:  # what a refresh can see again
                next_ids[a.id] = b.id
    return Computed(out, next_ids, sim.threshold)


@dataclass(frozen=True)
class Journey:
    """A user's first interaction, its outcome, and when (if) they came back."""

    user_id: str
    first_id: str
    first_ts: datetime
    first_version: str
    first_outcome: str
    returned_ts: datetime | None
    n: int
    last_ts: datetime

    @property
    def return_day(self) -> int | None:
        if self.returned_ts is None:
            return None
        return int((self.returned_ts - self.first_ts).total_seconds() // 86_400)


def journeys(rows: Sequence[Row], outcomes: dict[str, str]) -> list[Journey]:
    """One journey per user among ``rows`` (which must hold all of each user's rows).

    A user *returned* with their first interaction in another session after the first
    one (without session ids: at least 30 minutes after it).
    """
    by_user: dict[str, list[Row]] = {}
    for r in rows:
        if r.user_id:
            by_user.setdefault(r.user_id, []).append(r)
    out = []
    for uid, items in by_user.items():
        items.sort(key=lambda r: (r.ts, r.id))
        first = items[0]
        back = None
        for r in items[1:]:
            if first.session_id and r.session_id:
                if r.session_id != first.session_id:
                    back = r.ts
                    break
            elif r.ts - first.ts >= RETURN_GAP:
                back = r.ts
                break
        out.append(
            Journey(
                uid,
                first.id,
                first.ts,
                first.version,
                outcomes.get(first.id, "unknown"),
                back,
                len(items),
                items[-1].ts,
            )
        )
    return out
