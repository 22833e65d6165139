"""``pilotgate serve --workers 2`` on one store: a kill -9 of one worker loses no acknowledged
record, stores none twice, and the other worker keeps serving; keys and rollups hold across
workers. Plus the plan's ``store.retention_days`` applied by the server's upkeep."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from tests.conftest import free_port

from pilotgate._web._serve import Upkeep
from pilotgate.collector import create_key
from pilotgate.plan import load_plan
from pilotgate.store import Store
from pilotgate.usage import usage_figures

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def _post(port: int, key: str, records: list[dict[str, Any]]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/v1/ingest", body=json.dumps(records),
                     headers={"Content-Type": "application/json",
                              "Authorization": f"Bearer {key}"})  # fmt: skip
        resp = conn.getresponse()
        resp.read()
        return int(resp.status)
    except OSError:
        return 0  # connection reset / refused: not acknowledged
    finally:
        conn.close()


def _workers(parent: int) -> list[int]:
    """The uvicorn worker processes (spawned children) of the serve process."""
    out = []
    for child in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
        cmd = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"spawn_main" in cmd:
            out.append(int(child))
    return out


def _wait_ready(port: int, proc: subprocess.Popen[bytes], parent: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", "/health")
            if conn.getresponse().status == 200 and len(_workers(parent)) == 2:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.3)
    raise AssertionError("the server did not start")


def _batch(b: int) -> list[dict[str, Any]]:
    return [
        {
            "kind": "interaction",
            "id": f"b{b}-{j}",
            "feature": "f",
            "version": "v1",
            "ts": (T0 + timedelta(minutes=b, seconds=j)).isoformat(),
            "input": "q",
            "output": "a",
            "latency_ms": 100.0 + j,
        }  # fmt: skip
        for j in range(20)
    ]


def test_kill_9_of_one_worker_loses_no_acknowledged_record(store_url: str, tmp_path: Path) -> None:
    if store_url.startswith("sqlite"):
        pytest.skip("several collectors share one PostgreSQL")
    with Store(store_url) as store:
        key, _ = create_key(store, "proj")
    port = free_port()
    exe = Path(sys.executable).with_name("pilotgate")
    proc = subprocess.Popen(
        [str(exe), "serve", "--workers", "2", "--port", str(port), "--store", store_url,
         "--no-redact"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        cwd=tmp_path, env={k: v for k, v in os.environ.items() if k != "PILOTGATE_PLAN"},
    )  # fmt: skip
    acked: set[str] = set()
    try:
        _wait_ready(port, proc, proc.pid)
        victims = _workers(proc.pid)
        after_kill = 0
        for b in range(60):
            if b == 20:
                os.kill(victims[0], signal.SIGKILL)  # mid-stream, no goodbye
            ids = {r["id"] for r in _batch(b)}
            for _attempt in range(50):  # the SDK's behaviour: retry until acknowledged
                if _post(port, key, _batch(b)) == 200:
                    acked |= ids
                    after_kill += b >= 20
                    break
                time.sleep(0.1)
        assert after_kill == 40, "the surviving worker stopped serving"
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    with Store(store_url) as store, store.engine.connect() as conn:
        stored = [str(r[0]) for r in conn.execute(text("SELECT id FROM interactions"))]
        assert len(stored) == len(set(stored)), "a record was stored twice"
        assert set(stored) == acked and len(acked) == 60 * 20
        figs = usage_figures(store, feature="f")  # rollups kept by every worker's writes
        assert figs.n == 1200 and figs.method == "rollups"
        assert figs == usage_figures(store, feature="f", exact=False)


def test_retention_days_is_applied_by_the_upkeep(store: Store, tmp_path: Path) -> None:
    plan_path = tmp_path / "pilotgate.toml"
    plan_path.write_text(
        '[feature]\nname = "f"\nversion = "v1"\n[store]\nretention_days = 10\n', encoding="utf-8"
    )
    now = T0 + timedelta(days=30)
    store.add_interactions(
        [
            {
                "id": f"i{d}",
                "ts": T0 + timedelta(days=d),
                "feature": feat,
                "version": "v1",
                "input": "q",
                "output": "a",
            }
            for d in range(30)
            for feat in ("f",)
        ]  # fmt: skip
        + [{"id": "other", "ts": T0, "feature": "g", "input": "q", "output": "a"}]
    )
    upkeep = Upkeep(store, load_plan(plan_path))
    res = upkeep.tick(now)
    assert res is not None and res["interactions"] == 20 and res["feature"] == "f"
    left = {str(r["id"]) for r in store.interactions()}
    assert left == {f"i{d}" for d in range(20, 30)} | {"other"}  # the plan's feature only
    assert upkeep.tick(now + timedelta(hours=1)) is None  # once a day
    assert usage_figures(store, feature="f").n == 30  # the rollups keep the pruned days
    assert upkeep.tick(now + timedelta(days=1, seconds=1)) is not None
