"""Retention: what a prune leaves is exactly what the rule keeps, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import event

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


def _random_store(store: Store, seed: int) -> None:
    """Seeded: three features, sessions shared across features and across the cut, steps
    with and without a stored session, feedback naming stored ids and ghosts."""
    rng = random.Random(seed)
    inter, fb, steps = [], [], []
    for k in range(300):
        iid = f"i{k}"
        ts = T0 + timedelta(hours=rng.randrange(0, 20 * 24))
        inter.append({"id": iid, "ts": ts, "feature": rng.choice("abc"), "version": "v1",
                      "session_id": rng.choice([None, f"s{rng.randrange(60)}"]),
                      "input": f"q {iid}", "output": "a"})  # fmt: skip
        for _ in range(rng.randrange(3)):
            fts = ts + timedelta(minutes=rng.randrange(1, 3000))
            fb.append({"interaction_id": iid, "ts": fts, "accepted": rng.random() < 0.5})
    for k in range(40):
        fts = T0 + timedelta(hours=rng.randrange(0, 20 * 24))
        fb.append({"interaction_id": f"ghost{k}", "ts": fts, "accepted": False})
    for k in range(200):
        sid = f"s{rng.randrange(70)}"  # s60..s69 name no interaction
        steps.append({"session_id": sid, "ts": T0 + timedelta(hours=rng.randrange(0, 480)),
                      "name": f"step{k}"})  # fmt: skip
    store.add_interactions(inter)
    store.add_feedback(fb)
    store.add_steps(steps)


def _expected(
    store: Store, cut: datetime, feature: str | None, kept: set[str]
) -> tuple[set[str], set[str], set[str]]:
    """The retention rule, in Python: (interactions, feedback, steps) ids that remain."""
    inter = list(store.interactions())
    covered = {str(r["id"]) for r in inter
               if r["ts"] < cut and (feature is None or r["feature"] == feature)}  # fmt: skip
    doomed = covered - kept
    ids = {str(r["id"]) for r in inter}
    fb_left = set()
    for r in store.feedback():
        iid = str(r["interaction_id"])
        orphan_gone = feature is None and iid not in ids and r["ts"] < cut
        if iid not in doomed and not orphan_gone:
            fb_left.add(str(r["id"]))
    by_session: dict[str, set[str]] = {}
    for r in inter:
        if r["session_id"] is not None:
            by_session.setdefault(str(r["session_id"]), set()).add(str(r["id"]))
    steps_left = set()
    for r in store.steps():
        sid = str(r["session_id"])
        if r["ts"] >= cut:
            steps_left.add(str(r["id"]))
        elif feature is not None:
            mine = by_session.get(sid, set())
            if not (mine & doomed) or mine - doomed:  # untouched, or still alive
                steps_left.add(str(r["id"]))
    return ids - doomed, fb_left, steps_left


@pytest.mark.parametrize(("seed", "feature"), [(1, None), (2, "a"), (3, "b"), (4, None)])
def test_prune_leaves_exactly_what_the_rule_keeps(
    store: Store, seed: int, feature: str | None
) -> None:
    _random_store(store, seed)
    rng = random.Random(seed)
    cut = T0 + timedelta(days=rng.randrange(3, 17), hours=rng.randrange(24))
    kept = {f"i{rng.randrange(300)}" for _ in range(25)}
    cases = [Case(id=f"c{x}", input="q", source="production", origin={"interaction_id": x})
             for x in sorted(kept)]  # fmt: skip
    store.save_eval_set("prod", [c.model_dump() for c in cases])
    want_i, want_f, want_s = _expected(store, cut, feature, kept)
    n_i, n_f, n_s = (
        len(list(store.interactions())),
        len(list(store.feedback())),
        len(list(store.steps())),
    )
    dry = prune(store, cut, feature=feature, keep_cases=True, dry_run=True)
    res = prune(store, cut, feature=feature, keep_cases=True)
    assert dry.to_json() | {"dry_run": True} == res.to_json() | {"dry_run": True}
    assert {str(r["id"]) for r in store.interactions()} == want_i
    assert {str(r["id"]) for r in store.feedback()} == want_f
    assert {str(r["id"]) for r in store.steps()} == want_s
    assert (res.interactions, res.feedback, res.steps) == (
        n_i - len(want_i), n_f - len(want_f), n_s - len(want_s)
    )  # fmt: skip
    assert res.interactions > 0 and res.kept_for_cases > 0  # the seeds exercise both


def test_prune_sends_no_row_by_row_anti_join(store: Store) -> None:
    """``NOT IN (SELECT ...)``: PostgreSQL checks it row by row against every stored id once
    the ids outgrow ``work_mem`` (a dry run at 1M interactions had not ended after 10
    minutes); the prune sends set-based statements only, and lists no ids."""
    _fill(store)
    sent: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
        sent.append(" ".join(statement.split()).upper())

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        prune(store, CUT, dry_run=True)
        prune(store, CUT, feature="a")
        prune(store, CUT)
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    assert sent and not [q for q in sent if "NOT IN (SELECT" in q or " IN (__[POSTCOMPILE" in q]
    assert not [q for q in sent if " IN (" in q and "INTERACTION_ID IN" in q]
