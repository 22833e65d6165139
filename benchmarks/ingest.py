"""Ingest throughput: straight into SQLite in batches, and through the collector over HTTP.

Budgets (DESIGN.md): >= 50k interactions/s into SQLite in batches; >= 20k/s through the
collector over HTTP (uvicorn in a subprocess on 127.0.0.1, batches of ~1,000, redaction on).
Run: .venv/bin/python benchmarks/ingest.py [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def record(i: int) -> dict[str, object]:
    return {
        "kind": "interaction",
        "id": f"bench-{i:09d}",
        "ts": "2026-05-01T12:00:00.123Z",
        "feature": "support-router",
        "version": "v3",
        "session_id": f"s{i // 4}",
        "user_id": f"u{i % 500}",
        "input": f"How do I reset the PIN of card number {i % 97}?",
        "output": "Open Settings > Security > Reset PIN and follow the steps.",
        "latency_ms": 800.0 + i % 400,
        "ttft_ms": 210.5,
        "tokens_in": 120,
        "tokens_out": 48,
        "error": None,
        "metadata": {"route": "faq"},
    }


def bench_store(n: int, batch: int, tmp: Path) -> float:
    from pilotgate.ingest import store_records, validate_record
    from pilotgate.redact import Redactor
    from pilotgate.store import Store

    raw = [json.dumps(record(i)) for i in range(n)]
    redactor = Redactor()
    with Store(f"sqlite:///{tmp}/direct.db") as store:
        t0 = time.perf_counter()
        for start in range(0, n, batch):
            recs = [validate_record(json.loads(s)) for s in raw[start : start + batch]]
            for r in recs:
                redactor.record(r)
            store_records(store, recs)
        dt = time.perf_counter() - t0
        assert store.count() == n
    return n / dt


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_http(n: int, batch: int, tmp: Path, clients: int) -> float:
    from pilotgate.collector import create_key
    from pilotgate.store import Store

    url = f"sqlite:///{tmp}/http.db"
    with Store(url) as store:
        key, _ = create_key(store, "bench")
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pilotgate._cli import main; main(sys.argv[1:])",
            "serve",
            "--port",
            str(port),
            "--store",
            url,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("collector did not start") from None
                time.sleep(0.1)
        bodies = [
            json.dumps({"records": [record(i) for i in range(s, min(s + batch, n))]}).encode()
            for s in range(0, n, batch)
        ]
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}

        def send(chunk: list[bytes]) -> int:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            stored = 0
            for body in chunk:
                conn.request("POST", "/v1/ingest", body=body, headers=headers)
                resp = conn.getresponse()
                data = json.loads(resp.read())
                assert resp.status == 200, data
                stored += data["accepted"]
            conn.close()
            return stored

        parts = [bodies[k::clients] for k in range(clients)]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            total = sum(pool.map(send, parts))
        dt = time.perf_counter() - t0
        assert total == n
    finally:
        proc.terminate()
        proc.wait(10)
    with Store(url) as store:
        assert store.count() == n, "every acknowledged record is stored"
    return n / dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smaller runs")
    args = ap.parse_args()
    n = 50_000 if args.quick else 200_000
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        direct = bench_store(n, 2000, tmp)
        print(
            f"store (SQLite, batches of 2,000, validate+redact+insert): {direct:,.0f} "
            f"interactions/s   budget >= 50,000/s  {'OK' if direct >= 50_000 else 'MISS'}"
        )
        http_rate = bench_http(n // 2, 1000, tmp, clients=2)
        print(
            f"collector over HTTP (uvicorn subprocess, batches of 1,000, auth+redaction): "
            f"{http_rate:,.0f} interactions/s   budget >= 20,000/s  "
            f"{'OK' if http_rate >= 20_000 else 'MISS'}"
        )


if __name__ == "__main__":
    main()
