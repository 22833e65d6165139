"""A sync ``python:`` target under load runs in a pool sized from the requested users.

The must-show of issue 18: 24 users of a sync feature calling the simulator (capacity 32)
put 24 requests in flight at the simulator, read from the simulator's own ``/stats``
(asyncio's default executor would cap them at ``cpus + 4``). The feature module sits in
the current directory and is imported without ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from pilotgate._cli import main
from pilotgate.simulator import Dist, SimulatorProfile, run_in_thread

_FEATURE = """
import json, os, urllib.request

def answer(text):
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": str(text)}]})
    req = urllib.request.Request(
        os.environ["PG_TEST_SIM_URL"] + "/v1/chat/completions", data=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())["choices"][0]["message"]["content"]
"""


def _run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def _stats(url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{url}/stats", timeout=10) as resp:
        stats: dict[str, int] = json.loads(resp.read())
        return stats


@pytest.fixture()
def feature_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> str:
    name = f"pg_feature_{request.node.name[-12:].replace('[', '_').replace(']', '_')}"
    (tmp_path / f"{name}.py").write_text(_FEATURE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return name


def test_24_users_put_24_requests_in_flight_at_the_simulator(
    feature_dir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = SimulatorProfile(
        ttft_ms=Dist.constant(400), token_ms=Dist.constant(1), output_tokens=Dist.constant(3),
        capacity=32,
    )  # fmt: skip
    with run_in_thread(profile, seed=0) as sim:
        monkeypatch.setenv("PG_TEST_SIM_URL", sim.url)
        out = tmp_path / "load.json"
        argv = ["load", "-t", f"python:{feature_dir}:answer", "-c", "24", "-d", "2.5",
                "--retries", "0", "--json", str(out), "--no-store"]  # fmt: skip
        assert _run(argv) == 0
        stats = _stats(sim.url)
    assert stats["in_flight_max"] == 24
    doc = json.loads(out.read_text())
    assert doc["requests"]["ok"] >= 24 and doc["requests"]["failed"] == 0
    harness = doc["harness"]
    assert harness["pool"] == "threads" and harness["workers"] == 24
    assert harness["requested"] == 24 and harness["peak_running"] == 24
    assert harness["limited"] is False and doc["warnings"] == []


def test_a_pool_smaller_than_the_users_is_reported_as_the_harness_limit(
    feature_dir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = SimulatorProfile(
        ttft_ms=Dist.constant(200), token_ms=Dist.constant(1), output_tokens=Dist.constant(3),
        capacity=32,
    )  # fmt: skip
    with run_in_thread(profile, seed=0) as sim:
        monkeypatch.setenv("PG_TEST_SIM_URL", sim.url)
        out = tmp_path / "load.json"
        argv = ["load", "-t", f"python:{feature_dir}:answer", "-c", "12", "-d", "1.5",
                "--python-workers", "4", "--retries", "0", "--json", str(out),
                "--no-store"]  # fmt: skip
        assert _run(argv) == 0
        stats = _stats(sim.url)
    assert stats["in_flight_max"] == 4
    doc = json.loads(out.read_text())
    harness = doc["harness"]
    assert harness["workers"] == 4 and harness["requested"] == 12
    assert harness["peak_inflight"] == 12 and harness["peak_running"] == 4
    assert harness["limited"] is True
    assert len(doc["warnings"]) == 1 and "--python-workers" in doc["warnings"][0]


def test_process_pool_runs_the_feature_in_worker_processes(
    feature_dir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = SimulatorProfile(
        ttft_ms=Dist.constant(100), token_ms=Dist.constant(1), output_tokens=Dist.constant(3),
        capacity=32,
    )  # fmt: skip
    with run_in_thread(profile, seed=0) as sim:
        monkeypatch.setenv("PG_TEST_SIM_URL", sim.url)
        monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # spawned workers start elsewhere
        out = tmp_path / "load.json"
        argv = ["load", "-t", f"python:{feature_dir}:answer", "-c", "3", "-d", "2",
                "--python-pool", "processes", "--retries", "0", "--json", str(out),
                "--no-store"]  # fmt: skip
        assert _run(argv) == 0
        stats = _stats(sim.url)
    doc = json.loads(out.read_text())
    assert doc["harness"]["pool"] == "processes" and doc["harness"]["workers"] == 3
    assert doc["requests"]["ok"] >= 3 and doc["requests"]["failed"] == 0
    assert stats["completions"] == doc["requests"]["ok"]
