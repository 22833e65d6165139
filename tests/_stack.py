"""Real processes for end-to-end tests: ``pilotgate simulate`` and ``pilotgate serve``.

Both bind 127.0.0.1 on a free port, are started with the test's own interpreter, and are
stopped (SIGINT, then kill) when the block ends.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["free_port", "serve_process", "simulate_process"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    if proc.stdout is not None:
        proc.stdout.close()


@contextmanager
def simulate_process(*args: str) -> Iterator[str]:
    """``pilotgate simulate --port 0 ARGS``; yields its root URL (``http://127.0.0.1:P``)."""
    cmd = [sys.executable, "-m", "pilotgate", "simulate", "--port", "0", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)/v1", banner)
        assert match, f"no URL in the simulator's banner: {banner!r}"
        yield match.group(1)
    finally:
        _stop(proc)


@contextmanager
def serve_process(store_url: str, log: Path, timeout_s: float = 60.0) -> Iterator[str]:
    """``pilotgate serve --store URL`` on a free port; yields its URL once /health answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "pilotgate", "serve", "--port", str(port), "--store", store_url]
    with open(log, "a") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        end = time.monotonic() + timeout_s
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(url + "/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > end:
                    raise AssertionError(f"collector did not start: {log.read_text()}") from None
                time.sleep(0.1)
        yield url
    finally:
        _stop(proc)
