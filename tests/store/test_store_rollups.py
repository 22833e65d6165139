"""Hourly rollups: counts identical to the raw rows, percentiles within the stated bound,
kept current by triggers on every write path, and surviving ``store prune``."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pilotgate.plan import ModelPrice
from pilotgate.store import Store, prune
from pilotgate.store.rollups import REL_ERROR, refresh_rollups
from pilotgate.usage import UsageReport, daily_counts, usage_cost, usage_figures, usage_report
from pilotgate.usage._figures import UsageFigures
from pilotgate.usage._queries import Filters, Queries

T0 = datetime(2026, 5, 1, tzinfo=UTC)
_feature_ids = itertools.count()

interaction = st.fixed_dictionaries(
    {
        "minute": st.integers(0, 3 * 24 * 60),
        "version": st.sampled_from(["v1", "v2"]),
        "latency_ms": st.one_of(st.none(), st.floats(0, 20_000), st.integers(0, 50)),
        "error": st.sampled_from([None, None, "Timeout"]),
        "fb": st.sampled_from([None, True, False]),
        "dwell_ms": st.one_of(st.none(), st.floats(0, 60_000)),
        "session": st.one_of(st.none(), st.integers(0, 6)),
        "tokens": st.one_of(st.none(), st.tuples(st.integers(0, 5000), st.integers(0, 5000))),
        "model": st.sampled_from([None, "small", "large", "unpriced"]),
    }
)
PRICES = {
    "small": ModelPrice(input_per_1k=0.5, output_per_1k=1.5),
    "large": ModelPrice(input_per_1k=3.0, output_per_1k=15.0),
}
window = st.tuples(
    st.one_of(st.none(), st.integers(0, 3 * 24 * 60)),
    st.one_of(st.none(), st.integers(0, 3 * 24 * 60)),
    st.sampled_from([None, "v1", "v2"]),
)


def _write(store: Store, feature: str, rows: list[dict[str, Any]]) -> None:
    inter, fb = [], []
    for k, r in enumerate(rows):
        ts = T0 + timedelta(minutes=r["minute"], seconds=k % 60)
        iid = f"{feature}-{k}"
        tokens = r.get("tokens") or (None, None)
        session = r.get("session")
        inter.append({"id": iid, "ts": ts, "feature": feature, "version": r["version"],
                      "input": "q", "output": "a", "latency_ms": r["latency_ms"],
                      "error": r["error"], "tokens_in": tokens[0], "tokens_out": tokens[1],
                      "session_id": None if session is None else f"{feature}-s{session}",
                      "metadata": {"model": r["model"]} if r.get("model") else {}})  # fmt: skip
        if r["fb"] is not None:
            fb.append({"interaction_id": iid, "ts": ts + timedelta(seconds=5),
                       "accepted": r["fb"], "dwell_ms": r["dwell_ms"]})  # fmt: skip
    store.add_interactions(inter)
    store.add_feedback(fb)


def _close(rolled: UsageFigures, exact: UsageFigures) -> None:
    """Counts identical; every percentile within REL_ERROR * (exact + 1)."""
    assert (rolled.n, rolled.errors, rolled.accepted, rolled.rejected, rolled.feedback_n) == (
        exact.n,
        exact.errors,
        exact.accepted,
        exact.rejected,
        exact.feedback_n,
    )
    assert rolled.error_rate == exact.error_rate and rolled.acceptance == exact.acceptance
    pairs = [(rolled.latency[k], exact.latency[k]) for k in exact.latency]
    for r, e in [*pairs, (rolled.dwell_p50, exact.dwell_p50)]:
        assert r.n == e.n
        if e.value is None:
            assert r.value is None
            continue
        assert r.value is not None
        assert abs(r.value - e.value) <= REL_ERROR * (e.value + 1) * (1 + 1e-9) + 1e-9


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(interaction, min_size=0, max_size=60), windows=st.lists(window, max_size=4))
def test_rollup_figures_match_exact(
    store: Store, rows: list[dict[str, Any]], windows: list[tuple[Any, ...]]
) -> None:
    feature = f"feat{next(_feature_ids)}"
    _write(store, feature, rows)
    for lo, hi, version in [(None, None, None), *windows]:
        since = None if lo is None else T0 + timedelta(minutes=lo)
        until = None if hi is None else T0 + timedelta(minutes=hi)
        kw: dict[str, Any] = {"feature": feature, "version": version}
        kw.update(since=since, until=until)
        exact = usage_figures(store, exact=True, **kw)
        rolled = usage_figures(store, **kw)
        assert rolled.method == "rollups" and exact.method == "exact"
        _close(rolled, exact)
        rep = usage_report(store, **kw)  # the report's overall slice: the same rows
        assert rep.overall.n == exact.n and rep.overall.judged == exact.acceptance.n
        _same_cost_and_abandonment(store, kw)


def _abandonment(rep: UsageReport) -> dict[str, Any]:
    """Every slice's abandonment (overall, by version, by day)."""
    rep.metrics()  # loads the abandonment rows
    slices = {"overall": rep.overall}
    slices.update({f"v:{k}": v for k, v in rep.by_version.items()})
    slices.update({f"d:{k}": v for k, v in rep.by_day.items()})
    return {k: (v.abandon.k, v.abandon.n) for k, v in slices.items() if v.abandon.n}


def _same_cost_and_abandonment(store: Store, kw: dict[str, Any]) -> None:
    """Tokens, money and abandonment read from the rollups (migration 0016) are the raw
    rows' exactly: identical sums, identical floats, identical per-session counts."""
    for prices in (PRICES, {}):
        rolled_cost = usage_cost(store, prices, **kw).to_json()
        exact_cost = usage_cost(store, prices, exact=True, **kw).to_json()
        assert rolled_cost == exact_cost
    rolled_rep, exact_rep = usage_report(store, **kw), usage_report(store, exact=True, **kw)
    assert _abandonment(rolled_rep) == _abandonment(exact_rep)
    assert _counts(rolled_rep) == _counts(exact_rep)  # daily and hourly rollups, edges
    if kw["version"] is None:  # the dashboard's interactions per day and version
        f = Filters(kw["feature"], None, kw["since"], kw["until"])
        raw: dict[tuple[str, str], list[int]] = {}
        for v, d, _b, n, e in Queries(store).interactions(f):
            cur = raw.setdefault((str(d), str(v)), [0, 0])
            cur[0], cur[1] = cur[0] + int(n), cur[1] + int(e or 0)
        days = daily_counts(store, kw["feature"], kw["since"], kw["until"])
        assert days is not None
        assert {(r["day"], r["version"]): [r["n"], r["errors"]] for r in days} == raw


def _counts(rep: UsageReport) -> dict[str, tuple[int, ...]]:
    """Every slice's counts (by version, by day), with the latency and dwell sample sizes."""
    slices = {f"v:{k}": v for k, v in rep.by_version.items()}
    slices.update({f"d:{k}": v for k, v in rep.by_day.items()})
    return {
        k: (
            v.n,
            v.errors,
            v.feedback_n,
            v.accepted,
            v.rejected,
            v.edited,
            sum(v.latency.values()),
            sum(v.dwell.values()),
        )  # fmt: skip
        for k, v in slices.items()
        if v.n or v.feedback_n
    }


def _rows(n: int, start: datetime, step: timedelta) -> list[dict[str, Any]]:
    return [
        {
            "id": f"i{start:%d%H%M}-{k}",
            "ts": start + k * step,
            "feature": "f",
            "version": "v1",
            "input": "q",
            "output": "a",
            "latency_ms": 100.0 + k,
            "error": "E" if k % 10 == 0 else None,
        }  # fmt: skip
        for k in range(n)
    ]


def test_late_rows_and_feedback_before_its_interaction_are_counted(store: Store) -> None:
    store.add_interactions(_rows(30, T0, timedelta(minutes=3)))
    assert usage_figures(store, feature="f").n == 30
    # feedback first, its interaction later: both land in the already rolled-up hour
    fb = {"id": "fb-late", "interaction_id": "late", "ts": T0, "dwell_ms": 9}
    store.add_feedback([{**fb, "accepted": False}])
    late = {**_rows(1, T0, timedelta(0))[0], "id": "late", "latency_ms": 50_000.0}
    store.add_interactions([late])
    rolled, exact = usage_figures(store, feature="f"), usage_figures(store, feature="f", exact=True)
    assert rolled.n == 31 and rolled.rejected == 1 and rolled.dwell_p50.value is not None
    _close(rolled, exact)
    # an updated feedback record (upsert) moves the counts too
    store.add_feedback([{**fb, "accepted": True}])
    again = usage_figures(store, feature="f")
    assert (again.accepted, again.rejected) == (1, 0)
    assert refresh_rollups(store) == 0  # readers left nothing dirty


def test_rollups_survive_prune_and_the_gate_reads_them(store: Store) -> None:
    store.add_interactions(_rows(48, T0, timedelta(hours=1)))  # two days, one per hour
    store.add_feedback(
        [
            {
                "interaction_id": f"i{T0:%d%H%M}-{k}",
                "ts": T0,
                "accepted": k % 3 > 0,
                "dwell_ms": 1000.0 + k,
            }
            for k in range(48)
        ]  # fmt: skip
    )
    day1: dict[str, Any] = {"feature": "f", "since": T0, "until": T0 + timedelta(days=1)}
    before = usage_figures(store, **day1)
    res = prune(store, T0 + timedelta(days=1))
    assert res.interactions == 24 and res.feedback == 24
    assert usage_figures(store, exact=True, **day1).n == 0  # the raw rows are gone
    after = usage_figures(store, **day1)
    assert after == before and after.n == 24 and after.accepted == 16
    # new raw rows later on do not disturb the pruned hours' rollups
    store.add_interactions(_rows(5, T0 + timedelta(days=3), timedelta(minutes=1)))
    assert usage_figures(store, **day1) == before
    assert usage_figures(store, feature="f").n == 48 + 5
    # the gate's usage metrics read the same rollups for the pruned period
    rep = usage_report(store, **day1)
    assert rep.metric("usage.volume").value == 24
    assert rep.metric("usage.acceptance_rate").n == 24


def test_a_later_interaction_of_the_session_reopens_its_rejection(store: Store) -> None:
    """A rejection ends its session until anything else of the session arrives, hours later
    and of another feature: the refresh of that later hour sets the flag again."""
    base = {"input": "q", "output": "a", "version": "v1", "session_id": "S"}
    store.add_interactions(
        [{**base, "id": "a1", "ts": T0 + timedelta(minutes=70), "feature": "fa"}]
    )
    store.add_feedback(
        [{"interaction_id": "a1", "ts": T0 + timedelta(minutes=71), "accepted": False}]
    )
    day: dict[str, Any] = {"feature": "fa", "since": T0, "until": T0 + timedelta(days=1)}
    first = usage_report(store, **day).metric("usage.abandonment_rate")
    assert (first.value, first.n) == (1.0, 1)
    store.add_interactions([{**base, "id": "b1", "ts": T0 + timedelta(hours=5), "feature": "fb"}])
    again = usage_report(store, **day).metric("usage.abandonment_rate")
    exact = usage_report(store, exact=True, **day).metric("usage.abandonment_rate")
    assert (again.value, again.n) == (exact.value, exact.n) == (0.0, 1)
    with store.engine.connect() as conn:  # read from the rollup, and the rollup says so
        ended = conn.execute(sa.text("SELECT ended FROM rollup_rejections")).scalars().all()
    assert ended == [0]


def test_token_and_rejection_rollups_survive_prune(store: Store) -> None:
    rows = _rows(48, T0, timedelta(hours=1))
    for k, r in enumerate(rows):
        r.update(tokens_in=100 + k, tokens_out=10, metadata={"model": "small"}, session_id=f"s{k}")
    store.add_interactions(rows)
    store.add_feedback(
        [
            {"interaction_id": r["id"], "ts": r["ts"], "accepted": k % 4 > 0}
            for k, r in enumerate(rows)
        ]
    )
    day1: dict[str, Any] = {"feature": "f", "since": T0, "until": T0 + timedelta(days=1)}
    cost = usage_cost(store, PRICES, **day1).to_json()
    abandon = usage_report(store, **day1).metric("usage.abandonment_rate")
    assert cost["calls"] == 24 and cost["tokens_in"] == sum(100 + k for k in range(24))
    assert (abandon.value, abandon.n) == (1.0, 6)
    prune(store, T0 + timedelta(days=1))
    assert usage_cost(store, PRICES, exact=True, **day1).calls == 0  # the raw rows are gone
    assert usage_cost(store, PRICES, **day1).to_json() == cost
    after = usage_report(store, **day1).metric("usage.abandonment_rate")
    assert (after.value, after.n) == (1.0, 6)


def test_a_bulk_import_of_many_hours_reopens_older_rejections(store: Store) -> None:
    """A refresh of more hours than a session re-check covers (a bulk import) probes the
    rows that still end their session instead: the same flags as the raw rows."""
    base = {"input": "q", "output": "a", "version": "v1", "feature": "f"}
    store.add_interactions([{**base, "id": "r1", "ts": T0, "session_id": "A"},
                            {**base, "id": "r2", "ts": T0, "session_id": "B"}])  # fmt: skip
    store.add_feedback([{"interaction_id": i, "ts": T0, "accepted": False} for i in ("r1", "r2")])
    week: dict[str, Any] = {"feature": "f", "since": T0, "until": T0 + timedelta(days=7)}
    assert usage_report(store, **week).metric("usage.abandonment_rate").value == 1.0
    bulk = [{**base, "id": f"b{k}", "ts": T0 + timedelta(hours=2 + k), "session_id": f"x{k}"}
            for k in range(100)]  # fmt: skip
    bulk[70]["session_id"] = "A"  # session A goes on, three days later; B does not
    store.add_interactions(bulk)
    rolled = usage_report(store, **week).metric("usage.abandonment_rate")
    exact = usage_report(store, exact=True, **week).metric("usage.abandonment_rate")
    assert (rolled.value, rolled.n) == (exact.value, exact.n) == (0.5, 2)
