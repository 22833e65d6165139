"""Usage aggregates computed inside the database, shaped for scorecards and charts.

The dashboard's overview must render in about a second over a million interactions, so
nothing here streams rows into Python: each figure is one indexed aggregate query.
Per-day figures are ranges over the ``(feature, ts, …)`` covering index (one query per
day, no temporary sort), the headline figures are :func:`pilotgate.usage.usage_figures`
(exact order statistics read with ``OFFSET`` over the ``(project, feature, latency_ms)``
index), and features are listed with a loose index scan.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, case, func, select, text
from sqlalchemy.engine import Connection

from pilotgate._stats import wilson
from pilotgate.store import tables as t
from pilotgate.usage import daily_counts, usage_figures

if TYPE_CHECKING:
    from pilotgate.store import Store

__all__ = ["features", "usage_overview"]

_TS = t.interactions.c.ts.type  # the bounds bind as the column they compare with (UTC)

_FEATURES = (
    "WITH RECURSIVE f(x) AS (SELECT min(feature) FROM interactions{w} UNION ALL "
    "SELECT (SELECT min(feature) FROM interactions WHERE feature > f.x{a}) FROM f "
    "WHERE f.x IS NOT NULL) SELECT x FROM f WHERE x IS NOT NULL"
)
_FEATURES_SQL = text(_FEATURES.format(w="", a=""))
_FEATURES_SCOPED_SQL = text(_FEATURES.format(w=" WHERE project = :p", a=" AND project = :p"))
# "ts IS NOT NULL" lets SQLite use the partial index ix_interactions_volume (migration 0004)
_VERSIONS = (
    "WITH RECURSIVE v(x) AS (SELECT min(version) FROM interactions WHERE feature = :f "
    "AND ts IS NOT NULL{a} UNION ALL SELECT (SELECT min(version) FROM interactions WHERE "
    "feature = :f AND ts IS NOT NULL{a} AND version > v.x) FROM v WHERE v.x IS NOT NULL) "
    "SELECT x FROM v WHERE x IS NOT NULL"
)
_VERSIONS_SQL = text(_VERSIONS.format(a=""))
_VERSIONS_SCOPED_SQL = text(_VERSIONS.format(a=" AND project = :p"))
# A store view scoped to one project (Store.scoped: a read key's dashboard) adds
# "project = :p" to every query here; the loose index scans then check each row's project.
MAX_DAYS = 120


def features(store: Store) -> list[str]:
    """Every feature in the store, read with a loose index scan (milliseconds at 1M rows)."""
    p = store.read_project
    with store.engine.connect() as conn:
        if p is None:
            return [str(r[0]) for r in conn.execute(_FEATURES_SQL)]
        return [str(r[0]) for r in conn.execute(_FEATURES_SCOPED_SQL, {"p": p})]


def _count_sql(dialect: str, index: str, extra: str) -> Any:
    """``count(*)`` of one feature version over a time range, from index ``index``.

    SQLite is told the index by name: without ANALYZE statistics it would take the
    (feature, ts) index and read every row to check its version.
    """
    hint = f" INDEXED BY {index}" if dialect == "sqlite" else ""
    return text(
        f"SELECT count(*) FROM interactions{hint} WHERE feature = :f AND version = :v "
        f"AND ts IS NOT NULL AND ts >= :lo AND ts < :hi{extra}"
    ).bindparams(bindparam("lo", type_=_TS), bindparam("hi", type_=_TS))


def _versions(conn: Connection, feature: str, project: str | None) -> list[str]:
    """The versions of one feature: a loose scan of the (feature, version, …) index."""
    if project is None:
        return [str(r[0]) for r in conn.execute(_VERSIONS_SQL, {"f": feature})]
    rows = conn.execute(_VERSIONS_SCOPED_SQL, {"f": feature, "p": project})
    return [str(r[0]) for r in rows]


def _merge_days(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (day, version), summing features when several were read."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        key = (r["day"], r["version"])
        if key in out:
            for k in ("n", "errors"):
                out[key][k] += r[k]
        else:
            out[key] = dict(r)
    return [out[k] for k in sorted(out)]


def _day_start(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _conds(
    feature: str | None, since: datetime | None, until: datetime | None, project: str | None
) -> list[Any]:
    c = t.interactions.c
    conds: list[Any] = []
    if project is not None:
        conds.append(c.project == project)
    if feature is not None:
        conds.append(c.feature == feature)
    if since is not None:
        conds.append(c.ts >= since)
    if until is not None:
        conds.append(c.ts < until)
    return conds


def _span(conn: Connection, conds: list[Any]) -> tuple[datetime | None, datetime | None]:
    c = t.interactions.c
    lo = conn.execute(select(func.min(c.ts)).where(*conds)).scalar()
    hi = conn.execute(select(func.max(c.ts)).where(*conds)).scalar()
    return _aware(lo), _aware(hi)


def _aware(v: Any) -> datetime | None:
    if v is None:
        return None
    if isinstance(v, str):
        v = datetime.fromisoformat(v)
    assert isinstance(v, datetime)
    return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)


def usage_overview(
    store: Store,
    *,
    feature: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """Volume, errors, latency and acceptance, overall and per day and version.

    Args:
        store: the store to read.
        feature: one feature (None: all of them).
        since: first instant included; until: first instant excluded.

    The headline figures (``n``, ``errors``, ``error_rate``, ``latency_ms``, ``feedback``
    acceptance, ``dwell_ms``) are :func:`pilotgate.usage.usage_figures`, the computation
    the gate and ``pilotgate usage`` print; the per-day series are for the charts.

    Returns:
        A JSON-ready dict: ``n``, ``errors``, ``error_rate``, ``latency_ms`` (p50/p95/p99),
        ``by_day`` (``day``, ``version``, ``n``, ``errors``, ``error_rate``),
        ``versions``, ``feedback`` (with the acceptance rate's Wilson 95 % interval),
        ``feedback_by_day``, ``first_ts``, ``last_ts``, ``features``.
    """
    project = store.read_project
    if project is None or not store.holds_only(project):
        return _overview(store, feature, since, until, project)
    # a one-project store: its view is the whole store, read through the unscoped indexes
    out = _overview(store, feature, since, until, None)
    if not store.holds_only(project):  # another project wrote meanwhile: count again
        out = _overview(store, feature, since, until, project)
    return out


def _overview(
    store: Store,
    feature: str | None,
    since: datetime | None,
    until: datetime | None,
    project: str | None,
) -> dict[str, Any]:
    c = t.interactions.c
    conds = _conds(feature, since, until, project)
    feats = features(store)
    chosen = [feature] if feature is not None else feats
    scope = "" if project is None else " AND project = :p"
    # a read key's view reads the project-led indexes (migration 0014)
    led = "" if project is None else "project_"
    calls = _count_sql(store.dialect, f"ix_interactions_{led}volume", scope)
    errs = _count_sql(
        store.dialect, f"ix_interactions_{led}errors", " AND error IS NOT NULL" + scope
    )
    # feedback is a separate table: aggregate it on a second connection meanwhile
    # (SQLite releases the GIL while it steps through a query)
    pool = ThreadPoolExecutor(max_workers=2)
    fb_future = pool.submit(_feedback_days, store, feature, since, until, len(feats) <= 1, project)
    # the headline figures: one computation shared with the gate and `pilotgate usage`
    # (``project`` None: this view's rows are the whole store's, already asked above)
    figs_future = pool.submit(
        usage_figures, store, feature=feature, since=since, until=until,
        whole_store=project is None,
    )  # fmt: skip
    try:
        with store.engine.connect() as conn:
            first, last = _span(conn, conds)
        # rollups hold every project's rows: a read key's view of a shared store counts its
        # own raw rows (``project`` is None for a store that holds only the viewer's project)
        rolled = daily_counts(store, feature, since, until) if project is None else None
        with store.engine.connect() as conn:
            by_day: list[dict[str, Any]] = _last_days(rolled or [])
            for feat in chosen if rolled is None else []:
                for version in _versions(conn, feat, project):
                    vconds = [
                        *_conds(feat, since, until, project),
                        c.version == version,
                        c.ts.is_not(None),
                    ]
                    lo, hi = _span(conn, vconds)
                    if lo is None or hi is None:
                        continue
                    day = _day_start(lo)
                    end = _day_start(hi) + timedelta(days=1)
                    day = max(day, end - timedelta(days=MAX_DAYS))
                    while day < end:
                        nxt = day + timedelta(days=1)
                        args = {
                            "f": feat,
                            "v": version,
                            "lo": max(day, since) if since else day,
                            "hi": min(nxt, until) if until else nxt,
                        }
                        if project is not None:
                            args["p"] = project
                        # count(*) reads index entries only: ix_interactions_volume, and
                        # the partial ix_interactions_errors for the errors
                        n = conn.execute(calls, args).scalar_one()
                        if n:
                            err = conn.execute(errs, args)
                            by_day.append(
                                {"day": day.date().isoformat(), "version": version,
                                 "n": int(n), "errors": int(err.scalar_one())}
                            )  # fmt: skip
                        day = nxt
            by_day = _merge_days(by_day)
        fb_days = fb_future.result()
        figs = figs_future.result()
    finally:
        pool.shutdown()
    versions: dict[str, dict[str, Any]] = {}
    for row in by_day:
        acc = versions.setdefault(row["version"], {"version": row["version"], "n": 0, "errors": 0})
        acc["n"] += row["n"]
        acc["errors"] += row["errors"]
    for row in [*by_day, *versions.values()]:
        row["error_rate"] = row["errors"] / row["n"] if row["n"] else None
    lat = figs.latency
    accept = figs.acceptance
    return {
        "feature": feature,
        "features": feats,
        "n": figs.n,
        "errors": figs.errors,
        "error_rate": figs.error_rate.value,
        "error_rate_ci95": figs.error_rate.ci95,
        "latency_ms": {**{k: m.value for k, m in lat.items()}, "n": lat["p50"].n},
        "by_day": by_day,
        "versions": sorted(versions.values(), key=lambda r: str(r["version"])),
        "feedback": {
            "n": figs.feedback_n,
            "accepted": figs.accepted,
            "rejected": figs.rejected,
            "acceptance_rate": accept.value,
            "ci95": accept.ci95,
        },
        "dwell_ms": {"p50": figs.dwell_p50.value, "n": figs.dwell_p50.n},
        "figures": figs.to_json(),
        "feedback_by_day": fb_days,
        "first_ts": first.isoformat() if first else None,
        "last_ts": last.isoformat() if last else None,
    }


def _last_days(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of the last ``MAX_DAYS`` days (as the per-day range queries read)."""
    if not rows:
        return rows
    last = max(datetime.fromisoformat(r["day"]) for r in rows)
    first = (last - timedelta(days=MAX_DAYS - 1)).date().isoformat()
    return [r for r in rows if r["day"] >= first]


def _feedback_days(
    store: Store,
    feature: str | None,
    since: datetime | None,
    until: datetime | None,
    single: bool,
    project: str | None,
) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return _feedback(conn, feature, since, until, single=single, project=project)[1]


def _feedback(
    conn: Connection,
    feature: str | None,
    since: datetime | None,
    until: datetime | None,
    *,
    single: bool,
    project: str | None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Acceptance overall and per day (by the feedback's own time).

    With a single feature in the store the feedback table is read on its own, one day at
    a time over its (ts, accepted) index; every feedback record then belongs to that
    feature. With several, each record is joined to its interaction's feature.
    """
    f = t.feedback.c
    conds: list[Any] = []
    if since is not None:
        conds.append(f.ts >= since)
    if until is not None:
        conds.append(f.ts < until)
    if project is not None:
        conds.append(f.project == project)
    accepted = func.sum(case((f.accepted.is_(True), 1), else_=0))
    src: Any = t.feedback
    if feature is not None and not single:
        i = t.interactions.c
        src = t.feedback.join(t.interactions, (i.id == f.interaction_id) & (i.project == f.project))
        conds.append(i.feature == feature)
    q = select(func.count(), accepted, func.count(f.accepted)).select_from(src)
    lo = conn.execute(select(func.min(f.ts)).select_from(src).where(*conds)).scalar()
    hi = conn.execute(select(func.max(f.ts)).select_from(src).where(*conds)).scalar()
    days: list[dict[str, Any]] = []
    lo_t, hi_t = _aware(lo), _aware(hi)
    if lo_t is not None and hi_t is not None:
        day = _day_start(lo_t)
        end = _day_start(hi_t) + timedelta(days=1)
        day = max(day, end - timedelta(days=MAX_DAYS))
        while day < end:
            nxt = day + timedelta(days=1)
            n, acc, judged = conn.execute(q.where(*conds, f.ts >= day, f.ts < nxt)).one()
            if n:
                days.append(
                    {"day": day.date().isoformat(), "n": int(n), "accepted": int(acc or 0),
                     "rejected": int(judged) - int(acc or 0)}
                )  # fmt: skip
            day = nxt
    # acceptance among judged answers (accepted or rejected), as pilotgate.usage defines it
    for d in days:
        judged = d["accepted"] + d["rejected"]
        d["acceptance_rate"] = d["accepted"] / judged if judged else None
    tot: dict[str, Any] = {k: sum(d[k] for d in days) for k in ("n", "accepted", "rejected")}
    judged = tot["accepted"] + tot["rejected"]
    tot["acceptance_rate"] = tot["accepted"] / judged if judged else None
    tot["ci95"] = wilson(tot["accepted"], judged)
    return tot, days
