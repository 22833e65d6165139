"""Eval runs: response cache, resume after a crash or a kill, summary, rate limits."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from pilotgate.errors import ConfigError, InputError
from pilotgate.evaluate import EVAL_SCHEMA, RateGate, arun_eval, run_eval
from pilotgate.store import Store
from pilotgate.targets import resolve_target

HERE = Path(__file__).parent
CALLS = {"n": 0}
_LOCK = threading.Lock()


def counting(text: str) -> str:
    """The feature under test: right on 'card' requests, wrong on the rest."""
    with _LOCK:
        CALLS["n"] += 1
    return "[intent=card] done" if "card" in text else "[intent=loans] hmm"


def slow_counting(text: str) -> str:
    time.sleep(0.03)
    return counting(text)


def _cases(n: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"c{i:03d}",
            "input": f"{'my card' if i % 4 else 'a loan'} question {i}",
            "expected": "card",
            "tags": ["even" if i % 2 == 0 else "odd"],
            "cluster": f"k{i % 3}",
        }
        for i in range(n)
    ]


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/eval.db"


def test_unchanged_rerun_makes_zero_target_calls(db: str) -> None:
    cases = _cases(24)
    before = CALLS["n"]
    first = run_eval("python:test_eval_run:counting", cases, ["label"], store=db, concurrency=4)
    assert first.calls == 24 and CALLS["n"] - before == 24
    again = run_eval("python:test_eval_run:counting", cases, ["label"], store=db, concurrency=4)
    assert again.calls == 0 and again.cache_hits == 24
    assert CALLS["n"] - before == 24  # not one more call
    assert again.run_id != first.run_id
    assert again.document["scorers"]["label"]["mean"] == first.document["scorers"]["label"]["mean"]
    # a changed input is a miss, the rest still hit
    cases[0]["input"] = "my card is new"
    third = run_eval("python:test_eval_run:counting", cases, ["label"], store=db)
    assert (third.calls, third.cache_hits) == (1, 23)
    # --no-cache calls everything again; a different version does not share the cache
    fresh = run_eval("python:test_eval_run:counting", cases, ["label"], store=db, use_cache=False)
    assert fresh.calls == 24
    other = run_eval("python:test_eval_run:counting", cases, ["label"], store=db, version="v2")
    assert other.calls == 24


class _Crash(Exception):
    pass


def test_run_interrupted_midway_resumes_without_redoing_finished_cases(db: str) -> None:
    cases = _cases(40)
    before = CALLS["n"]

    def crash_at_15(done: int, total: int) -> None:
        if done >= 15:
            raise _Crash

    with pytest.raises(_Crash):
        run_eval(
            "python:test_eval_run:counting",
            cases,
            ["label"],
            store=db,
            concurrency=3,
            progress=crash_at_15,
            name="crashy",
        )
    with Store(db) as st:
        run = st.latest_run("eval", name="crashy", status="interrupted")
        assert run is not None
        finished = st.result_ids(run["id"])
    assert 15 <= len(finished) < 40
    first_calls = CALLS["n"] - before
    resumed = run_eval(
        "python:test_eval_run:counting", cases, ["label"], store=db, resume=run["id"]
    )
    assert resumed.run_id == run["id"]
    assert resumed.skipped == len(finished)
    assert resumed.calls == 40 - len(finished)  # only the missing ones
    assert CALLS["n"] - before == first_calls + 40 - len(finished)
    assert resumed.document["status"] == "ok" and resumed.document["n_cases"] == 40
    with Store(db) as st:
        assert st.get_run(run["id"])["status"] == "ok"
        assert len(st.result_ids(run["id"])) == 40


@pytest.mark.slow
def test_killed_subprocess_resumes_without_redoing_stored_cases(db: str, tmp_path: Path) -> None:
    cases = _cases(60)
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in cases))
    script = (
        "from pilotgate.evaluate import run_eval\n"
        f"run_eval('python:test_eval_run:slow_counting', {str(path)!r}, ['label'],"
        f" store={db!r}, concurrency=2, name='killed')\n"
    )
    Store(db).close()  # migrate first: two processes migrating at once collide
    env = {**os.environ, "PYTHONPATH": f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    stored: set[str] = set()
    run_id = None
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(stored) < 16:
            time.sleep(0.1)
            with Store(db) as st:
                run = st.latest_run("eval", name="killed", status="running")
                if run is not None:
                    run_id = run["id"]
                    stored = st.result_ids(run_id)
        assert proc.poll() is None, "the run finished before it could be killed"
    finally:
        proc.kill()
        proc.wait(10)
    assert run_id is not None and 16 <= len(stored) < 60
    with Store(db) as st:
        stored = st.result_ids(run_id)  # whatever made it to disk before the kill
    before = CALLS["n"]
    resumed = run_eval(
        "python:test_eval_run:slow_counting", path, ["label"], store=db, resume=run_id
    )
    # only the cases not on disk are called again
    assert resumed.calls == 60 - len(stored) == CALLS["n"] - before
    assert resumed.document["n_cases"] == 60


def test_document_has_scorer_tag_and_cluster_intervals(db: str, tmp_path: Path) -> None:
    out = run_eval(
        "python:test_eval_run:counting",
        _cases(40),
        ["label", "contains:case_sensitive=false", "contains"],
        store=db,
        name="doc",
        feature="support",
        version="v1",
    )
    doc = out.document
    assert doc["schema"] == EVAL_SCHEMA and doc["status"] == "ok"
    assert set(doc["scorers"]) == {"label", "contains", "contains#2"}
    label = doc["scorers"]["label"]
    assert label["n"] == 40 and label["passed"] == 30 and label["method"] == "wilson"
    lo, hi = label["ci95"]
    assert lo < 0.75 < hi
    assert set(doc["by_tag"]) == {"even", "odd"}
    assert doc["by_tag"]["even"]["n"] == 20 and doc["by_tag"]["even"]["label"]["mean"] == 0.5
    assert doc["by_tag"]["odd"]["label"]["mean"] == 1.0
    assert set(doc["by_cluster"]) == {"k0", "k1", "k2"}
    with Store(db) as st:
        run = st.get_run(out.run_id)
        assert run["kind"] == "eval" and run["summary"] == json.loads(json.dumps(doc))
        assert run["version"] == "v1" and run["feature"] == "support"
        rows = st.run_results(out.run_id)
    assert len(rows) == 40 and rows[0]["scores"]["label"]["passed"] in (True, False)


def test_bad_inputs_are_one_line_errors(db: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least one scorer"):
        run_eval("python:test_eval_run:counting", _cases(2), [], store=db)
    with pytest.raises(ConfigError, match="no option"):
        run_eval("python:test_eval_run:counting", _cases(2), ["label:nope=1"], store=db)
    with pytest.raises(ConfigError, match="judge scorer needs a target"):  # not a group
        run_eval("python:test_eval_run:counting", _cases(4), ["judge"], store=db)
    with pytest.raises(InputError, match="duplicate case id"):
        run_eval("python:test_eval_run:counting", _cases(2) * 2, ["label"], store=db)
    with pytest.raises(InputError, match="no eval set"):
        run_eval("python:test_eval_run:counting", None, ["label"], store=db, eval_set="nope@2")
    done = run_eval("python:test_eval_run:counting", _cases(3), ["label"], store=db)
    with pytest.raises(ConfigError, match="different target"):
        run_eval("python:test_eval_run:slow_counting", _cases(3), ["label"], store=db,
                 resume=done.run_id)  # fmt: skip


def test_eval_set_from_store(db: str) -> None:
    with Store(db) as st:
        st.save_eval_set("prod", _cases(10))
        st.save_eval_set("prod", _cases(6))
    out = run_eval("python:test_eval_run:counting", None, ["label"], store=db, eval_set="prod@1")
    assert out.document["cases"] == {"kind": "eval_set", "ref": "prod@1"}
    assert out.document["n_cases"] == 10


# ------------------------------------------------------------------ rate limits
class _Limited:
    """A loopback JSON service that answers 429 (retry-after-ms) to its first ``n`` calls."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.seen = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.seen += 1
        if self.seen <= self.n:
            return web.json_response(
                {"error": "slow down"}, status=429, headers={"retry-after-ms": "20"}
            )
        label = "card" if "card" in body["input"] else "loans"
        return web.json_response({"output": f"[intent={label}] ok"})


@pytest.fixture
async def limited() -> AsyncIterator[tuple[str, _Limited]]:
    svc = _Limited(6)
    app = web.Application()
    app.router.add_post("/answer", svc.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    assert isinstance(site._server, asyncio.Server)
    port = site._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/answer", svc
    await runner.cleanup()


@pytest.mark.parametrize("retries", [3, 0])
async def test_429s_are_retried_and_pause_all_workers(
    limited: tuple[str, _Limited], db: str, retries: int
) -> None:
    url, svc = limited
    target = resolve_target(f"http:{url}", response_path="output", retries=retries)
    gate = RateGate(base_pause_s=0.05, pile_up=3)
    out = await arun_eval(target, _cases(12), ["label"], store=db, concurrency=4, gate=gate)
    await target.aclose()
    doc = out.document
    assert doc["n_errors"] == 0 and doc["n_cases"] == 12  # every case answered in the end
    assert doc["scorers"]["label"]["passed"] == 9
    assert svc.seen == 12 + 6  # the six 429s were each retried once, nothing more
    assert gate.signals >= 6 and gate.pauses >= 1
    assert doc["rate_limit"]["pauses"] == gate.pauses


def test_inputs_without_clusters_are_clustered_on_request(db: str) -> None:
    topics = {
        "card": "my credit card was blocked at the shop",
        "loan": "personal loan interest rate for five years",
        "app": "mobile banking app login keeps crashing",
    }
    cases = [
        {"id": f"{t}{i}", "input": f"{text} {i}", "expected": "card"}
        for t, text in topics.items()
        for i in range(8)
    ]
    cases.append({"id": "own", "input": "card", "expected": "card", "cluster": "mine"})
    out = run_eval(
        "python:test_eval_run:counting",
        cases,
        ["label"],
        store=db,
        clusters=3,
        embedder="lexical",
    )
    by_cluster = out.document["by_cluster"]
    assert by_cluster["mine"]["n"] == 1
    groups = {name: g for name, g in by_cluster.items() if name != "mine"}
    assert sorted(g["n"] for g in groups.values()) == [8, 8, 8]
    card = next(name for name in groups if "card" in name or "blocked" in name)
    assert groups[card]["label"]["mean"] == 1.0  # the feature only gets card requests right
    assert all(g["label"]["mean"] == 0.0 for name, g in groups.items() if name != card)
    again = run_eval(
        "python:test_eval_run:counting", cases, ["label"], store=db, clusters=3,
        embedder="lexical",
    )  # fmt: skip
    assert again.document["by_cluster"] == by_cluster  # seeded: same clusters, same names
