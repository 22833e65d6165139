"""Retention: what a prune leaves is exactly what the rule keeps, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from pilotgate._cli import cli
from pilotgate.records import Case
from pilotgate.store import Store, prune

T0 = datetime(2026, 5, 1, tzinfo=UTC)
CUT = T0 + timedelta(days=10)


def _fill(store: Store) -> None:
    """20 days, two features; sessions of 'a' span the cut on day 9-10."""
    inter, fb, steps = [], [], []
    for day in range(20):
        for feat in ("a", "b"):
            iid = f"{feat}{day}"
            sid = f"s-{feat}-{day // 2}"  # two days per session: s-a-4 holds days 8 and 9
            ts = T0 + timedelta(days=day, hours=1)
            inter.append({"id": iid, "ts": ts, "feature": feat, "version": "v1",
                          "session_id": sid, "input": f"q {iid}", "output": "a"})  # fmt: skip
            fb.append({"interaction_id": iid, "ts": ts + timedelta(minutes=1), "accepted": True})
            steps.append({"session_id": sid, "ts": ts, "name": f"opened-{iid}"})
    fb.append({"interaction_id": "ghost", "ts": T0, "accepted": False, "comment": "orphan"})
    store.add_interactions(inter)
    store.add_feedback(fb)
    store.add_steps(steps)


def _ids(store: Store) -> set[str]:
    return {str(r["id"]) for r in store.interactions()}


def test_prune_everything_before_a_date(store: Store) -> None:
    _fill(store)
    dry = prune(store, CUT, dry_run=True)
    assert _ids(store) == {f"{f}{d}" for f in "ab" for d in range(20)}  # nothing deleted
    res = prune(store, CUT)
    assert (dry.interactions, dry.feedback, dry.steps) == (
        res.interactions,
        res.feedback,
        res.steps,
    )
    assert _ids(store) == {f"{f}{d}" for f in "ab" for d in range(10, 20)}
    assert res.interactions == 20 and res.feedback == 21 and res.steps == 20  # 21: the orphan
    fb_ids = {str(r["interaction_id"]) for r in store.feedback()}
    assert fb_ids == {f"{f}{d}" for f in "ab" for d in range(10, 20)}
    assert {str(r["name"]) for r in store.steps()} == {
        f"opened-{f}{d}" for f in "ab" for d in range(10, 20)
    }


def test_prune_one_feature_keeps_sessions_still_alive(store: Store) -> None:
    _fill(store)
    dry = prune(store, CUT - timedelta(days=1), feature="a", dry_run=True)
    res = prune(store, CUT - timedelta(days=1), feature="a")
    assert (dry.interactions, dry.feedback, dry.steps) == (
        res.interactions,
        res.feedback,
        res.steps,
    )
    assert _ids(store) == {f"a{d}" for d in range(9, 20)} | {f"b{d}" for d in range(20)}
    names = {str(r["name"]) for r in store.steps()}
    # s-a-4 (days 8, 9) keeps a9, so its day-8 step stays; s-a-0..3 lost every interaction
    assert "opened-a8" in names and "opened-a7" not in names and "opened-a0" not in names
    assert {f"opened-b{d}" for d in range(20)} <= names  # the other feature untouched
    assert res.steps == 8  # days 0-7 of feature a
    assert any(str(r["interaction_id"]) == "ghost" for r in store.feedback())  # not its feature


def test_keep_cases_keeps_the_interactions_cases_came_from(store: Store) -> None:
    _fill(store)
    cases = [Case(id="a3", input="q a3", source="production", origin={"interaction_id": "a3"})]
    store.save_eval_set("prod", [c.model_dump() for c in cases])
    res = prune(store, CUT, keep_cases=True)
    assert res.kept_for_cases == 1
    assert "a3" in _ids(store) and "a2" not in _ids(store)
    assert any(str(r["interaction_id"]) == "a3" for r in store.feedback())
    _, kept_cases = store.get_eval_set("prod")
    assert [c["id"] for c in kept_cases] == ["a3"]  # eval sets are never pruned


def test_store_prune_cli(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/p.db"
    with Store(url) as s:
        _fill(s)
    out = tmp_path / "prune.json"
    res = CliRunner().invoke(
        cli, ["store", "prune", "--before", "2026-05-11", "--store", url, "--json", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "deleted 20 interactions" in res.output
    doc = json.loads(out.read_text())
    assert doc["schema"] == "pilotgate.store-prune/1" and doc["interactions"] == 20
    bad = CliRunner().invoke(cli, ["store", "prune", "--before", "last week", "--store", url])
    assert bad.exit_code != 0
