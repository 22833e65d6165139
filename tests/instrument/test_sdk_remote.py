"""Remote mode against a loopback ingest server: auth, 413 splits, outages, spill and replay."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tests.instrument.sdk_ingest_server import IngestServer

from pilotgate import instrument as pg
from pilotgate.instrument._config import SDKSettings


def remote(srv: IngestServer, tmp_path: Path, **kw: Any) -> dict[str, Any]:
    opts: dict[str, Any] = {
        "collector": srv.url,
        "api_key": srv.key,
        "spill_dir": str(tmp_path / "spill"),
        "retry_initial_s": 0.05,
        "retry_max_s": 0.2,
        "flush_interval_s": 0.05,
    }
    opts.update(kw)
    return pg.configure(**opts)


@pg.track(feature="remote-f", version="v1")
def answer(question: str) -> str:
    return question[::-1]


def wait_for(cond: Any, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, pg.stats()
        time.sleep(0.02)


def test_records_reach_the_collector_with_the_key(
    ingest_server: IngestServer, tmp_path: Path
) -> None:
    remote(ingest_server, tmp_path)
    ids = []
    for i in range(50):
        answer(f"q{i}")
    with pg.track(feature="cm") as t:
        t.input, t.output = "in", "out"
    ids.append(t.id)
    assert pg.flush(10)
    st = pg.stats()
    assert (st["sent"], st["spilled"], st["dropped"], st["backend_up"]) == (51, 0, 0, True)
    assert len(ingest_server.ids()) == 51 and t.id in ingest_server.ids()
    assert set(ingest_server.statuses) == {200}


def test_wrong_key_spills_then_the_right_key_replays(
    ingest_server: IngestServer, tmp_path: Path
) -> None:
    remote(ingest_server, tmp_path, api_key="wrong")
    for i in range(20):
        answer(f"q{i}")
    assert not pg.flush(1)
    st = pg.stats()
    assert st["spilled"] == 20 and st["sent"] == 0 and "api_key" in st["last_error"]
    assert ingest_server.ids() == [] and 401 in ingest_server.statuses
    remote(ingest_server, tmp_path)  # fixed key, same spill directory
    wait_for(lambda: len(ingest_server.ids()) == 20)
    # the counter moves once the answer is read, just after the server committed
    wait_for(lambda: pg.stats()["replayed"] == 20)


def test_outage_spills_and_replays_exactly_once(
    ingest_server: IngestServer, tmp_path: Path
) -> None:
    ingest_server.status = 503
    remote(ingest_server, tmp_path, batch_size=100)
    for i in range(1000):
        answer(f"q{i}")
    assert not pg.flush(1)
    st = pg.stats()
    assert st["spilled"] == 1000 and st["backend_up"] is False and st["spill_bytes"] > 0
    ingest_server.status = None  # the collector is back
    wait_for(lambda: pg.stats()["replayed"] == 1000)
    for i in range(10):  # live traffic after the outage
        answer(f"after{i}")
    assert pg.flush(5)
    ids = ingest_server.ids()
    assert len(ids) == len(set(ids)) == 1010
    st = pg.stats()
    assert st["spill_files"] == 0 and st["spill_bytes"] == 0 and st["dropped"] == 0


def test_too_large_batches_are_split(tmp_path: Path) -> None:
    srv = IngestServer(tmp_path / "c.db", max_bytes=20_000)
    try:
        remote(srv, tmp_path, batch_size=1000)
        for i in range(600):
            answer(f"question number {i} " * 3)
        assert pg.flush(10)
        assert len(srv.ids()) == 600 and 413 in srv.statuses
        assert pg.stats()["dropped"] == 0
    finally:
        srv.close()


def test_batches_are_split_below_max_batch_bytes_before_sending(tmp_path: Path) -> None:
    """The SDK never sends a body larger than it was told the collector accepts."""
    srv = IngestServer(tmp_path / "c.db", max_bytes=20_000)
    try:
        remote(srv, tmp_path, batch_size=1000, max_batch_bytes=19_000)
        for i in range(600):
            answer(f"question number {i} " * 3)
        assert pg.flush(10)
        assert len(srv.ids()) == 600
        assert set(srv.statuses) == {200}  # no 413: split before sending
        assert pg.stats()["dropped"] == 0
    finally:
        srv.close()


def test_records_the_collector_rejects_are_counted(
    ingest_server: IngestServer, tmp_path: Path
) -> None:
    remote(ingest_server, tmp_path)
    answer("q")
    pg.feedback("some-id", accepted=True, dwell_ms=-5)  # invalid: dwell_ms >= 0
    assert pg.flush(5)
    st = pg.stats()
    assert (st["sent"], st["rejected"], st["dropped"]) == (1, 1, 1)


def test_spill_cap_counts_drops(tmp_path: Path, closed_port: int) -> None:
    pg.configure(
        collector=f"http://127.0.0.1:{closed_port}",
        spill_dir=str(tmp_path / "spill"),
        spill_max_bytes=20_000,
        batch_size=50,
    )
    for i in range(1000):
        answer(f"q{i}")
    pg.flush(1)
    st = pg.stats()
    assert st["spilled"] > 0 and st["dropped_spill_full"] > 0
    assert st["spilled"] + st["dropped_spill_full"] == st["captured"] == 1000
    assert st["spill_bytes"] <= 20_000
    assert sum(p.stat().st_size for p in (tmp_path / "spill").rglob("*.jsonl")) <= 20_000


def test_full_buffer_counts_drops(tmp_path: Path, closed_port: int) -> None:
    pg.configure(
        collector=f"http://127.0.0.1:{closed_port}",
        spill_dir=str(tmp_path / "spill"),
        buffer_size=10,
        batch_size=1000,
        flush_interval_s=30,
    )
    for i in range(100):
        answer(f"q{i}")
    st = pg.stats()
    assert (st["pending"], st["dropped_buffer_full"]) == (10, 90)


def test_orphan_spill_files_are_replayed_and_corrupt_lines_skipped(
    ingest_server: IngestServer, tmp_path: Path
) -> None:
    spill = SDKSettings(collector=ingest_server.url, spill_dir=str(tmp_path / "spill")).spill_path()
    spill.mkdir(parents=True)
    rec = {"kind": "interaction", "ts": "2026-01-01T00:00:00+00:00", "feature": "old", "input": "i"}
    good = json.dumps([{**rec, "id": f"old-{i}"} for i in range(3)])
    (spill / "spill-deadbeef0000-0001.jsonl").write_text(good + "\n" + good[:40])  # crash mid-line
    remote(ingest_server, tmp_path)
    wait_for(lambda: len(ingest_server.ids()) == 3)
    wait_for(lambda: pg.stats()["spill_files"] == 0)
    assert pg.stats()["spill_corrupt_lines"] == 1
    assert not list(spill.glob("*.jsonl"))


def test_exit_deadline_leaves_unsent_records_in_the_spill(
    ingest_server: IngestServer, tmp_path: Path
) -> None:
    ingest_server.hang_s = 3.0  # accepts the connection, answers too late
    remote(ingest_server, tmp_path, flush_interval_s=30, timeout_s=10)
    for i in range(30):
        answer(f"q{i}")
    t0 = time.monotonic()
    assert pg.shutdown(0.5) is False
    # not a speed check: it returned at its deadline, well before the server's 3 s answer
    assert time.monotonic() - t0 < 2.5
    spilled = list(Path(tmp_path / "spill").rglob("*.jsonl"))
    lines = [json.loads(line) for p in spilled for line in p.read_text().splitlines()]
    assert sum(len(batch) for batch in lines) == 30  # redacted records, a JSON array a line
    ingest_server.hang_s = 0.0
    remote(ingest_server, tmp_path)  # the next start replays them
    wait_for(lambda: len(ingest_server.ids()) == 30)


def test_wrong_collector_path_keeps_the_data(ingest_server: IngestServer, tmp_path: Path) -> None:
    pg.configure(
        collector=ingest_server.url + "/not-here",
        api_key=ingest_server.key,
        spill_dir=str(tmp_path / "spill"),
    )
    answer("q")
    assert not pg.flush(1)
    st = pg.stats()
    assert st["spilled"] == 1 and st["dropped"] == 0 and "collector URL" in st["last_error"]


def test_otlp_export_round_trips_through_the_genai_span_mapping(
    ingest_server: IngestServer, tmp_path: Path
) -> None:
    from pilotgate.ingest import otlp_json_records

    remote(ingest_server, tmp_path, otlp_endpoint=ingest_server.url + "/v1/traces")
    with pg.session("s-1", "u-1"), pg.track(feature="otlp-f", version="v2") as t:
        t.input = [{"role": "user", "content": "hello"}]
        t.output = "hi there"
        t.tokens_in, t.tokens_out = 3, 2
        t.metadata["model"] = "m-1"
    pg.feedback(t.id, accepted=True)  # not a span
    assert pg.flush(5)
    assert pg.stats()["otlp_sent"] == 1 and pg.stats()["otlp_failed"] == 0
    (doc,) = ingest_server.traces
    ((_, rec),) = list(otlp_json_records(doc))
    assert rec is not None
    assert (rec["feature"], rec["version"], rec["session_id"], rec["user_id"]) == (
        "otlp-f",
        "v2",
        "s-1",
        "u-1",
    )
    assert rec["input"] == [{"role": "user", "content": "hello"}]
    assert (rec["output"], rec["tokens_in"], rec["tokens_out"]) == ("hi there", 3, 2)
    assert rec["metadata"]["model"] == "m-1" and rec["latency_ms"] is not None


def test_otlp_endpoint_down_is_counted_and_does_not_block(
    ingest_server: IngestServer, tmp_path: Path, closed_port: int
) -> None:
    remote(ingest_server, tmp_path, otlp_endpoint=f"http://127.0.0.1:{closed_port}/v1/traces")
    for i in range(20):
        answer(f"q{i}")
    assert pg.flush(5)
    st = pg.stats()
    assert st["sent"] == 20 and st["otlp_failed"] == 20 and st["otlp_sent"] == 0
