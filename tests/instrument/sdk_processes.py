"""Real processes for the SDK's process-level tests: the collector and an instrumented app.

The collector is ``python -m pilotgate serve`` on a fixed loopback port (so that it can be
killed and restarted at the same address). The app is a small script driven over stdin
and stdout, so a test can stop it between phases and time its exit.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO, Any

APP = r"""
import json, resource, sys, time
from pilotgate import instrument as pg
from pilotgate.instrument._state import IDS

opts = json.loads(sys.argv[1])
pg.configure(**opts["configure"])

@pg.track(feature="proc-app", version="v1")
def answer(question: str) -> str:
    return "answer " + question

def say(**doc):
    print(json.dumps(doc), flush=True)

def rss_mb():
    # peak RSS of this process image: VmHWM resets at exec, unlike ru_maxrss, which keeps
    # the forking parent's peak (a big pytest process would look like a leak here)
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

for cmd in sys.stdin:
    cmd = json.loads(cmd)
    if cmd["op"] == "calls":
        peak, t0 = 0, time.perf_counter()
        for i in range(cmd["n"]):
            answer("q" + str(i))
            if cmd.get("pause_every") and i % cmd["pause_every"] == 0:
                time.sleep(cmd["pause_s"])
            if i % 5000 == 0:
                peak = max(peak, pg.stats()["pending"])
        say(op="calls", s=time.perf_counter() - t0, peak_pending=peak, rss_mb=rss_mb(),
            prefix=IDS.prefix, stats=pg.stats())
    elif cmd["op"] == "flush":
        ok = pg.flush(cmd["timeout"])
        say(op="flush", ok=ok, stats=pg.stats())
    elif cmd["op"] == "drain":  # until the spill files are replayed
        end = time.monotonic() + cmd["timeout"]
        while time.monotonic() < end and (pg.stats()["spill_files"] or pg.stats()["pending"]):
            time.sleep(0.05)
        pg.flush(5)
        say(op="drain", stats=pg.stats())
    elif cmd["op"] == "exit":
        say(op="exiting", t=time.time())
        break
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Collector:
    """``pilotgate serve`` in a child process, restartable at the same port."""

    def __init__(self, store_url: str, port: int, log: Path) -> None:
        self.store_url = store_url
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        cmd = [sys.executable, "-m", "pilotgate", "serve", "--port", str(self.port)]
        cmd += ["--store", self.store_url]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"collector did not start: {self.log.read_text()}")

    def kill(self) -> None:
        """``kill -9``: no shutdown, no flush."""
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
            self.proc = None


class App:
    """The instrumented application, one JSON command per line."""

    def __init__(self, script_dir: Path, configure: dict[str, Any]) -> None:
        script = script_dir / "sdk_app.py"
        script.write_text(APP)
        self.proc = subprocess.Popen(
            [sys.executable, str(script), json.dumps({"configure": configure})],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def send(self, **cmd: Any) -> None:
        stdin: IO[bytes] | None = self.proc.stdin
        assert stdin is not None
        stdin.write((json.dumps(cmd) + "\n").encode())
        stdin.flush()

    def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read().decode() if self.proc.stderr else ""
            raise AssertionError(f"app died: {err}")
        doc: dict[str, Any] = json.loads(line)
        return doc

    def call(self, **cmd: Any) -> dict[str, Any]:
        self.send(**cmd)
        return self.read()

    def exit_seconds(self, timeout: float = 30.0) -> float:
        """Ask the app to finish; seconds from its last word to the process being gone."""
        self.send(op="exit")
        self.read()
        t0 = time.monotonic()
        self.proc.wait(timeout)
        seconds = time.monotonic() - t0
        assert self.proc.returncode == 0, self.proc.stderr.read() if self.proc.stderr else ""
        return seconds

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()
