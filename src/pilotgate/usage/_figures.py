"""The headline usage figures, computed once for every reader.

The gate's ``usage.*`` criteria, ``pilotgate usage``, the HTML report and the dashboard
all print latency p50/p95/p99, the acceptance rate with its interval, the error rate and
the median dwell time. They all get them from ``usage_figures`` (``_source.py``), so the same store
prints the same numbers everywhere.

* Latency quantiles are exact order statistics (linear interpolation, numpy's default),
  read with short ``OFFSET`` windows over the ``(project, feature, latency_ms)`` index, with the
  distribution-free 95 % interval from binomial order statistics.
* Acceptance counts feedback on the interactions in scope (accepted / judged, Wilson
  interval); the error rate counts interactions that ended in an error (Wilson).
* The dwell median is the exact order statistic of the same feedback's dwell times (with its
  interval), read like the latency quantiles.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, literal_column, select
from sqlalchemy.engine import Connection

from pilotgate._stats import Z95, Rate
from pilotgate.store import tables as t
from pilotgate.usage._stats import Metric

if TYPE_CHECKING:
    from pilotgate.store import Store

__all__ = ["LATENCY_QS", "ROLLUP_METHOD", "UsageFigures", "exact_figures"]

LATENCY_QS = (0.5, 0.95, 0.99)
EXACT_METHOD = "exact"
#: percentiles from the hourly rollups' log buckets (``pilotgate.store._rollups``)
ROLLUP_METHOD = "rollups"


@dataclass(frozen=True)
class UsageFigures:
    """The headline figures of one scope (feature, version, window)."""

    n: int
    errors: int
    latency: dict[str, Metric]
    accepted: int
    rejected: int
    feedback_n: int
    dwell_p50: Metric
    extra: dict[str, Any] = field(default_factory=dict)
    #: "exact" (order statistics of the raw rows) or "rollups" (log buckets, counts exact)
    method: str = EXACT_METHOD

    @property
    def error_rate(self) -> Metric:
        r = Rate(self.errors, self.n)
        return Metric(r.value, r.ci95, r.n)

    @property
    def acceptance(self) -> Metric:
        r = Rate(self.accepted, self.accepted + self.rejected)
        return Metric(r.value, r.ci95, r.n)

    def metrics(self) -> dict[str, Metric]:
        """Keyed as the gate's ``usage.*`` metrics."""
        out = {
            "acceptance_rate": self.acceptance,
            "error_rate": self.error_rate,
            "dwell.p50": self.dwell_p50,
        }
        out.update({f"latency.{k}": m for k, m in self.latency.items()})
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "errors": self.errors,
            "error_rate": Rate(self.errors, self.n).to_json(),
            "latency_ms": {k: self._pct(m) for k, m in self.latency.items()},
            "acceptance": Rate(self.accepted, self.accepted + self.rejected).to_json(),
            "feedback_n": self.feedback_n,
            "dwell_ms": {"p50": self._pct(self.dwell_p50)},
            "method": self.method,
        }

    def _pct(self, m: Metric) -> dict[str, Any]:
        """A percentile's JSON with its error bound: ``rel_error_max`` r means the value
        is within r * (exact + 1) of the exact order statistic (0: exact)."""
        from pilotgate.store.rollups import REL_ERROR

        return {**m.to_json(), "rel_error_max": REL_ERROR if self.method != EXACT_METHOD else 0.0}


def _conds(
    feature: str | None,
    version: str | None,
    since: datetime | None,
    until: datetime | None,
    project: str | None = None,
) -> list[Any]:
    c = t.interactions.c
    conds: list[Any] = []
    if project is not None:  # a read key's view of a shared store: its project only
        # ts is never null: the term lets counts read the partial project-led index
        # ix_interactions_project_volume (migration 0014) instead of the table
        conds += [c.project == project, c.ts.is_not(None)]
    if feature is not None:
        conds.append(c.feature == feature)
    if version is not None:
        conds.append(c.version == version)
    if since is not None:
        conds.append(c.ts >= since)
    if until is not None:
        conds.append(c.ts < until)
    return conds


@dataclass(frozen=True)
class _Ranks:
    """The 0-based ranks quantile q of n values needs: its two neighbours and its interval
    (the same order statistics as :func:`pilotgate.usage._stats.quantile_metric`)."""

    at: int
    frac: float
    ci_lo: int
    ci_hi: int
    n: int

    @classmethod
    def of(cls, n: int, q: float) -> _Ranks:
        h = (n - 1) * q
        half = Z95 * math.sqrt(n * q * (1 - q))
        lo = max(0, math.floor(n * q - half) - 1)
        hi = min(n - 1, math.ceil(n * q + half))
        return cls(math.floor(h), h - math.floor(h), lo, hi, n)

    @property
    def first(self) -> int:
        return min(self.ci_lo, self.at)

    @property
    def last(self) -> int:
        return max(self.ci_hi, min(self.at + 1, self.n - 1))


def _window(conn: Connection, base: Any, col: Any, n: int, first: int, last: int) -> list[float]:
    """Sorted values at ranks first..last, read from the nearer end of the index."""
    size = last - first + 1
    if first <= (n - 1) - last:
        got = conn.execute(base.order_by(col).limit(size).offset(first)).scalars().all()
        return [float(v) for v in got]
    desc = base.order_by(col.desc()).limit(size).offset(n - 1 - last)
    return [float(v) for v in reversed(conn.execute(desc).scalars().all())]


def _quantile(conn: Connection, base: Any, col: Any, n: int, q: float) -> Metric:
    """Quantile q of the ``n`` values ``base`` selects (exact, with its order-statistic
    interval), from one short window of ranks read in index order."""
    if n == 0:
        return Metric(None, None, 0)
    r = _Ranks.of(n, q)
    vals = _window(conn, base, col, n, r.first, r.last)
    if len(vals) != r.last - r.first + 1:  # rows changed between the count and the read
        return Metric(None, None, 0)
    a, b = vals[r.at - r.first], vals[min(r.at + 1, n - 1) - r.first]
    return Metric(a + r.frac * (b - a), (vals[r.ci_lo - r.first], vals[r.ci_hi - r.first]), n)


def _latency(conn: Connection, conds: list[Any]) -> dict[str, Metric]:
    c = t.interactions.c
    where = [*conds, c.latency_ms.is_not(None)]
    n = int(conn.execute(select(func.count()).where(*where)).scalar_one())
    base = select(c.latency_ms).where(*where)
    return {f"p{round(q * 100)}": _quantile(conn, base, c.latency_ms, n, q) for q in LATENCY_QS}


def _feedback(
    conn: Connection, conds: list[Any] | None, project: str | None = None
) -> tuple[int, int, int, Metric]:
    """(feedback rows, accepted, rejected, dwell p50) of the feedback on interactions in scope.

    ``conds`` None means the scope is every stored interaction (of ``project``): the
    feedback table is then read on its own, counts from the ``(project, ts, accepted)``
    index and the dwell median from the partial ``(project, dwell_ms)`` index (migrations
    0014, 0019), never the table. Otherwise each feedback record is joined to its
    interaction.
    """
    f, i = t.feedback.c, t.interactions.c
    src: Any = t.feedback
    where: list[Any] = [] if project is None else [f.project == project]
    if conds is not None:
        # SQLite: the project term kept off indexes (unary +), or SQLite looks each
        # interaction's feedback up by the project-led index (all of the project's feedback,
        # per interaction: quadratic) instead of the interaction_id index
        fb_project: Any = f.project
        if conn.dialect.name == "sqlite":
            fb_project = literal_column("+feedback.project")
        src = t.feedback.join(
            t.interactions, (i.id == f.interaction_id) & (i.project == fb_project)
        )
        where = list(conds)
    counts = select(
        func.count(),
        func.sum(case((f.accepted.is_(True), 1), else_=0)),
        func.sum(case((f.accepted.is_(False), 1), else_=0)),
    ).select_from(src)
    n, acc, rej = conn.execute(counts.where(*where)).one()
    has_dwell = [*where, f.dwell_ms.is_not(None)]
    n_dwell = conn.execute(select(func.count()).select_from(src).where(*has_dwell)).scalar_one()
    base = select(f.dwell_ms).select_from(src).where(*has_dwell)
    dwell = _quantile(conn, base, f.dwell_ms, int(n_dwell), 0.5)
    return int(n), int(acc or 0), int(rej or 0), dwell


def _open_end(
    conn: Connection,
    feature: str | None,
    since: datetime | None,
    until: datetime | None,
    project: str | None = None,
) -> datetime | None:
    """``until``, or None when it ends after the scope's newest interaction (a no-op bound:
    the gate's "up to now" then reads exactly what an unbounded reader reads)."""
    if until is None or since is not None:
        return until
    c = t.interactions.c
    newest = conn.execute(select(func.max(c.ts)).where(*_conds(feature, None, None, None, project)))
    last = newest.scalar()
    if last is None:
        return None
    if isinstance(last, str):
        last = datetime.fromisoformat(last)
    last = last if last.tzinfo is not None else last.replace(tzinfo=UTC)
    return None if last < until else until


def _only(conn: Connection, feature: str | None) -> bool:
    """True when ``feature`` is None or the only feature stored: then every stored feedback
    record is on an interaction in scope and the feedback table is read without a join."""
    if feature is None:
        return True
    c = t.interactions.c
    # one aggregate per query: SQLite answers a lone min() or max() with one index seek
    lo = conn.execute(select(func.min(c.feature))).scalar()
    hi = conn.execute(select(func.max(c.feature))).scalar()
    return bool(lo == hi == feature)


def _sole_project(store: Store) -> str | None:
    """The project of a store whose interactions and feedback are all one project's (None:
    several, or none): a few index seeks."""
    with store.engine.connect() as conn:
        first = conn.execute(
            select(t.interactions.c.project).where(t.interactions.c.ts.is_not(None)).limit(1)
        ).scalar()
    return None if first is None or not store.holds_only(str(first)) else str(first)


def exact_figures(
    store: Store,
    feature: str | None,
    version: str | None,
    since: datetime | None,
    until: datetime | None,
) -> UsageFigures:
    """The figures from the raw rows: order statistics read in index order.

    The percentiles read the project-led indexes (migrations 0014, 0019). A read without a
    project of a store that holds one project only names that project (the same rows) and
    checks again afterwards: a record another project committed meanwhile would have been
    seen by that check, and the figures are then read without the project (which sorts).
    """
    project = store.read_project
    if project is not None:
        return _exact(store, feature, version, since, until, project)
    sole = _sole_project(store)
    if sole is not None:
        figures = _exact(store, feature, version, since, until, sole)
        if store.holds_only(sole):
            return figures
    return _exact(store, feature, version, since, until, None)


def _exact(
    store: Store,
    feature: str | None,
    version: str | None,
    since: datetime | None,
    until: datetime | None,
    project: str | None,
) -> UsageFigures:
    c = t.interactions.c
    with store.engine.connect() as conn:
        until = _open_end(conn, feature, since, until, project)
        conds = _conds(feature, version, since, until, project)
        # two index-only counts (errors over the partial errors index)
        count = select(func.count()).select_from(t.interactions)
        n = int(conn.execute(count.where(*conds)).scalar_one())
        err_q = count.where(*conds, c.error.is_not(None))
        errors = int(conn.execute(err_q).scalar_one())
        latency = _latency(conn, conds)
        whole = version is None and since is None and until is None and _only(conn, feature)
        fb_n, acc, rej, dwell = _feedback(conn, None if whole else conds, project)
    return UsageFigures(
        n=int(n),
        errors=int(errors),
        latency=latency,
        accepted=acc,
        rejected=rej,
        feedback_n=fb_n,
        dwell_p50=dwell,
    )


def merge_into(doc: dict[str, Any], figures: Mapping[str, Any]) -> dict[str, Any]:
    """``doc`` (a usage slice document) with the headline figures written over its own."""
    doc = dict(doc)
    doc["n"] = figures["n"]
    doc["error_rate"] = figures["error_rate"]
    lat = dict(doc.get("latency_ms") or {})
    lat.update({k: v["value"] for k, v in figures["latency_ms"].items()})
    doc["latency_ms"] = lat
    fb = dict(doc.get("feedback") or {})
    fb["acceptance"] = figures["acceptance"]
    doc["feedback"] = fb
    dw = dict(doc.get("dwell_ms") or {})
    dw["p50"] = figures["dwell_ms"]["p50"]["value"]
    doc["dwell_ms"] = dw
    return doc
