"""Benchmarks can fail: a missed budget exits 1, and ``make bench`` stops at the first miss."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks"


def test_a_benchmark_with_an_unreachable_budget_exits_non_zero() -> None:
    cmd = [sys.executable, str(BENCH / "gate.py"), "--n", "2000", "--budget-s", "0"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "OVER BUDGET" in out.stdout


def test_the_same_benchmark_with_a_reachable_budget_exits_zero() -> None:
    cmd = [sys.executable, str(BENCH / "gate.py"), "--n", "2000", "--budget-s", "600"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_benchmark_exits_with_its_verdict() -> None:
    """No benchmark ends by falling off ``main()`` (exit 0 whatever it measured)."""
    for path in sorted(BENCH.glob("[!_]*.py")):
        text = path.read_text()
        assert re.search(r"sys\.exit\(|os\._exit\(", text), path.name
        assert "inconclusive" not in text.lower(), path.name


def test_make_bench_stops_at_the_first_miss(tmp_path: Path) -> None:
    """The Makefile's bench loop, run over two benchmarks: the first misses its budget."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^bench:.*\n\t@?(.+)$", makefile, re.M)
    assert recipe is not None
    loop = recipe.group(1).replace("$(PY)", sys.executable).replace("$$", "$")
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "a_miss.py").write_text("import sys; sys.exit(1)\n")
    (tmp_path / "benchmarks" / "b_next.py").write_text("open('ran', 'w').write('x')\n")
    (tmp_path / "benchmarks" / "_helper.py").write_text("open('helper', 'w').write('x')\n")
    out = subprocess.run(["sh", "-c", loop], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode != 0
    assert not (tmp_path / "ran").exists() and not (tmp_path / "helper").exists()
    (tmp_path / "benchmarks" / "a_miss.py").write_text("pass\n")
    out = subprocess.run(["sh", "-c", loop], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0 and (tmp_path / "ran").exists()


def test_the_adapter_benchmark_reaches_its_verdict() -> None:
    """``targets.py`` ends on its verdict line whatever it measured (its table loop once
    rebound the figures' name and it died on a TypeError after measuring)."""
    cmd = [sys.executable, str(BENCH / "targets.py"), "--quick"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert "Traceback" not in out.stderr, out.stderr[-2000:]
    assert re.search(r"^result: adapter at [0-9.]+ of the floor", out.stdout, re.M), out.stdout
    assert out.returncode == (0 if out.stdout.rstrip().endswith("OK") else 1)
