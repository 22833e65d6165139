"""Fork safety under repetition: a process that forks workers right after ``configure()``.

Each run starts a fresh interpreter that configures the SDK in local-store mode, forks three
workers at once (while the exporter thread may still be opening the store), records one call
in each process and flushes. A run passes when all four calls are stored exactly once. The
budget is every run passing (200 of 200 by default): a race that fails 1 run in 50 fails this.

    .venv/bin/python benchmarks/fork_stress.py [--runs 200]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCENARIO = """
import os, sys
import pilotgate as pg
pg.configure(store="sqlite:///x.db", spill_dir="spill")

@pg.track(feature="fork")
def who(q):
    return q

pids = []
for k in range(3):
    pid = os.fork()
    if pid == 0:
        who(f"child-{k}")
        os._exit(0 if pg.flush(20) else 1)
    pids.append(pid)
who("parent")
codes = [os.waitpid(p, 0)[1] for p in pids]
sys.exit(0 if pg.flush(20) and codes == [0, 0, 0] else 1)
"""


def one_run(work: Path) -> str | None:
    """None when the run stored every call exactly once, else what went wrong."""
    for name in ("x.db", "x.db-wal", "x.db-shm"):
        (work / name).unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", SCENARIO], cwd=work, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        return f"exit {done.returncode}: {done.stderr.strip()[-300:]}"
    from pilotgate.store import Store

    with Store(f"sqlite:///{work}/x.db") as s:
        inputs = sorted(str(x["input"]) for x in s.interactions())
    if inputs != ["child-0", "child-1", "child-2", "parent"]:
        return f"stored {inputs}"
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()
    failures: list[str] = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.runs):
            problem = one_run(Path(tmp))
            if problem:
                failures.append(f"run {k}: {problem}")
    took = time.perf_counter() - t0
    load = os.getloadavg()[0]
    passed = args.runs - len(failures)
    print(f"fork right after configure(): {passed} of {args.runs} runs stored every call "
          f"exactly once ({took:.0f} s, load average {load:.1f}); budget: all")  # fmt: skip
    for line in failures[:10]:
        print("  " + line)
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
