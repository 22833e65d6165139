"""At interpreter exit the SDK flushes by itself: an app that never calls flush loses nothing.

Within the exit deadline (1 s) records go to the store; what cannot (here: the store may
still be opening, which takes about a second on a busy machine) waits in the spill file
and is stored by the next start.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from pilotgate import instrument as pg
from pilotgate.store import Store

APP = """
import sys
from pilotgate import instrument as pg
pg.configure(store=sys.argv[1], spill_dir=sys.argv[2], flush_interval_s=60)
@pg.track(feature="exit-f")
def answer(question):
    return question.upper()
for i in range(500):
    answer("q" + str(i))
pg.step("s-1", "closed")
"""


def spilled_rows(spill: Path) -> int:
    lines = [line for p in spill.rglob("*.jsonl") for line in p.read_text().splitlines()]
    docs = [json.loads(line) for line in lines]
    # redacted records (a JSON array per line), or compact rows when redaction is off
    return sum(len(d["items"]) if isinstance(d, dict) else len(d) for d in docs)


def test_records_captured_just_before_exit_are_kept(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/exit.db"
    spill = tmp_path / "spill"
    script = tmp_path / "app.py"
    script.write_text(APP)
    done = subprocess.run(
        [sys.executable, str(script), url, str(spill)], capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr == b""  # nothing printed into the app's stderr
    with Store(url) as store:
        in_store = store.count() + len(store.steps())
    assert in_store + spilled_rows(spill) == 501
    pg.configure(store=url, spill_dir=str(spill))  # the next start replays the rest
    assert pg.flush(20), pg.stats()
    with Store(url) as store:
        assert store.count() == 500
        assert [s["name"] for s in store.steps()] == ["closed"]
    assert not list(spill.rglob("*.jsonl"))


BIG_APP = """
import json, sys, time
from pilotgate import instrument as pg
mode, url, spill, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if mode == "store":
    pg.configure(store=url, spill_dir=spill, buffer_size=1_000_000)
else:
    pg.configure(collector=url, api_key="k", spill_dir=spill, buffer_size=1_000_000,
                 spill_max_bytes=2 * 1024**3)
@pg.track(feature="exit-big")
def answer(question):
    return "answer " + question
for i in range(n):
    answer("q" * 200 + str(i))
print(json.dumps({"pending": pg.stats()["pending"]}), flush=True)
"""


def _wait_for(count: Callable[[], int], want: int, timeout: float = 120.0) -> int:
    import time

    end = time.monotonic() + timeout
    got = -1
    while time.monotonic() < end:
        got = count()
        if got >= want:
            return got
        time.sleep(0.5)
    return got


def _exit_after_calls(tmp_path: Path, mode: str, url: str, n: int) -> tuple[float, int]:
    import time

    script = tmp_path / "big_app.py"
    script.write_text(BIG_APP)
    spill = tmp_path / "spill"
    proc = subprocess.Popen(
        [sys.executable, str(script), mode, url, str(spill), str(n)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    doc = json.loads(proc.stdout.readline())
    t0 = time.monotonic()
    proc.wait(60)
    exit_s = time.monotonic() - t0
    assert proc.stderr.read() == b""
    proc.stdout.close()
    proc.stderr.close()
    return exit_s, int(doc["pending"])


def _spilled_records(spill: Path) -> int:
    total = 0
    for p in spill.rglob("*.jsonl"):
        for line in p.read_bytes().splitlines():
            try:
                doc = json.loads(line)
            except ValueError:  # the child is still writing this line
                continue
            total += len(doc["items"]) if isinstance(doc, dict) else len(doc)
    return total


def test_exit_is_prompt_whatever_is_queued_collector_down(tmp_path: Path) -> None:
    """100k calls queued with the collector down: the app exits by its deadline and every
    record ends up in the (redacted) spill, written by the hand-off child."""
    from tests.conftest import free_port

    n = 100_000
    exit_s, pending = _exit_after_calls(tmp_path, "down", f"http://127.0.0.1:{free_port()}", n)
    assert pending > 10_000  # the deadline had work to cut short
    # budget 1 s (exit_deadline_s); the bound leaves room for a loaded machine
    assert exit_s < 2.0, exit_s
    assert _wait_for(lambda: _spilled_records(tmp_path / "spill"), n) == n


def test_exit_is_prompt_whatever_is_queued_store_mode(tmp_path: Path) -> None:
    n = 100_000
    url = f"sqlite:///{tmp_path}/big.db"
    exit_s, pending = _exit_after_calls(tmp_path, "store", url, n)
    assert pending > 10_000
    assert exit_s < 2.0, exit_s

    def total() -> int:
        with Store(url) as store:
            return store.count() + _spilled_records(tmp_path / "spill")

    assert _wait_for(total, n) == n
    pg.configure(store=url, spill_dir=str(tmp_path / "spill"))  # the next start replays
    assert pg.flush(60), pg.stats()
    with Store(url) as store:
        assert store.count() == n
