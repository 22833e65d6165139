"""`pilotgate … --json X | head`: X is written and the exit is clean (issue 18, item 9);
piped tables are not cut to "…" (item 14)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_a_closed_stdout_pipe_still_writes_json(tmp_path: Path) -> None:
    (tmp_path / "pipefeat.py").write_text("def answer(x):\n    return str(x)\n", encoding="utf-8")
    cases = tmp_path / "cases.jsonl"
    cases.write_text(
        "".join(json.dumps({"id": f"c{i}", "input": f"q{i}", "expected": f"q{i}"}) + "\n"
                for i in range(20)),
        encoding="utf-8",
    )  # fmt: skip
    out = tmp_path / "eval.json"
    argv = [sys.executable, "-m", "pilotgate", "eval", "run", "--target", "python:pipefeat:answer",
            "--cases", str(cases), "--scorer", "exact", "--json", str(out),
            "--store", f"sqlite:///{tmp_path / 's.db'}"]  # fmt: skip
    proc = subprocess.Popen(
        argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": ""},
    )  # fmt: skip
    assert proc.stdout is not None
    proc.stdout.close()  # the reader went away (as `| head` does once it has its lines)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err
    doc = json.loads(out.read_text())
    assert doc["scorers"]["exact"]["mean"] == 1.0


def test_piped_tables_are_drawn_wide() -> None:
    # Rich draws 80 columns for a pipe unless told otherwise: wide tables were cut to "…"
    code = (
        "from pilotgate._stdout import install; install(); "
        "from rich.console import Console; print(Console().width)"
    )
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert int(proc.stdout) >= 160
    env["COLUMNS"] = "90"  # a width the person asked for wins
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert int(proc.stdout) == 90
