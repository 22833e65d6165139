"""At interpreter exit the SDK flushes by itself: an app that never calls flush loses nothing.

Within the exit deadline (1 s) records go to the store; what cannot (here: the store may
still be opening, which takes about a second on a busy machine) waits in the spill file
and is stored by the next start.
"""

from __future__ import annotations

import json
import subprocess
import sys
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
