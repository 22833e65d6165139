"""``usage_report``: behaviour analytics of a feature, overall, by version and by day."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from pilotgate._stats import Rate
from pilotgate.errors import InputError
from pilotgate.store import Store
from pilotgate.usage._figures import UsageFigures, merge_into
from pilotgate.usage._queries import Filters, Queries
from pilotgate.usage._rollup import figures_from, figures_of, grouped_rows
from pilotgate.usage._rollup_rows import abandonment_rows, rollable
from pilotgate.usage._source import usage_figures
from pilotgate.usage._stats import Metric, quantile_metric, quantiles

__all__ = ["FunnelStep", "Slice", "UsageReport", "usage_report"]

LATENCY_QS = (0.5, 0.95, 0.99)
DWELL_QS = (0.1, 0.25, 0.5, 0.75, 0.9)
NO_VERSION = "(none)"


@dataclass
class FunnelStep:
    """Sessions that reached a step, and the share of the previous step's that did."""

    step: str
    sessions: int
    conversion: Rate  # of the previous step's sessions (the first step: of itself)

    def to_json(self) -> dict[str, Any]:
        conv = self.conversion
        ci = conv.ci95
        return {
            "step": self.step,
            "sessions": self.sessions,
            "conversion": conv.to_json(),
            "dropoff": {
                "value": None if conv.value is None else 1 - conv.value,
                "ci95": [1 - ci[1], 1 - ci[0]] if ci else None,
                "n": conv.n,
            },
        }


@dataclass
class Slice:
    """Everything measured over one group of interactions (all, one version, one day)."""

    n: int = 0
    errors: int = 0
    latency: dict[float, int] = field(default_factory=dict)
    feedback_n: int = 0
    accepted: int = 0
    rejected: int = 0
    edited: int = 0
    dwell: dict[float, int] = field(default_factory=dict)
    abandon: Rate = field(default_factory=lambda: Rate(0, 0))
    funnel_counts: list[int] = field(default_factory=list)

    @property
    def error_rate(self) -> Rate:
        return Rate(self.errors, self.n)

    @property
    def judged(self) -> int:
        return self.accepted + self.rejected

    def funnel(self, steps: Sequence[str]) -> list[FunnelStep]:
        out = []
        counts = self.funnel_counts or [0] * len(steps)
        for k, name in enumerate(steps):
            prev = counts[k - 1] if k else counts[0]
            out.append(FunnelStep(name, counts[k], Rate(counts[k], prev)))
        return out

    def to_json(self, steps: Sequence[str]) -> dict[str, Any]:
        return {
            "n": self.n,
            "error_rate": self.error_rate.to_json(),
            "latency_ms": quantiles(self.latency, LATENCY_QS),
            "feedback": {
                "n": self.feedback_n,
                "acceptance": Rate(self.accepted, self.judged).to_json(),
                "rejection": Rate(self.rejected, self.judged).to_json(),
                "edit": Rate(self.edited, self.feedback_n).to_json(),
            },
            "dwell_ms": quantiles(self.dwell, DWELL_QS),
            "abandonment_after_rejection": self.abandon.to_json(),
            "funnel": [s.to_json() for s in self.funnel(steps)] if steps else [],
        }


@dataclass
class UsageReport:
    """The report: ``overall``, ``by_version`` and ``by_day`` slices of the same measures."""

    SCHEMA: ClassVar[str] = "pilotgate.usage/1"

    filters: Filters
    steps: list[str]
    overall: Slice
    by_version: dict[str, Slice]
    by_day: dict[str, Slice]
    latency_method: str
    #: The headline figures (``usage_figures``): what every reader prints for the scope.
    figures: UsageFigures | None = None
    #: Fills the slices' abandonment on first need (a raw-row query: the gate's headline
    #: criteria never wait for it).
    pending_abandonment: Callable[[], None] | None = None

    def _abandonment(self) -> None:
        if self.pending_abandonment is not None:
            load, self.pending_abandonment = self.pending_abandonment, None
            load()

    def to_json(self) -> dict[str, Any]:
        self._abandonment()
        f = self.filters
        return {
            "schema": self.SCHEMA,
            "filters": {
                "feature": f.feature,
                "version": f.version,
                "metadata": dict(f.metadata),
                "since": f.since.isoformat() if f.since else None,
                "until": f.until.isoformat() if f.until else None,
            },
            "steps": self.steps,
            "latency_method": self.latency_method,
            "overall": self._overall_json(),
            "figures": self.figures.to_json() if self.figures is not None else None,
            "by_version": {k: s.to_json(self.steps) for k, s in sorted(self.by_version.items())},
            "by_day": {k: s.to_json(self.steps) for k, s in sorted(self.by_day.items())},
            "metrics": {k: m.to_json() for k, m in self.metrics().items()},
        }

    def _overall_json(self) -> dict[str, Any]:
        doc = self.overall.to_json(self.steps)
        return doc if self.figures is None else merge_into(doc, self.figures.to_json())

    # ------------------------------------------------------------ metrics
    def metrics(self, version: str | None = None, *, abandonment: bool = True) -> dict[str, Metric]:
        """The gate's metrics (value, ci95, n) overall or for one version.

        Overall, latency, acceptance, error rate and dwell p50 are the headline figures
        (exact, shared with the report and the dashboard); per-version slices come from
        the grouped histograms (``latency_method``).
        """
        if abandonment:
            self._abandonment()
        s = self.overall if version is None else self.by_version.get(version, Slice())
        out = {
            "volume": Metric(float(s.n), None, s.n),
            "acceptance_rate": _rate_metric(Rate(s.accepted, s.judged)),
            "rejection_rate": _rate_metric(Rate(s.rejected, s.judged)),
            "edit_rate": _rate_metric(Rate(s.edited, s.feedback_n)),
            "error_rate": _rate_metric(s.error_rate),
        }
        if abandonment:
            out["abandonment_rate"] = _rate_metric(s.abandon)
        for q in LATENCY_QS:
            out[f"latency.p{round(q * 100)}"] = quantile_metric(s.latency, q)
        out["dwell.p50"] = quantile_metric(s.dwell, 0.5)
        for st in s.funnel(self.steps) if self.steps else []:
            conv = st.conversion
            ci = conv.ci95
            out[f"dropoff.{st.step}"] = Metric(
                None if conv.value is None else 1 - conv.value,
                (1 - ci[1], 1 - ci[0]) if ci else None,
                conv.n,
            )
        if version is None and self.figures is not None:
            out.update(self.figures.metrics())
        return out

    def metric(self, name: str, version: str | None = None) -> Metric:
        """One metric by name (``usage.`` prefix optional), e.g. ``dropoff.copied``."""
        key = name.removeprefix("usage.")
        found = self.metrics(version, abandonment=key == "abandonment_rate")
        if key not in found:
            found = self.metrics(version)
        if key not in found:
            raise InputError(
                f"unknown usage metric {name!r}",
                fix=f"use one of {', '.join(sorted(found))}",
            )
        return found[key]


def _fold(into: Slice, s: Slice) -> None:
    """Add a slice's interaction and feedback counts and histograms to ``into``."""
    into.n += s.n
    into.errors += s.errors
    into.feedback_n += s.feedback_n
    into.accepted += s.accepted
    into.rejected += s.rejected
    into.edited += s.edited
    for mine, theirs in ((into.latency, s.latency), (into.dwell, s.dwell)):
        for x, k in theirs.items():
            mine[x] = mine.get(x, 0) + k


def _headline(overall: Slice, decoded: dict[Any, float]) -> UsageFigures | None:
    """``figures_from`` of the rows ``overall`` summed: its histograms keyed back by bucket
    (``decoded``: bucket -> value). None if two buckets decoded to one value (the decoding
    is strictly increasing: not expected)."""
    bucket = {x: b for b, x in decoded.items()}
    if len(bucket) != len(decoded):
        return None

    def hist(h: dict[float, int]) -> tuple[list[tuple[int, int]], int]:
        pairs = sorted((int(bucket[x]), k) for x, k in h.items())
        return pairs, sum(k for _, k in pairs)

    return figures_of(
        *hist(overall.latency), *hist(overall.dwell),
        n=overall.n, errors=overall.errors, accepted=overall.accepted,
        rejected=overall.rejected, feedback_n=overall.feedback_n,
    )  # fmt: skip


def _rate_metric(r: Rate) -> Metric:
    return Metric(r.value, r.ci95, r.n)


def usage_report(
    store: Store,
    feature: str | None = None,
    version: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    steps: Sequence[str] | None = None,
    metadata: Sequence[tuple[str, str]] = (),
    missing_key: str | None = None,
    exact: bool = False,
    lazy_abandonment: bool = False,
) -> UsageReport:
    """Behaviour analytics over the stored interactions, feedback and steps.

    Args:
        feature, version: restrict to one feature / version.
        since, until: the interactions' time window (until exclusive).
        steps: the plan's ``[pilot] steps``, in order, for the funnel (none: no funnel).
        metadata: only interactions whose metadata has these ``(key, value)`` pairs (a
            slice, docs/usage.md); ``missing_key``: only those without that key.
        exact: read the raw rows only (exact order statistics), not the hourly rollups.
        lazy_abandonment: run the abandonment query (raw rows) only when a metric or
            ``to_json`` needs it (the gate: most criteria never do).
    """
    f = Filters(
        feature, version, since, until, project=store.read_project, metadata=tuple(metadata),
        missing_key=missing_key,
    )  # fmt: skip
    q = Queries(store)
    steps = list(steps or [])
    # the abandonment query reads raw rows: run it on a second connection meanwhile
    # rollups hold whole feature-hours of every project and no metadata: a slice or a read
    # key's view of the store reads raw rows
    whole = store.read_project is None or store.holds_only(store.read_project)
    rolled = not exact and rollable(store, f, whole=whole)

    def abandon_rows() -> list[Any]:
        return abandonment_rows(store, f) if rolled else q.abandonment(f)

    pool = None if lazy_abandonment else ThreadPoolExecutor(max_workers=1)
    early = None if pool is None else pool.submit(abandon_rows)
    overall = Slice()
    by_v: dict[str, Slice] = {}
    by_d: dict[str, Slice] = {}

    cache: dict[tuple[Any, Any], list[Slice]] = {}

    def targets(v: Any, d: Any) -> list[Slice]:
        got = cache.get((v, d))
        if got is None:
            vk = NO_VERSION if v is None else str(v)
            dk = "unknown" if d is None else str(d)
            got = [overall, by_v.setdefault(vk, Slice()), by_d.setdefault(dk, Slice())]
            cache[(v, d)] = got
        return got

    decoded: dict[Any, float] = {}

    def value(b: Any) -> float:
        x = decoded.get(b)
        if x is None:
            x = decoded[b] = q.decode(b)
        return x

    # each row goes to its version's and its day's slice; ``overall`` is the sum of the
    # versions' (every row has exactly one), folded in once below: tens of thousands of
    # (version, day, bucket) rows at 1M, so two updates a row rather than three
    pairs: dict[tuple[Any, Any], tuple[Slice, Slice]] = {}

    def pair(v: Any, d: Any) -> tuple[Slice, Slice]:
        got = pairs.get((v, d))
        if got is None:
            _, sv, sd = targets(v, d)
            got = pairs[(v, d)] = (sv, sd)
        return got

    grouped = grouped_rows(store, f) if rolled else None
    for v, d, b, n, errors in grouped.interactions if grouped else q.interactions(f):
        n, errors = int(n), int(errors or 0)
        x = None if b is None else value(b)
        for s in pair(v, d):
            s.n += n
            s.errors += errors
            if x is not None:
                s.latency[x] = s.latency.get(x, 0) + n
    for v, d, b, n, acc, rej, edit in grouped.feedback if grouped else q.feedback(f):
        n, acc, rej, edit = int(n), int(acc or 0), int(rej or 0), int(edit or 0)
        x = None if b is None else value(b)
        for s in pair(v, d):
            s.feedback_n += n
            s.accepted += acc
            s.rejected += rej
            s.edited += edit
            if x is not None:
                s.dwell[x] = s.dwell.get(x, 0) + n
    for s in by_v.values():
        _fold(overall, s)

    def abandonment() -> None:
        for v, d, n, k in early.result() if early is not None else abandon_rows():
            for s in targets(v, d):
                s.abandon = s.abandon + Rate(int(k or 0), int(n))

    if steps:
        for v, d, *counts in q.funnel(f, steps):
            for s in targets(v, d):
                cur = s.funnel_counts or [0] * len(steps)
                s.funnel_counts = [a + int(c or 0) for a, c in zip(cur, counts, strict=True)]
    method = "log buckets (≤0.25 % rounding)" if q.log_buckets else "exact"
    if grouped is not None:  # the same rows: no second read, and no second pass over them
        method = "hourly rollups, log buckets (≤0.25 % rounding)"
        figures: UsageFigures | None = _headline(overall, decoded) or figures_from(grouped)
    elif metadata or missing_key is not None:
        # a metadata slice keeps its own computation (usage_figures has no metadata filter:
        # its figures would be the whole feature's)
        figures = None
    else:
        figures = usage_figures(
            store, feature=feature, version=version, since=since, until=until, exact=exact,
            whole_store=whole,
        )  # fmt: skip
    report = UsageReport(f, steps, overall, by_v, by_d, method, figures, abandonment)
    if pool is not None:
        report._abandonment()
        pool.shutdown()
    return report
