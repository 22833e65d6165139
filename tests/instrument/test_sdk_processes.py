"""Real processes: an instrumented app against ``pilotgate serve`` that dies and comes back.

These show the SDK's promises end to end: with the collector down the app's memory stays
bounded and it exits within its deadline, leaving the unsent records in its spill file;
after the collector returns they are all stored exactly once; and a ``kill -9`` of the
collector mid-stream loses no acknowledged interaction and stores none twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.instrument.sdk_processes import App, Collector, free_port

from pilotgate.collector import create_key
from pilotgate.store import Store

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[tuple[Collector, str, Store]]:
    url = f"sqlite:///{tmp_path}/collector.db"
    store = Store(url)
    key, _ = create_key(store, "sdk-tests")
    col = Collector(url, free_port(), tmp_path / "collector.log")
    yield col, key, store
    col.stop()
    store.close()


def expected_ids(prefix: str, n: int) -> set[str]:
    return {prefix + format(k, "x") for k in range(1, n + 1)}


def stored_ids(store: Store, prefix: str) -> list[str]:
    ids = [r["id"] for r in store.iter_interactions(columns=["id"])]
    return [i for i in ids if i.startswith(prefix)]


def app_settings(col: Collector, key: str, tmp_path: Path) -> dict[str, object]:
    return {
        "collector": col.url,
        "api_key": key,
        "spill_dir": str(tmp_path / "spill"),
        "retry_initial_s": 0.05,
        "retry_max_s": 0.5,
    }


def test_collector_down_100k_calls_bounded_exit_then_exactly_once(
    collector: tuple[Collector, str, Store], tmp_path: Path
) -> None:
    col, key, store = collector
    col.start()
    app = App(tmp_path, app_settings(col, key, tmp_path))
    try:
        first = app.call(op="calls", n=1000)
        assert app.call(op="flush", timeout=20)["ok"] is True
        col.kill()  # the collector goes away mid-pilot
        down = app.call(op="calls", n=100_000)
        exit_s = app.exit_seconds()
    finally:
        app.kill()
    print(
        f"100k calls with the collector down: {down['s']:.2f} s; peak in-memory buffer "
        f"{down['peak_pending']}; max RSS {down['rss_mb']:.0f} MB; exit took {exit_s:.2f} s"
    )
    st = down["stats"]
    assert st["dropped"] == 0 and st["errors"] >= 1 and st["backend_up"] is False
    assert down["rss_mb"] < 400  # bounded: the buffer drains to the spill file
    assert exit_s < 3.0  # budget 1 s (exit_deadline_s); generous for a shared CI machine
    spilled = list((tmp_path / "spill").rglob("*.jsonl"))
    assert spilled and sum(p.stat().st_size for p in spilled) > 0

    col.start()  # the collector is back; the app's next start replays the spill
    again = App(tmp_path, app_settings(col, key, tmp_path))
    try:
        drained = again.call(op="drain", timeout=90)
        assert again.exit_seconds() < 3.0
    finally:
        again.kill()
    assert drained["stats"]["spill_files"] == 0, drained
    ids = stored_ids(store, first["prefix"])
    assert len(ids) == len(set(ids)) == 101_000
    assert set(ids) == expected_ids(first["prefix"], 101_000)
    assert not list((tmp_path / "spill").rglob("*.jsonl"))


def test_kill_9_of_the_collector_mid_stream_loses_nothing_stores_nothing_twice(
    collector: tuple[Collector, str, Store], tmp_path: Path
) -> None:
    col, key, store = collector
    col.start()
    settings = {**app_settings(col, key, tmp_path), "flush_interval_s": 0.05, "batch_size": 200}
    app = App(tmp_path, settings)
    try:
        # 10k interactions paced over ~2 s; the collector is killed and restarted meanwhile
        app.send(op="calls", n=10_000, pause_every=100, pause_s=0.02)
        deadline_rows = 0
        import time

        end = time.monotonic() + 20
        while deadline_rows == 0 and time.monotonic() < end:
            deadline_rows = store.count()
            time.sleep(0.05)
        assert deadline_rows > 0, "nothing acknowledged before the kill"
        col.kill()
        acked_before_kill = store.count()
        time.sleep(0.5)
        col.start()
        done = app.read()
        flushed = app.call(op="flush", timeout=60)
        assert app.exit_seconds() < 3.0
    finally:
        app.kill()
    assert flushed["ok"] is True, flushed
    st = flushed["stats"]
    assert st["send_failures"] >= 1 and st["dropped"] == 0
    ids = stored_ids(store, done["prefix"])
    assert len(ids) == len(set(ids)) == 10_000 >= acked_before_kill
    assert set(ids) == expected_ids(done["prefix"], 10_000)
    assert st["sent"] >= 10_000  # acknowledged at least once each (some twice after the kill)
