"""Ctrl-C during `pilotgate load` keeps what was measured, and the live progress table."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from pilotgate.load._progress import ProgressPrinter, progress_row
from pilotgate.load._samples import Recorder
from pilotgate.simulator import Dist, SimulatorProfile, run_in_thread
from pilotgate.store import Store

_READERS: dict[int, queue.Queue[str]] = {}
_THREADS: dict[int, threading.Thread] = {}


def _read_until(proc: subprocess.Popen[str], prefix: str, timeout_s: float) -> list[str]:
    """stderr lines up to the first one whose stripped text starts with ``prefix`` (read on
    a thread, so a process that prints nothing fails the test instead of hanging it)."""
    assert proc.stderr is not None
    if proc.pid not in _READERS:
        q: queue.Queue[str] = queue.Queue()
        stream = proc.stderr

        def pump() -> None:
            for line in stream:
                q.put(line)

        t = threading.Thread(target=pump, daemon=True)
        t.start()
        _READERS[proc.pid], _THREADS[proc.pid] = q, t
    q = _READERS[proc.pid]
    lines: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            line = q.get(timeout=0.5)
        except queue.Empty:
            continue
        lines.append(line)
        if line.strip().startswith(prefix):
            return lines
    raise AssertionError(f"no progress row for {prefix!r} in:\n{''.join(lines)}")


def _drain(proc: subprocess.Popen[str]) -> list[str]:
    """What is left of a finished process's stderr; closes its pipes."""
    _THREADS.pop(proc.pid).join(timeout=10)  # the process has exited: EOF ends the reader
    q = _READERS.pop(proc.pid)
    out: list[str] = []
    while not q.empty():
        out.append(q.get())
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    return out


def test_sigint_keeps_finished_levels_marks_the_interrupted_one_partial(tmp_path: Path) -> None:
    profile = SimulatorProfile(
        ttft_ms=Dist.constant(20), token_ms=Dist.constant(1), output_tokens=Dist.constant(4),
    )  # fmt: skip
    out = tmp_path / "load.json"
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with run_in_thread(profile, seed=0) as sim:
        argv = [sys.executable, "-m", "pilotgate", "load", "-t", f"openai:{sim.url}/v1",
                "--model", "m", "--expected", "2", "-d", "30", "--progress",
                "--json", str(out), "--store", url]  # fmt: skip
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                                env=env)  # fmt: skip
        try:
            # 1x runs 30 s; stop it in its second second: the first level is then partial.
            _read_until(proc, "1x", timeout_s=120)
            _read_until(proc, "1x", timeout_s=30)
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
            err = "".join(_drain(proc))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
                _drain(proc)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    doc = json.loads(out.read_text())
    assert doc["interrupted"] is True
    assert [lv["label"] for lv in doc["levels"]] == ["1x"]
    level = doc["levels"][0]
    assert level["partial"] is True and level["requests"]["ok"] > 0
    assert level["elapsed_s"] < 20  # stopped early, not at the 30 s duration
    with Store(url) as st:
        runs = st.list_runs("load")
    assert len(runs) == 1 and runs[0]["status"] == "interrupted"
    assert runs[0]["summary"]["levels"][0]["partial"] is True


def test_sigint_after_a_finished_level_keeps_it_complete(tmp_path: Path) -> None:
    profile = SimulatorProfile(
        ttft_ms=Dist.constant(20), token_ms=Dist.constant(1), output_tokens=Dist.constant(4),
    )  # fmt: skip
    out = tmp_path / "load.json"
    with run_in_thread(profile, seed=0) as sim:
        argv = [sys.executable, "-m", "pilotgate", "load", "-t", f"openai:{sim.url}/v1",
                "--model", "m", "--expected", "1", "--multiplier", "2", "-d", "2",
                "--progress", "--json", str(out), "--no-store"]  # fmt: skip
        proc = subprocess.Popen(argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
        try:
            _read_until(proc, "2x", timeout_s=180)
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
            err = "".join(_drain(proc))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
                _drain(proc)
    assert proc.returncode == 130, err
    doc = json.loads(out.read_text())
    assert [lv["label"] for lv in doc["levels"]] == ["1x", "2x"]
    assert [lv["partial"] for lv in doc["levels"]] == [False, True]
    assert doc["levels"][0]["elapsed_s"] >= 2.0


def test_progress_row_reads_the_last_second() -> None:
    rec = Recorder()
    for k in range(10):
        err = 2 if k == 9 else 0
        rec.add(k, 0.0, 0.0, 0.0, 0.0, float("nan"), 0.001 * (k + 1), 0.0, 1, 200, 0, err, None)
    row = progress_row(rec, 5, 3, started=12, elapsed_s=3.0)
    assert (row["second"], row["done"], row["ok"], row["failed"]) == (3, 10, 4, 1)
    assert row["in_flight"] == 2
    assert row["e2e_p50_ms"] == 7.0 and row["e2e_p99_ms"] == 9.0
    lines: list[str] = []
    printer = ProgressPrinter(lines.append)
    printer.level("3x")(row)
    assert "in flight" in lines[0] and lines[1].split()[:2] == ["3x", "3"]
