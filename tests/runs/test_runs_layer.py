"""pilotgate.runs: what a run records, how it is read back (old runs too), how one is chosen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

import pilotgate.runs as runs
from pilotgate.runs import (
    Selection,
    record_run,
    run_scope,
    safe_target,
    select_run,
    skip_reason,
)
from pilotgate.store import Store


def test_public_names() -> None:
    assert sorted(runs.__all__) == sorted(
        ["Candidate", "Picked", "RunScope", "Selection", "describe_selection", "finish_run",
         "pick_run", "plan_in_force", "record_run", "run_scope", "safe_target", "select_run",
         "skip_reason", "start_run", "using_store"]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("openai:https://bob:sk-secret@api.example/v1", "openai:https://api.example/v1"),
        ("http://h/x?api_key=sk-1&model=m", "http://h/x?api_key=***&model=m"),
        ("http://h/x?model=m&access_token=abc#f", "http://h/x?model=m&access_token=***#f"),
        ("python:pkg.mod:fn", "python:pkg.mod:fn"),
        (None, None),
    ],
)
def test_targets_are_stored_without_secrets(given: str | None, stored: str | None) -> None:
    assert safe_target(given) == stored


def test_record_run_stores_the_scope_and_reads_it_back(store_url: str) -> None:
    with Store(store_url) as store:
        rid = record_run(
            store, "shift", {"schema": "pilotgate.shift/1", "coverage": 0.8},
            [("p1", {"covered": False})],
            feature="router", version="v2", eval_set="gold@3",
            inputs={"production": "store:feature:router"},
            target="openai:http://u:pw@127.0.0.1:9/v1", params={"seed": 0}, plan_hash="abc",
        )  # fmt: skip
        run = store.get_run(rid)
        rows = store.run_results(rid)
    assert (run["feature"], run["version"], run["eval_set"]) == ("router", "v2", "gold@3")
    assert run["inputs"] == {"production": "store:feature:router"}
    assert run["target"] == "openai:http://127.0.0.1:9/v1" and run["plan_hash"] == "abc"
    assert rows == [{"item_id": "p1", "covered": False}]
    scope = run_scope(run)
    assert (scope.feature, scope.version, scope.eval_set) == ("router", "v2", "gold@3")


def test_record_run_opens_a_url_and_notes_the_plan_in_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pilotgate.plan import load_plan, plan_hash

    plan = tmp_path / "pilotgate.toml"
    plan.write_text('[feature]\nname = "router"\nversion = "v2"\n', encoding="utf-8")
    monkeypatch.setenv("PILOTGATE_PLAN", str(plan))
    url = f"sqlite:///{tmp_path}/s.db"
    rid = record_run(url, "load", {"schema": "pilotgate.load/1"}, feature="router", version="v2")
    with Store(url) as store:
        assert store.get_run(rid)["plan_hash"] == plan_hash(load_plan(plan))


def _old_store(path: Path) -> str:
    """A store at revision 0004 (before runs recorded eval sets) holding two old runs."""
    from alembic import command
    from alembic.config import Config

    from pilotgate.store._engine import MIGRATIONS

    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
        now = datetime(2026, 6, 1, tzinfo=UTC).isoformat(" ")
        for rid, kind, feature, summary in (
            ("eval-old", "eval", "router",
             '{"cases": {"kind": "eval_set", "ref": "gold@2"}, "version": "v2"}'),
            ("load-old", "load", None, '{"schema": "pilotgate.load/1"}'),
        ):  # fmt: skip
            conn.execute(
                sa.text(
                    "INSERT INTO runs (id, kind, created_at, status, feature, summary) "
                    "VALUES (:id, :kind, :ts, 'ok', :f, :s)"
                ),
                {"id": rid, "kind": kind, "ts": now, "f": feature, "s": summary},
            )
    engine.dispose()
    return url


def test_old_runs_stay_readable_and_unknown_fields_never_match(tmp_path: Path) -> None:
    with Store(_old_store(tmp_path / "old.db")) as store:  # opening migrates to head
        old_eval = store.get_run("eval-old")
        old_load = store.get_run("load-old")
    assert old_eval["eval_set"] is None and old_load["inputs"] is None
    # read from what the old run did record: its summary names the eval set and version
    scope = run_scope(old_eval)
    assert (scope.feature, scope.version, scope.eval_set) == ("router", "v2", "gold@2")
    assert skip_reason(old_eval, Selection("eval", "router", "v2", eval_set="gold")) is None
    # nothing says which feature the old load run measured: unknown, never judged
    assert run_scope(old_load).feature is None
    reason = skip_reason(old_load, Selection("load", "router", "v2"))
    assert reason == "feature unknown (not recorded)"


def _run(rid: str, hours: int, **kw: object) -> dict[str, object]:
    ts = datetime(2026, 6, 1, 12, tzinfo=UTC) - timedelta(hours=hours)
    return {"id": rid, "kind": "eval", "created_at": ts, "status": "ok", **kw}


def test_select_run_takes_the_newest_match_and_explains_the_rest() -> None:
    rows = [
        _run("a", 1, feature="other", version="v2", eval_set="gold@1"),
        _run("b", 2, feature="router", version="v1", eval_set="gold@1"),
        _run("c", 3, feature="router", version="v2", eval_set="demo@1"),
        _run("d", 4, feature="router", version="v2", eval_set="gold@2"),
        _run("e", 5, feature="router", version="v2", eval_set="gold@1"),
    ]
    sel = Selection("eval", "router", "v2", eval_set="gold")
    picked = select_run(rows, sel)
    assert picked.run is rows[3]
    reasons = {c.run_id: (c.taken, c.reason) for c in picked.candidates}
    assert reasons == {
        "a": (False, "for feature 'other'"),
        "b": (False, "for version 'v1'"),
        "c": (False, "on eval set 'demo@1'"),
        "d": (True, "newest matching run"),
        "e": (False, "older than the taken run d"),
    }
    # a pinned eval set version matches only that version
    assert select_run(rows, Selection("eval", "router", "v2", eval_set="gold@1")).run is rows[4]
    none = select_run(rows[:3], sel)
    assert none.run is None
    assert none.why_none(sel) == (
        "no eval run of feature 'router' version 'v2' on eval set 'gold'; "
        "newest eval run a is for feature 'other'"
    )
