"""`pilotgate serve` prints the dashboard's URL, the real one even with --port 0
(issue 18, item 13)."""

from __future__ import annotations

import queue
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path


def test_serve_prints_a_dashboard_url_that_answers(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "pilotgate", "serve", "--port", "0", "--no-auth",
            "--store", f"sqlite:///{tmp_path / 's.db'}"]  # fmt: skip
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        assert proc.stderr is not None
        lines: queue.Queue[str] = queue.Queue()
        stream = proc.stderr

        def pump() -> None:
            for line in stream:
                lines.put(line)

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            m = re.match(r"dashboard: (http://127\.0\.0\.1:(\d+)/)$", line.strip())
            if m:
                url = m.group(1)
                assert int(m.group(2)) > 0
        assert url is not None, "no dashboard URL printed"
        for _ in range(100):
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    assert resp.status == 200
                    assert "text/html" in resp.headers["Content-Type"]
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError(f"{url} never answered")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stderr is not None:
            reader.join(timeout=10)
            proc.stderr.close()
