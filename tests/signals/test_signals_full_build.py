"""The streamed full build (chunks of whole streams) writes exactly what a build holding
every row at once writes: signals, journeys, the daily rollup and the calibrated
threshold, on SQLite and PostgreSQL; incremental refreshes after it still agree."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from pilotgate.plan import SignalsSection
from pilotgate.signals import _refresh, refresh_signals
from pilotgate.store import Store
from pilotgate.store import tables as t

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
WORDS = (
    "lost card balance fees abroad close account transfer limit pin reset loan rate "
    "mortgage refund human agent please help wrong answer again"
).split()


def _fill(store: Store, seed: int, n: int = 900, start: int = 0, nobodys: bool = True) -> None:
    """Users with bursts of similar requests (rephrase candidates), user-less sessions,
    nobody's rows, empty texts, errors, feedback and copy steps."""
    rng = random.Random(seed)
    recs: list[dict[str, Any]] = []
    fb: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    for i in range(start, start + n):
        kind = rng.random()
        u = rng.randrange(40)
        user = None if kind < 0.2 else f"u{u}"
        session = None if kind < 0.05 and nobodys else f"s{start}-{rng.randrange(150)}"
        words = rng.sample(WORDS[u % 9 : u % 9 + 6], 3)  # a few topics: near rephrases
        text = "" if rng.random() < 0.05 else " ".join(words)
        if rng.random() < 0.3:
            text = text.upper() + "!"
        ts = T0 + timedelta(seconds=i * 6 + rng.randrange(5))
        recs.append({"id": f"i{i:05d}", "ts": ts.isoformat(), "feature": "f",
                     "version": "v1" if i % 3 else "v2", "session_id": session, "user_id": user,
                     "input": text, "output": f"answer {i % 7}",
                     "latency_ms": float(rng.randrange(100, 4000)),
                     "error": "Timeout" if rng.random() < 0.03 else None})  # fmt: skip
        if rng.random() < 0.2:
            fb.append({"interaction_id": f"i{i:05d}", "ts": (ts + timedelta(seconds=9)).isoformat(),
                       "accepted": rng.random() < 0.6})  # fmt: skip
        if session and rng.random() < 0.1:
            steps.append({"session_id": session, "name": "copied_answer",
                          "ts": (ts + timedelta(seconds=5)).isoformat()})  # fmt: skip
    store.add_interactions(recs)
    store.add_feedback(fb)
    if steps:
        store.add_steps(steps)


def _snapshot(store: Store) -> tuple[Any, ...]:
    sg, uj, sd, st = t.interaction_signals, t.user_journeys, t.signal_daily, t.signal_state
    with store.engine.connect() as conn:
        sigs = sorted(tuple(r) for r in conn.execute(select(sg)))
        js = sorted(tuple(r) for r in conn.execute(select(uj)))
        daily = sorted(
            (r.version, r.day, sorted(r.counts.items())) for r in conn.execute(select(sd))
        )
        threshold = conn.execute(select(st.c.threshold)).scalar_one()
    return sigs, js, daily, threshold


@pytest.fixture(autouse=True)
def _stream_on_sqlite_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_refresh, "FULL_CHUNK_SQLITE", True)


def _build(store: Store, monkeypatch: pytest.MonkeyPatch, chunk: int, cfg: SignalsSection) -> Any:
    monkeypatch.setattr(_refresh, "FULL_CHUNK_ROWS", chunk)
    stats = refresh_signals(store, "f", cfg, rebuild=True, seed=3)
    assert stats.full
    return _snapshot(store)


@pytest.mark.parametrize("cfg", [SignalsSection(), SignalsSection(similarity_threshold=0.7)])
def test_chunked_full_build_equals_the_in_memory_build(
    store: Store, monkeypatch: pytest.MonkeyPatch, cfg: SignalsSection
) -> None:
    _fill(store, seed=11)
    whole = _build(store, monkeypatch, 0, cfg)
    sigs, js, daily, threshold = whole
    assert len(sigs) == 900 and len(js) == 40 and daily
    assert any(s[11] == 1 for s in sigs)  # some rephrases: the threshold mattered
    if cfg.similarity_threshold is None:
        assert 0.5 <= threshold < 1.0  # calibrated on null pairs, not the no-pairs 1.01
    for chunk in (3, 50, 1_000_000):
        assert _build(store, monkeypatch, chunk, cfg) == whole


def test_incremental_after_a_chunked_build_equals_a_rebuild(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = SignalsSection(similarity_threshold=0.7)  # a rebuild would calibrate on more rows
    # rows of nobody (no user, no session) are left out: an incremental refresh does not
    # pick them up (before this change too; see the note of branch sigmem)
    _fill(store, seed=5, n=400, nobodys=False)
    monkeypatch.setattr(_refresh, "FULL_CHUNK_ROWS", 7)
    assert refresh_signals(store, "f", cfg, seed=3).full
    _fill(store, seed=6, n=300, start=400, nobodys=False)
    assert not refresh_signals(store, "f", cfg, seed=3).full
    incremental = _snapshot(store)
    rebuilt = _build(store, monkeypatch, 7, cfg)
    assert rebuilt[:3] == incremental[:3]


def test_sqlite_builds_in_memory_by_default(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite keeps the in-memory build (its write lock is taken only to write);
    PostgreSQL streams."""
    monkeypatch.setattr(_refresh, "FULL_CHUNK_SQLITE", False)
    streamed: list[bool] = []
    real = _refresh._full_build

    def spy(*args: Any, **kwargs: Any) -> Any:
        streamed.append(True)
        return real(*args, **kwargs)

    monkeypatch.setattr(_refresh, "_full_build", spy)
    _fill(store, seed=2, n=200)
    assert refresh_signals(store, "f", SignalsSection(similarity_threshold=0.7), seed=3).full
    assert streamed == ([] if store.dialect == "sqlite" else [True])


@pytest.mark.parametrize("chunk", [0, 50])
def test_a_full_build_leaves_planner_statistics_on_postgresql(
    store: Store, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a full build (in memory or streamed) the signal tables are analysed: the
    planner does not take 20k journeys for an empty table and scan them per lookup."""
    if store.dialect != "postgresql":
        pytest.skip("planner statistics: PostgreSQL's")
    monkeypatch.setattr(_refresh, "FULL_CHUNK_ROWS", chunk)
    _fill(store, 3)
    assert refresh_signals(store, "f", SignalsSection(similarity="lexical")).full
    with store.engine.connect() as conn:
        analysed: dict[str, bool] = dict(
            conn.exec_driver_sql(
                "SELECT relname, last_analyze IS NOT NULL FROM pg_stat_user_tables "
                "WHERE schemaname = current_schema() AND relname IN "
                "('interaction_signals', 'user_journeys', 'signal_daily')"
            ).all()
        )
    assert analysed == {"interaction_signals": True, "user_journeys": True, "signal_daily": True}
