"""A read key's overview of a shared store reads project-led indexes, never a whole table.

``Store.holds_only`` (is any other project here?) seeks them too (migration 0017 dropped
the single-column ``ix_*_project`` indexes of 0007 it used to read).

Every statement ``usage_overview`` runs for a read key's view (``Store.scoped``) of a store
holding two projects is captured and explained on the backend itself: on SQLite no step
may scan ``interactions`` or ``feedback`` (``SCAN`` without a search term); on PostgreSQL,
with sequential scans priced out (a small table would otherwise be read whole, as it
should), no step may be a ``Seq Scan`` of them, so each has an index to search.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from pilotgate.report import usage_overview
from pilotgate.store import Store
from pilotgate.usage import usage_figures

FEATURE = "router"
NEW_INDEXES = {
    "ix_interactions_project_volume",
    "ix_interactions_project_latency",
    "ix_interactions_project_errors",
    "ix_feedback_project_ts",
    "ix_feedback_project_dwell",
}
T0 = datetime(2026, 3, 2, tzinfo=UTC)
N = 4000
"""Rows per project: enough for PostgreSQL's planner to prefer an index it can use."""


def _fill(store: Store, projects: tuple[str, ...] = ("a", "b")) -> None:
    for project in projects:
        rows = [
            {
                "id": f"{project}{i}",
                "ts": T0 + timedelta(minutes=5 * i),
                "feature": FEATURE,
                "version": f"v{i % 2}",
                "input": "q",
                "output": "r",
                "latency_ms": 100.0 + i,
                "error": "timeout" if i % 7 == 0 else None,
            }
            for i in range(N)
        ]
        store.add_interactions(rows, project=project)
        fb = [
            {
                "id": f"f{project}{i}",
                "interaction_id": f"{project}{i}",
                "ts": T0 + timedelta(minutes=5 * i + 1),
                "accepted": i % 3 != 0,
                "dwell_ms": 1000.0 + i,
            }
            for i in range(0, N, 2)
        ]
        store.add_feedback(fb, project=project)
    if store.dialect != "sqlite":  # the planner's statistics, as autovacuum would gather
        with store.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE interactions")
            conn.exec_driver_sql("ANALYZE feedback")


def _statements(store: Store, pattern: str, run: Callable[[], Any]) -> list[tuple[str, Any]]:
    """The statements matching ``pattern`` (with their parameters) that ``run`` executes."""
    seen: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if re.search(pattern, statement):
            seen.append((statement, params))

    event.listen(store.engine, "before_cursor_execute", grab)
    try:
        run()
    finally:
        event.remove(store.engine, "before_cursor_execute", grab)
    return seen


def _captured(store: Store) -> list[tuple[str, Any]]:
    got: dict[str, Any] = {}

    def run() -> None:
        got["overview"] = usage_overview(store.scoped("a"), feature=FEATURE)

    seen = _statements(store, r"\bFROM (interactions|feedback)\b", run)
    assert got["overview"]["n"] == N  # project a's rows only
    return seen


def test_read_key_overview_searches_project_led_indexes(store_url: str) -> None:
    with Store(store_url) as store:
        _fill(store)
        statements = _captured(store)
        assert len(statements) > 10
        raw = store.engine.raw_connection()
        try:
            cur = raw.cursor()
            used: set[str] = set()
            if store.dialect != "sqlite":
                cur.execute("SET enable_seqscan = off")
            for sql, params in statements:
                if store.dialect == "sqlite":
                    cur.execute("EXPLAIN QUERY PLAN " + sql, params)
                    plan = "\n".join(str(row[-1]) for row in cur.fetchall())
                    scans = re.findall(r"^SCAN (interactions|feedback)\b.*$", plan, re.M)
                else:
                    cur.execute("EXPLAIN " + sql, params)
                    plan = "\n".join(str(row[0]) for row in cur.fetchall())
                    scans = re.findall(r"Seq Scan on (interactions|feedback)\b", plan)
                assert not scans, f"{sql}\n{plan}"
                used.update(re.findall(r"ix_\w*project_\w+", plan))
        finally:
            raw.close()
    # each index of migration 0014 serves some statement of the overview
    assert used >= NEW_INDEXES, sorted(used)


HOLDS_ONLY_INDEXES = {
    "interactions": "ix_interactions_project_volume",
    "feedback": "ix_feedback_project_ts",
}


def test_holds_only_seeks_the_project_led_indexes(store_url: str) -> None:
    """Each of the four "another project on this side?" probes of a one-project store is an
    index search that finds nothing: no table scan, on the index 0017 relies on."""
    with Store(store_url) as store:
        _fill(store, ("a",))
        seen: list[tuple[str, Any]] = []

        def grab(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
            seen.append((statement, params))

        event.listen(store.engine, "before_cursor_execute", grab)
        try:
            assert store.holds_only("a")
            assert not store.holds_only("b")
        finally:
            event.remove(store.engine, "before_cursor_execute", grab)
        probes = [
            (sql, p) for sql, p in seen if re.search(r"\bFROM (interactions|feedback)\b", sql)
        ]
        # four for "a"; one for "b" finds "a" (its first row does: a scan may rightly win)
        assert len(probes) == 5
        raw = store.engine.raw_connection()
        try:
            cur = raw.cursor()
            for sql, params in probes[:4]:
                table = re.findall(r"\bFROM (\w+)", sql)[0]
                if store.dialect == "sqlite":
                    cur.execute("EXPLAIN QUERY PLAN " + sql, params)
                    plan = "\n".join(str(row[-1]) for row in cur.fetchall())
                    want = f"SEARCH {table} USING COVERING INDEX {HOLDS_ONLY_INDEXES[table]}"
                else:  # planner statistics, no thumb on the scale: the index wins on cost
                    cur.execute("EXPLAIN " + sql, params)
                    plan = "\n".join(str(row[0]) for row in cur.fetchall())
                    want = f"Index Only Scan using {HOLDS_ONLY_INDEXES[table]} on {table}"
                assert want in plan, f"{sql}\n{plan}"
        finally:
            raw.close()


def _ordered_reads(store: Store, **kw: Any) -> list[tuple[str, Any]]:
    """The percentile window reads (``ORDER BY`` a value) of ``usage_figures(exact=True)``."""
    return _statements(
        store,
        r"ORDER BY (interactions\.latency_ms|feedback\.dwell_ms)",
        lambda: usage_figures(store, exact=True, **kw),
    )


def test_exact_percentiles_of_a_one_project_store_read_project_led_indexes(
    store_url: str,
) -> None:
    """Migration 0019 dropped the unscoped (feature, latency_ms) and (dwell_ms) indexes: an
    exact read without a project of a store holding one names that project, so a feature's
    latency and dwell windows are read in the order of a project-led index, never sorted
    (a version's or every feature's were sorted before 0019 too: no index held that order)."""
    with Store(store_url) as store:
        _fill(store, ("a",))
        # p50, p95, p99 of latency; the dwell median (v1 has no feedback: _fill's is on v0)
        for kw, n in (({"feature": FEATURE, "version": "v1"}, 3), ({}, 4)):
            reads = _ordered_reads(store, **kw)
            assert len(reads) == n and all(".project = " in sql for sql, _ in reads), kw
        reads = _ordered_reads(store, feature=FEATURE)
        assert len(reads) == 4
        raw = store.engine.raw_connection()
        try:
            cur = raw.cursor()
            if store.dialect != "sqlite":
                cur.execute("SET enable_seqscan = off")
                cur.execute("SET enable_sort = off")
            for sql, params in reads:
                prefix = "EXPLAIN QUERY PLAN " if store.dialect == "sqlite" else "EXPLAIN "
                cur.execute(prefix + sql, params)
                plan = "\n".join(str(row[-1 if store.dialect == "sqlite" else 0])
                                 for row in cur.fetchall())  # fmt: skip
                assert re.search(r"ix_(interactions|feedback)_project_(latency|dwell)", plan)
                assert "TEMP B-TREE" not in plan and "Sort" not in plan, f"{sql}\n{plan}"
        finally:
            raw.close()


def test_an_exact_read_sees_another_project_that_wrote_meanwhile(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read names the store's one project, then checks it is still the only one: a row
    another project committed during the read is counted (the figures are read again)."""
    from pilotgate.usage import _figures

    with Store(store_url) as store:
        _fill(store, ("a",))
        exact = _figures._exact
        calls: list[str | None] = []

        def racing(*a: Any) -> Any:
            calls.append(a[-1])
            got = exact(*a)
            if len(calls) == 1:
                store.add_interactions(
                    [{"id": "late", "ts": T0, "feature": FEATURE, "input": "q",
                      "latency_ms": 1.0}], project="b",
                )  # fmt: skip
            return got

        monkeypatch.setattr(_figures, "_exact", racing)
        figs = usage_figures(store, exact=True, feature=FEATURE)
        assert calls == ["a", None] and figs.n == N + 1
        calls.clear()
        usage_figures(store, exact=True, feature=FEATURE)  # two projects: never named
        assert calls == [None]
