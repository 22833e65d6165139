"""Silent-user data for checks: simulate users, store what the app would see, and score
the implicit outcome against the simulation's ground truth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pilotgate.demo._reply import FEATURE_NAME
from pilotgate.demo._users import Behaviour, exchange_records, quality_answer, simulate

if TYPE_CHECKING:
    from pilotgate.store import Store

__all__ = ["Agreement", "agreement", "store_simulation"]


def store_simulation(
    store: Store,
    *,
    seed: int = 0,
    n: int = 5000,
    users: int = 400,
    days: int = 14,
    behaviour: Behaviour | None = None,
    switch_day: int = 7,
    feature: str = FEATURE_NAME,
) -> int:
    """Simulate a pilot offline (seeded quality model as the feature) into ``store``."""
    from pilotgate.demo.data import production_stream

    stream = production_stream(seed=seed, n=n, days=days, users=users)
    exchanges = simulate(stream, quality_answer(seed), seed=seed, behaviour=behaviour)
    t0 = stream[0].ts if stream else None
    inter: list[dict[str, Any]] = []
    fb: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    for ex in exchanges:
        day = (ex.request.ts - t0).days if t0 is not None else 0
        version = "v1" if day < switch_day else "v2"
        for r in exchange_records(ex, version, feature=feature):
            kind = r.pop("kind")
            {"interaction": inter, "feedback": fb, "step": steps}[kind].append(r)
    store.add_interactions(inter)
    store.add_feedback(fb)
    store.add_steps(steps)
    return len(inter)


@dataclass(frozen=True)
class Agreement:
    """The implicit "bad" against the ground truth "the answer was not right"."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
        }


def agreement(store: Store, feature: str = FEATURE_NAME) -> Agreement:
    """Compare ``interaction_signals.outcome`` with ``metadata.truth.right``.

    An interaction without a recorded answer (an error) is truly bad.
    """
    from sqlalchemy import select

    from pilotgate.store import tables as t

    i, s = t.interactions.c, t.interaction_signals.c
    q = (
        select(i.metadata, i.error, s.outcome)
        .select_from(t.interactions.join(t.interaction_signals, s.interaction_id == i.id))
        .where(i.feature == feature)
    )
    tp = fp = fn = tn = 0
    with store.engine.connect() as conn:
        for meta, error, outcome in conn.execute(q):
            truth = (meta or {}).get("truth", {}) if isinstance(meta, dict) else {}
            truly_bad = error is not None or truth.get("right") is False
            said_bad = outcome == "bad"
            tp += truly_bad and said_bad
            fp += (not truly_bad) and said_bad
            fn += truly_bad and not said_bad
            tn += not truly_bad and not said_bad
    return Agreement(tp, fp, fn, tn)
