"""Signals kept current and never silently stale: concurrent refreshers count each
interaction once, ``serve``'s upkeep refreshes them, and ``pilotgate usage`` says how
current the signals it prints are (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from pilotgate._cli import cli
from pilotgate._web._serve import Upkeep
from pilotgate.plan import SignalsSection, load_plan
from pilotgate.signals import freshness, refresh_signals
from pilotgate.store import Store
from pilotgate.store import tables as t

T0 = datetime(2025, 3, 3, 9, tzinfo=UTC)


def _rows(users: range, *, prefix: str = "", feature: str = "f") -> list[dict[str, Any]]:
    """Per user: a question, then (odd users) the same question reworded 20 s later."""
    rows = []
    for u in users:
        base = T0 + timedelta(hours=u)
        rows.append({"id": f"{prefix}a{u}", "ts": base.isoformat(), "feature": feature,
                     "version": "v1", "session_id": f"{prefix}s{u}", "user_id": f"u{u}",
                     "input": f"how do I close account number {u}", "output": "ok"})  # fmt: skip
        if u % 2:
            rows.append({"id": f"{prefix}b{u}", "ts": (base + timedelta(seconds=20)).isoformat(),
                         "feature": feature, "version": "v1", "session_id": f"{prefix}s{u}",
                         "user_id": f"u{u}", "input": f"how do I close account number {u} ??",
                         "output": "ok"})  # fmt: skip
    return rows


def _daily(store: Store, feature: str = "f") -> dict[tuple[str, str], Any]:
    sd = t.signal_daily.c
    with store.engine.connect() as conn:
        q = select(sd.version, sd.day, sd.counts).where(sd.feature == feature)
        return {(str(v), str(d)): c for v, d, c in conn.execute(q)}


def test_concurrent_refreshes_count_each_interaction_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pilotgate.signals._refresh as refresh_mod

    store.add_interactions(_rows(range(30)))
    refresh_signals(store, "f")
    store.add_interactions(_rows(range(30, 60)))
    # both refreshers compute from the same state before either writes: a real race
    barrier = threading.Barrier(2, timeout=60)
    waited: set[int] = set()
    compute = refresh_mod._compute

    def racing(*args: Any, **kwargs: Any) -> Any:
        out = compute(*args, **kwargs)
        if threading.get_ident() not in waited:
            waited.add(threading.get_ident())
            barrier.wait()
        return out

    monkeypatch.setattr(refresh_mod, "_compute", racing)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            refresh_signals(store, "f")
        except BaseException as exc:  # collected: a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors, errors
    monkeypatch.setattr(refresh_mod, "_compute", compute)
    raced = _daily(store)
    assert sum(int(c["n"]) for c in raced.values()) == 90  # 60 questions + 30 rewordings
    refresh_signals(store, "f", rebuild=True)
    assert raced == _daily(store)  # the same as one refresher computing everything
    assert freshness(store, "f").behind == 0


def test_usage_says_how_current_the_signals_are(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    with Store(url) as store:
        store.add_interactions(_rows(range(20)))
    out = tmp_path / "u.json"
    args = ["usage", "--feature", "f", "--store", url, "--json", str(out)]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert "signals: every interaction stored up to" in res.output
    assert "refreshed now (30 rows recomputed" in res.output
    fresh = json.loads(out.read_text())["silent_users"]["freshness"]
    assert fresh["behind"] == 0 and fresh["up_to"] and fresh["refreshed_at"]
    with Store(url) as store:
        store.add_interactions(_rows(range(20, 30), prefix="late-"))
    # as built: the figures leave the late rows out, and the output says so
    res = CliRunner().invoke(cli, [*args, "--no-signals-refresh"])
    assert res.exit_code == 0, res.output
    assert "15 interactions stored since are not in them" in res.output
    doc = json.loads(out.read_text())["silent_users"]
    assert doc["refresh"] is None and doc["freshness"]["behind"] == 15
    assert doc["overall"]["n"] == 30
    # the default brings them up to date first
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())["silent_users"]
    assert doc["freshness"]["behind"] == 0 and doc["overall"]["n"] == 45
    assert "not in them" not in res.output


def test_usage_without_built_signals_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    with Store(url) as store:
        store.add_interactions(_rows(range(4)))
    res = CliRunner().invoke(
        cli, ["usage", "--feature", "f", "--store", url, "--no-signals-refresh"]
    )
    assert res.exit_code == 0, res.output
    assert "signals: none built yet" in res.output


def test_upkeep_keeps_the_plans_signals_current(store: Store, tmp_path: Path) -> None:
    plan_path = tmp_path / "plan.toml"
    plan_path.write_text('[feature]\nname = "f"\nversion = "v1"\n', encoding="utf-8")
    store.add_interactions(_rows(range(10)))
    store.add_interactions(_rows(range(4), prefix="g-", feature="g"))
    other = SignalsSection(rephrase_window_s=30)  # feature g, built with other settings
    refresh_signals(store, "g", other)
    g_state = freshness(store, "g")
    upkeep = Upkeep(store, load_plan(plan_path), signals_every=30)
    now = datetime.now(UTC)
    upkeep.tick(now)  # the plan's feature: built the first time by the upkeep
    assert freshness(store, "f").behind == 0
    assert sum(int(c["n"]) for c in _daily(store).values()) == 15
    store.add_interactions(_rows(range(10, 20), prefix="late-"))
    upkeep.tick(now + timedelta(seconds=10))  # not due yet
    assert freshness(store, "f").behind == 15
    upkeep.tick(now + timedelta(seconds=31))
    assert freshness(store, "f").behind == 0
    assert sum(int(c["n"]) for c in _daily(store).values()) == 30
    assert freshness(store, "g") == g_state  # left to its readers
