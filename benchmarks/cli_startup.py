"""CLI start-up: what a ``pilotgate`` call costs before and around its real work.

Runs ``usage --help``, ``gate --help``, ``usage`` and ``gate`` (a small SQLite store,
``_small_store.py``: 2,000 interactions, 1,000 feedback, one feature and version, a plan
with two usage criteria) as
subprocesses, in N interleaved rounds after one warm-up call, and prints the median wall
time and the median CPU time (user + system, from the children's rusage). On so small a
store the commands' own work is a few tens of milliseconds: the figures are mostly Python
start-up and imports. Exit 1 when a command's median CPU misses its budget.

The anchor beside them is ``python -c "import click, pydantic, rich.console, rich.table,
sqlalchemy"``: the libraries a store command cannot do without; ``- anchor`` is what
pilotgate adds to them (its own modules, SQLAlchemy's PostgreSQL dialect that the schema's
partial indexes load, the command's work).

Budgets (median CPU): what the commands measured after issue 17's import cuts on this
2-core machine shared with other jobs (load average 4-5: ``--help`` 0.05-0.06 s, ``usage``
0.47-0.52 s, ``gate`` 0.47-0.50 s; before the cuts ``usage`` and ``gate`` read 0.56 s in the
same conditions), plus ~20 %: ``--help`` 0.12 s, ``usage`` 0.60 s, ``gate`` 0.60 s. On a
busier machine scale them (``--budget-scale``); ``tests/cli/test_cli_import_weight.py`` is
the exact guard of what the commands import.

    .venv/bin/python benchmarks/cli_startup.py [--n 7] [--budget-scale 1.0]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _small_store import small_store  # this folder (tests/cli/test_cli_import_weight.py too)

BUDGETS_CPU_S = {
    "usage --help": 0.12,
    "gate --help": 0.12,
    "usage": 0.60,
    "gate": 0.60,
}
# The side-by-side anchor: the libraries a store command cannot do without, and nothing else.
ANCHOR = "libraries only"
ANCHOR_IMPORTS = "click, pydantic, rich.console, rich.table, sqlalchemy, sqlalchemy.dialects.sqlite"


def _command() -> list[str]:
    """The console script beside this interpreter, as a user runs it; else ``-m pilotgate``."""
    script = Path(sys.executable).with_name("pilotgate")
    if script.exists():
        return [str(script)]
    found = shutil.which("pilotgate")
    return [found] if found else [sys.executable, "-m", "pilotgate"]


def _env(pycache: Path) -> dict[str, str]:
    """Bytecode cached, as for an installed user (pip compiles it), whatever this shell says.

    With ``PYTHONDONTWRITEBYTECODE=1`` an editable install recompiles pilotgate's own modules
    on every call (about 0.03 s CPU for ``usage``): the warm-up fills a private cache instead.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def _time_one(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """(wall s, CPU s, exit status) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if out.returncode not in (0, 1, 3):  # gate: 1 fail, 3 insufficient data are verdicts
        raise SystemExit(f"{' '.join(argv)} exited {out.returncode}:\n{out.stderr}")
    return wall, cpu, out.returncode


def _median(runs: list[tuple[float, float, int]], i: int) -> float:
    return statistics.median(r[i] for r in runs)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=7, help="timed runs per command (median)")
    ap.add_argument("--interactions", type=int, default=2_000)
    ap.add_argument(
        "--budget-scale", type=float, default=1.0, help="multiply every budget (0 forces a miss)"
    )
    args = ap.parse_args()
    base = _command()
    with tempfile.TemporaryDirectory(prefix="pg-cli-startup-") as tmp:
        d = Path(tmp)
        store = ["--store", small_store(d, args.interactions, seed=0)]
        env = _env(d / "pycache")
        commands = {
            ANCHOR: [sys.executable, "-c", f"import {ANCHOR_IMPORTS}"],
            "usage --help": [*base, "usage", "--help"],
            "gate --help": [*base, "gate", "--help"],
            "usage": [*base, "usage", *store],
            "gate": [*base, "gate", *store],
        }
        print(f"pilotgate: {' '.join(base)} (bytecode cached); store: "
              f"{args.interactions:,} interactions, {args.interactions // 2:,} feedback (SQLite); "
              f"{args.n} rounds of every command after 1 warm-up; "
              f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
        for argv in commands.values():  # warm-up: .pyc files, the signals' first materialisation
            _time_one(argv, d, env)
        runs: dict[str, list[tuple[float, float, int]]] = {k: [] for k in commands}
        for _ in range(args.n):  # interleaved: every command sees the same load
            for label, argv in commands.items():
                runs[label].append(_time_one(argv, d, env))
    anchor = _median(runs[ANCHOR], 1)
    print(f"{'command':<16} {'wall p50':>9} {'CPU p50':>9} {'- anchor':>9} {'budget':>8}  result")
    ok = True
    for label, r in runs.items():
        wall, cpu = _median(r, 0), _median(r, 1)
        if label == ANCHOR:
            print(f"{label:<16} {wall:>8.3f}s {cpu:>8.3f}s {'':>9} {'':>8}  "
                  f"(python -c 'import {ANCHOR_IMPORTS}')")  # fmt: skip
            continue
        budget = BUDGETS_CPU_S[label] * args.budget_scale
        hit = cpu <= budget
        ok = ok and hit
        print(f"{label:<16} {wall:>8.3f}s {cpu:>8.3f}s {cpu - anchor:>+8.3f}s {budget:>7.2f}s  "
              f"{'ok' if hit else 'OVER BUDGET'}")  # fmt: skip
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"result: {'OK' if ok else 'OVER BUDGET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
