"""`pilotgate demo` wall time against its budget: < 180 s on 2 cores.

Runs the real command in a fresh directory and prints each step's time. The machine's load
average is printed too: on a shared machine the figure is an upper bound.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

BUDGET_S = 180.0


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "pilotgate", "demo", "--dir", f"{tmp}/demo"],
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "120"},
        )
        wall = time.perf_counter() - t0
        report = os.path.exists(f"{tmp}/demo/report.html")
    print(proc.stdout[-3000:])
    load = os.getloadavg()[0]
    ok = proc.returncode == 0 and report and wall < BUDGET_S
    print(
        f"pilotgate demo: {wall:.1f} s (budget < {BUDGET_S:.0f} s), report written: {report}, "
        f"exit {proc.returncode}, load average {load:.1f} -> {'OK' if ok else 'MISS'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
