"""``silent_users``: the implicit-feedback figures of a feature, with their intervals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pilotgate.plan import SignalsSection
from pilotgate.signals._figures import (
    Counts,
    JourneyCounts,
    read_counts,
    read_examples,
    read_journeys,
)
from pilotgate.signals._metrics import SIGNAL_METRICS
from pilotgate.signals._refresh import Freshness, RefreshStats, freshness, refresh_signals
from pilotgate.store import Store
from pilotgate.usage import Metric, Rate

__all__ = ["SilentUsers", "silent_users", "SIGNAL_METRICS"]

CURVE_DAYS = 14
OUTCOMES = ("bad", "good", "unknown")


@dataclass
class SilentUsers:
    """Implicit signals, journeys and off-purpose requests of one feature."""

    feature: str
    cfg: SignalsSection
    overall: Counts
    by_version: dict[str, Counts]
    by_day: dict[str, Counts]
    journeys: dict[tuple[str, str], JourneyCounts]
    data_end: datetime | None
    refresh: RefreshStats | None = None
    rephrases: list[dict[str, Any]] = field(default_factory=list)
    escalations: list[dict[str, Any]] = field(default_factory=list)
    clusters: list[dict[str, Any]] = field(default_factory=list)
    #: how current the materialised signals read here are (None: not asked)
    fresh: Freshness | None = None

    # ------------------------------------------------------------ journeys
    def journey(self, outcome: str, version: str | None = None) -> JourneyCounts:
        out = JourneyCounts()
        for (v, o), jc in self.journeys.items():
            if o == outcome and (version is None or v == version):
                out.users += jc.users
                out.eligible += jc.eligible
                out.returned += jc.returned
                for d, n in jc.eligible_by.items():
                    out.eligible_by[d] = out.eligible_by.get(d, 0) + n
                for d, n in jc.back_by.items():
                    out.back_by[d] = out.back_by.get(d, 0) + n
        return out

    def return_rate(self, version: str | None = None) -> Rate:
        total = Rate(0, 0)
        for o in OUTCOMES:
            total = total + self.journey(o, version).back()
        return total

    def churn_json(self, version: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for o in OUTCOMES:
            jc = self.journey(o, version)
            out[o] = {
                "users": jc.users,
                "judged": jc.eligible,
                "never_returned": jc.churn().to_json(),
            }
        return out

    def retention_curve(self, version: str | None = None) -> dict[str, list[dict[str, Any]]]:
        curves: dict[str, list[dict[str, Any]]] = {}
        for o in OUTCOMES:
            jc = self.journey(o, version)
            pts = []
            for d in range(1, CURVE_DAYS + 1):
                n = jc.eligible_by.get(d, 0)
                if n:
                    pts.append({"day": d, **Rate(jc.back_by.get(d, 0), n).to_json()})
            curves[o] = pts
        return curves

    # ------------------------------------------------------------- metrics
    def metrics(self, version: str | None = None) -> dict[str, Metric]:
        c = self.overall if version is None else self.by_version.get(version, Counts())
        return {
            "implicit_bad_rate": _m(Rate(c.bad, c.n)),
            "rephrase_rate": _m(c.rate("rephrased")),
            "silent_churn": _m(self.journey("bad", version).churn()),
            "return_rate": _m(self.return_rate(version)),
            "off_purpose_rate": _m(c.rate("off_purpose")),
        }

    def to_json(self) -> dict[str, Any]:
        versions = sorted({v for v, _ in self.journeys} | set(self.by_version))
        return {
            "feature": self.feature,
            "data_end": self.data_end.isoformat() if self.data_end else None,
            "settings": self.cfg.model_dump(mode="json"),
            "refresh": self.refresh.to_json() if self.refresh else None,
            "freshness": self.fresh.to_json() if self.fresh else None,
            "overall": self.overall.to_json(),
            "by_version": {k: v.to_json() for k, v in sorted(self.by_version.items())},
            "by_day": {k: v.to_json() for k, v in sorted(self.by_day.items())},
            "churn": {
                "return_days": self.cfg.return_days,
                "overall": self.churn_json(),
                "by_version": {v: self.churn_json(v) for v in versions},
            },
            "return_rate": self.return_rate().to_json(),
            "retention": self.retention_curve(),
            "rephrase_examples": self.rephrases,
            "escalation_examples": self.escalations,
            "off_purpose": {
                "scope": self.cfg.scope,
                "rate": self.overall.rate("off_purpose").to_json(),
                "clusters": self.clusters,
            },
            "metrics": {k: m.to_json() for k, m in self.metrics().items()},
        }


def _m(r: Rate) -> Metric:
    return Metric(r.value, r.ci95, r.n)


def silent_users(
    store: Store,
    feature: str,
    cfg: SignalsSection | None = None,
    *,
    version: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    refresh: bool = True,
    examples: int = 8,
    clusters: bool = True,
    fresh: bool = False,
    rebuild: bool = False,
) -> SilentUsers:
    """Refresh the feature's materialised signals (incrementally), then read the figures.

    ``refresh`` False reads them as built (``serve`` keeps them current); ``fresh`` also
    reads how current they are (:class:`Freshness`: their marks, the interactions they
    miss), for a reader to print beside the figures. ``rebuild`` recomputes every stored
    signal first, not only new data."""
    cfg = cfg or SignalsSection()
    stats = refresh_signals(store, feature, cfg, rebuild=rebuild) if refresh or rebuild else None
    counts = read_counts(store, feature, version, since, until)
    overall = Counts()
    by_v: dict[str, Counts] = {}
    by_d: dict[str, Counts] = {}
    for (v, d), c in counts.items():
        overall.add(c)
        by_v.setdefault(v, Counts()).add(c)
        by_d.setdefault(d, Counts()).add(c)
    js, end = read_journeys(store, feature, cfg.return_days, CURVE_DAYS, since, until)
    if version is not None:
        js = {k: v for k, v in js.items() if k[0] == version}
    out = SilentUsers(feature, cfg, overall, by_v, by_d, js, end, stats)
    if fresh:
        out.fresh = freshness(store, feature)
    # the examples are the feature's latest flagged rows: with no window, ``overall`` counts
    # all of them, and a flag counted 0 has none (the query would walk every signal row in
    # search of one: ~1.4 s at 1M on SQLite)
    whole = version is None and since is None and until is None
    for flag, attr in (("rephrased", "rephrases"), ("escalated", "escalations")):
        if examples and (not whole or overall.k[flag]):
            setattr(out, attr, read_examples(store, feature, flag, examples))
    if clusters and cfg.scope and overall.k["off_purpose"]:
        out.clusters = _clusters(store, feature, cfg)
    return out


def _clusters(store: Store, feature: str, cfg: SignalsSection) -> list[dict[str, Any]]:
    from sqlalchemy import text

    from pilotgate.signals._offpurpose import off_purpose_clusters

    sql = """SELECT a.input FROM interaction_signals s JOIN interactions a
             ON a.id = s.interaction_id WHERE s.feature = :f AND s.off_purpose = 1
             ORDER BY s.novelty DESC, s.interaction_id LIMIT 2000"""
    with store.engine.connect() as conn:
        texts = [str(r[0]) for r in conn.execute(text(sql), {"f": feature})]
    return off_purpose_clusters(store, cfg, texts)
