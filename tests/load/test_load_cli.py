"""`pilotgate load` and `pilotgate load merge` end to end, against the simulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pilotgate._cli import main
from pilotgate.simulator import Dist, SimulatorProfile, run_in_thread
from pilotgate.store import Store


def _run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    profile = SimulatorProfile(
        ttft_ms=Dist.constant(10), token_ms=Dist.constant(1), output_tokens=Dist.constant(4),
        capacity=3,
    )  # fmt: skip
    with run_in_thread(profile, seed=0) as sim:
        yield f"openai:{sim.url}/v1"


def test_expected_runs_1x_2x_3x_and_finds_the_knee(sim_url: str, tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    store = f"sqlite:///{tmp_path / 'store.db'}"
    argv = ["load", "-t", sim_url, "--model", "m", "--expected", "2", "-d", "1.5",
            "--slo-ms", "60", "--json", str(out),
            "--store", store, "--name", "rehearsal"]  # fmt: skip
    assert _run(argv) == 0
    doc = json.loads(out.read_text())
    # ONE stored run whose summary is the multi-level document (the gate reads "@3x").
    with Store(store) as st:
        runs = st.list_runs("load")
    assert len(runs) == 1
    run = runs[0]
    assert (run["name"], run["target"], run["status"]) == ("rehearsal", sim_url, "ok")
    assert run["summary"] == doc
    assert [lv["label"] for lv in run["summary"]["levels"]] == ["1x", "2x", "3x"]
    assert run["params"]["labels"] == ["1x", "2x", "3x"] and run["params"]["expected"] == 2
    assert doc["schema"] == "pilotgate.load/1"
    assert [lv["label"] for lv in doc["levels"]] == ["1x", "2x", "3x"]
    assert [lv["load"]["concurrency"] for lv in doc["levels"]] == [2, 4, 6]
    for key in ("requests", "latency_ms", "throughput", "schedule", "timeline", "slo"):
        assert key in doc
    for block in ("e2e", "service", "ttft", "itl"):
        assert set(doc["latency_ms"][block]) >= {"p50", "p90", "p95", "p99", "p999", "max", "mean"}
    assert set(doc["requests"]) >= {"sent", "ok", "failed", "by_status", "retries", "timeouts"}
    # Capacity 3: at 6 users half of them queue at the server. An answer takes >= 13 ms
    # (10 ms TTFT + 3 gaps of 1 ms), so 3 at a time serve <= 3/13 per ms, and by Little's
    # law 6 users wait >= 6 x 13 / 3 = 26 ms on average (a bit less as the run winds down).
    assert doc["levels"][2]["latency_ms"]["e2e"]["mean"] >= 20
    assert doc["levels"][0]["latency_ms"]["e2e"]["p50"] >= 13
    assert doc["knee"] is None or doc["knee"]["label"] in ("1x", "2x", "3x")
    assert len(doc["curve"]) == 3
    assert "samples" not in doc


def test_shards_merge_through_the_cli(sim_url: str, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'store.db'}"
    paths = []
    for k in (1, 2):
        p = tmp_path / f"shard{k}.json"
        argv = ["load", "-t", sim_url, "--model", "m", "--rate", "40", "-d", "0.5",
                "--shard", f"{k}/2", "--json", str(p), "--store", store]  # fmt: skip
        assert _run(argv) == 0
        paths.append(str(p))
    with Store(store) as st:
        assert st.list_runs("load") == []  # shards are not runs of their own
    out = tmp_path / "merged.json"
    assert _run(["load", "merge", *paths, "--json", str(out), "--store", store]) == 0
    doc = json.loads(out.read_text())
    with Store(store) as st:
        (run,) = st.list_runs("load")
    assert "samples" not in run["summary"] and run["summary"]["requests"] == doc["requests"]
    assert run["params"]["merged_from"] == paths
    shard_docs = [json.loads(Path(p).read_text()) for p in paths]
    assert doc["requests"]["sent"] == 20 == sum(d["requests"]["sent"] for d in shard_docs)
    assert doc["config"]["shard"] == {"index": 0, "count": 1}
    assert doc["merged_from"] == paths


def test_bad_usage_exits_2(
    sim_url: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./pilotgate.toml to supply a default profile
    monkeypatch.setenv("PILOTGATE_STORE", f"sqlite:///{tmp_path / 'store.db'}")
    assert _run(["load", "-t", sim_url, "--model", "m", "-d", "1"]) == 2
    assert "--concurrency" in capsys.readouterr().err
    assert _run(["load", "-t", "openai:http://example.com/v1", "--model", "m", "-r", "1"]) == 2
    err = capsys.readouterr().err
    assert "estimate" in err and "--yes" in err
    assert _run(["load", "-t", sim_url, "--model", "m", "-c", "1", "--shard", "3/2"]) == 2


def test_credentials_in_the_target_url_stay_out_of_the_document_and_store(
    sim_url: str, tmp_path: Path
) -> None:
    spec = sim_url.replace("http://", "http://user:sk-sekret@")
    out = tmp_path / "load.json"
    store = f"sqlite:///{tmp_path / 'store.db'}"
    # 2 s (capped at 3 requests) so a starved event loop still sends before the run ends
    argv = ["load", "-t", spec, "--model", "m", "-c", "1", "-d", "2", "--max-requests", "3",
            "--json", str(out), "--store", store]  # fmt: skip
    assert _run(argv) == 0
    doc = json.loads(out.read_text())
    assert doc["requests"]["ok"] > 0  # the run itself went through
    assert doc["target"] == sim_url.removeprefix("openai:") + "/chat/completions"
    with Store(store) as st:
        (run,) = st.list_runs("load")
    assert run["target"] == sim_url
    assert "sk-sekret" not in json.dumps(run, default=str) + out.read_text()
