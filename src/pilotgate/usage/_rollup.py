"""Usage rows from the hourly rollups for whole hours, raw rows only for the ragged edges.

:func:`grouped_rows` returns what ``Queries.interactions`` and ``Queries.feedback`` return
(rows per version, day and log bucket) for any window, reading ``rollup_interactions`` /
``rollup_feedback`` (``pilotgate.store._rollups``) for the whole hours inside it and the raw
tables only for the part-hours at either end. Counts are exactly the raw counts; a
percentile read from the buckets is within ``REL_ERROR * (x + 1)`` of the exact one.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from pilotgate.store import Store
from pilotgate.store.rollups import decode_bucket, hour_of, hour_start, refresh_rollups
from pilotgate.usage._figures import LATENCY_QS, ROLLUP_METHOD, UsageFigures, _Ranks
from pilotgate.usage._queries import Filters, Queries
from pilotgate.usage._stats import Metric

__all__ = ["Grouped", "figures_from", "figures_of", "grouped_rows", "rollup_figures"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Grouped:
    """(version, day, bucket, n, errors) and (version, day, bucket, n, acc, rej, edited)."""

    interactions: list[tuple[Any, ...]]
    feedback: list[tuple[Any, ...]]


def _whole_hours(f: Filters) -> tuple[int | None, int | None] | None:
    """The whole hours ``[h0, h1)`` inside the window (None: unbounded), or None if none."""
    h0 = None if f.since is None else math.ceil(hour_of(f.since))
    h1 = None if f.until is None else math.floor(hour_of(f.until))
    if h0 is not None and h1 is not None and h0 >= h1:
        return None
    return h0, h1


def _segments(h0: int | None, h1: int | None) -> list[tuple[str, str, dict[str, Any]]]:
    """The whole hours ``[h0, h1)`` as (table suffix, condition, params): whole days from
    the daily tables (``_day``, migration 0016), the hours around them from the hourly."""
    d0 = None if h0 is None else -(-h0 // 24)
    d1 = None if h1 is None else h1 // 24
    if d0 is not None and d1 is not None and d0 >= d1:  # no whole day inside
        return [("", *_range("hour", h0, h1))]
    out = [("_day", *_range("day", d0, d1))]
    if h0 is not None and d0 is not None and h0 < d0 * 24:
        out.append(("", *_range("hour", h0, d0 * 24)))
    if h1 is not None and d1 is not None and d1 * 24 < h1:
        out.append(("", *_range("hour", d1 * 24, h1)))
    return out


def _range(col: str, lo: int | None, hi: int | None) -> tuple[str, dict[str, Any]]:
    conds, params = [], {}
    if lo is not None:
        conds.append(f"{col} >= :{col}_lo")
        params[f"{col}_lo"] = lo
    if hi is not None:
        conds.append(f"{col} < :{col}_hi")
        params[f"{col}_hi"] = hi
    return " AND ".join(conds) or "1=1", params


def _rolled(
    store: Store, f: Filters, h0: int | None, h1: int | None, *, detail: bool = True
) -> Grouped:
    conds = ["feature = :feature"] if f.feature is not None else []
    params: dict[str, Any] = {}
    if f.feature is not None:
        params["feature"] = f.feature
    if f.version is not None:
        conds.append("version = :version")
        params["version"] = f.version
    sums = {
        "rollup_interactions": "SUM(n), SUM(errors)",
        "rollup_feedback": "SUM(n), SUM(accepted), SUM(rejected), SUM(edited)",
    }
    out: dict[str, list[Any]] = {table: [] for table in sums}
    pg = store.dialect == "postgresql"
    # the day as its ISO date and a negative bucket (no value) as NULL, made by the database:
    # the rows go to the report as they come (tens of thousands at 1M: no Python pass)
    no_value = "CASE WHEN bucket < 0 THEN NULL ELSE bucket END"
    with store.engine.connect() as conn:
        for suffix, span, span_params in _segments(h0, h1):
            where = " AND ".join([*conds, span])
            day = "day" if suffix else "hour / 24"
            for table, agg in sums.items():
                keys = f"version, {day}, bucket" if detail else "bucket"
                shown = f"version, {_iso_day(day, pg)}, {no_value}" if detail else no_value
                sql = f"SELECT {shown}, {agg} FROM {table}{suffix} WHERE {where} GROUP BY {keys}"
                if detail and suffix and f.feature is not None:  # already one row per key
                    cols = agg.replace("SUM", "")
                    sql = f"SELECT {shown}, {cols} FROM {table}{suffix} WHERE {where}"
                got: list[Any] = list(conn.execute(text(sql), {**params, **span_params}).all())
                if not detail:  # the headline figures: one histogram, no version or day
                    got = [(None, None, *r) for r in got]
                out[table] += got
    return Grouped(out["rollup_interactions"], out["rollup_feedback"])


@functools.lru_cache(maxsize=4096)
def _day(days: int) -> str:
    return (_EPOCH + timedelta(days=days)).date().isoformat()


def _iso_day(days: str, pg: bool) -> str:
    """SQL of ``YYYY-MM-DD`` for a count of days since 1970-01-01 (what ``Queries.day``
    gives for a raw row of that day)."""
    if pg:
        return f"to_char(DATE '1970-01-01' + CAST({days} AS INTEGER), 'YYYY-MM-DD')"
    return f"date(({days}) * 86400, 'unixepoch')"


def grouped_rows(store: Store, f: Filters, *, detail: bool = True) -> Grouped:
    """Rows per (version, day, bucket) of the window, rollups inside, raw rows at the edges.
    ``detail=False``: the rollups' rows per bucket only (version and day None).

    Needs log buckets (PostgreSQL, or SQLite with ``ln``); refreshes dirty hours first.
    """
    refresh_rollups(store)
    q = Queries(store)
    span = _whole_hours(f)
    if span is None:
        return Grouped(q.interactions(f), q.feedback(f))
    h0, h1 = span
    parts = [_rolled(store, f, h0, h1, detail=detail)]
    if h0 is not None and f.since is not None and hour_start(h0) > f.since:
        parts.append(_raw(q, Filters(f.feature, f.version, f.since, hour_start(h0))))
    if h1 is not None and f.until is not None and hour_start(h1) < f.until:
        parts.append(_raw(q, Filters(f.feature, f.version, hour_start(h1), f.until)))
    return Grouped(
        [r for p in parts for r in p.interactions], [r for p in parts for r in p.feedback]
    )


def _raw(q: Queries, f: Filters) -> Grouped:
    return Grouped([tuple(r) for r in q.interactions(f)], [tuple(r) for r in q.feedback(f)])


def _hist_quantile(hist: list[tuple[int, int]], n: int, q: float) -> Metric:
    """Quantile q (with its order-statistic interval) of ``n`` values in sorted buckets."""
    if n == 0:
        return Metric(None, None, 0)
    r = _Ranks.of(n, q)

    def at(rank: int) -> float:
        seen = 0
        for b, k in hist:
            seen += k
            if rank < seen:
                return decode_bucket(b)
        return decode_bucket(hist[-1][0])

    a, b = at(r.at), at(min(r.at + 1, n - 1))
    return Metric(a + r.frac * (b - a), (at(r.ci_lo), at(r.ci_hi)), n)


def _hist(rows: list[tuple[Any, ...]]) -> tuple[list[tuple[int, int]], int]:
    acc: dict[int, int] = {}
    for row in rows:
        if row[2] is not None:
            acc[int(row[2])] = acc.get(int(row[2]), 0) + int(row[3])
    hist = sorted(acc.items())
    return hist, sum(k for _, k in hist)


def figures_from(g: Grouped) -> UsageFigures:
    """The headline figures of grouped rows (log buckets): counts exact, percentiles within
    ``REL_ERROR * (x + 1)`` of the exact order statistics."""
    lat, n_lat = _hist(g.interactions)
    dwell, n_dwell = _hist(g.feedback)
    return figures_of(
        lat, n_lat, dwell, n_dwell,
        n=sum(int(r[3]) for r in g.interactions),
        errors=sum(int(r[4] or 0) for r in g.interactions),
        accepted=sum(int(r[4] or 0) for r in g.feedback),
        rejected=sum(int(r[5] or 0) for r in g.feedback),
        feedback_n=sum(int(r[3]) for r in g.feedback),
    )  # fmt: skip


def figures_of(
    lat: list[tuple[int, int]],
    n_lat: int,
    dwell: list[tuple[int, int]],
    n_dwell: int,
    *,
    n: int,
    errors: int,
    accepted: int,
    rejected: int,
    feedback_n: int,
) -> UsageFigures:
    """:func:`figures_from` of histograms already summed: sorted (bucket, n) pairs and their
    totals, with the interaction and feedback counts."""
    latency = {f"p{round(q * 100)}": _hist_quantile(lat, n_lat, q) for q in LATENCY_QS}
    return UsageFigures(
        n=n,
        errors=errors,
        latency=latency,
        accepted=accepted,
        rejected=rejected,
        feedback_n=feedback_n,
        dwell_p50=_hist_quantile(dwell, n_dwell, 0.5),
        method=ROLLUP_METHOD,
    )


def rollup_figures(
    store: Store,
    feature: str | None,
    version: str | None,
    since: datetime | None,
    until: datetime | None,
) -> UsageFigures | None:
    """The headline figures from rollups, or None when the store has no log buckets."""
    if not Queries(store).log_buckets:
        return None
    return figures_from(grouped_rows(store, Filters(feature, version, since, until), detail=False))


def daily_counts(
    store: Store, feature: str | None, since: datetime | None, until: datetime | None
) -> list[dict[str, Any]] | None:
    """Interactions and errors per (day, version) of the window, from the rollups for whole
    hours and raw rows at the edges; None when the store has no log buckets."""
    q = Queries(store)
    if not q.log_buckets:
        return None
    refresh_rollups(store)
    f = Filters(feature, None, since, until)
    span = _whole_hours(f)
    acc: dict[tuple[str, str], list[int]] = {}

    def add(v: Any, d: str, n: Any, e: Any) -> None:
        cur = acc.setdefault((d, str(v)), [0, 0])
        cur[0] += int(n)
        cur[1] += int(e or 0)

    edges = [f] if span is None else []
    if span is not None:
        h0, h1 = span
        conds = ["feature = :feature"] if feature is not None else []
        with store.engine.connect() as conn:
            for suffix, part, part_params in _segments(h0, h1):
                day = "day" if suffix else "hour / 24"
                sql = (
                    f"SELECT version, {day}, SUM(n), SUM(errors) FROM rollup_interactions{suffix} "
                    f"WHERE {' AND '.join([*conds, part])} GROUP BY version, {day}"
                )
                rows = conn.execute(text(sql), {"feature": feature, **part_params}).all()
                for v, d, n, e in rows:
                    add(v, _day(int(d)), n, e)
        if h0 is not None and f.since is not None and hour_start(h0) > f.since:
            edges.append(Filters(feature, None, f.since, hour_start(h0)))
        if h1 is not None and f.until is not None and hour_start(h1) < f.until:
            edges.append(Filters(feature, None, hour_start(h1), f.until))
    for edge in edges:
        for v, d, _b, n, e in q.interactions(edge):
            add(v, str(d), n, e)
    return [
        {"day": d, "version": v, "n": n, "errors": e} for (d, v), (n, e) in sorted(acc.items()) if n
    ]
