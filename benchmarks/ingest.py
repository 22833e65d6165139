"""Ingest throughput: into SQLite in batches, and through the collector over HTTP.

Budgets (DESIGN.md): >= 50k interactions/s into SQLite in batches; >= 20k/s through the
collector over HTTP. Both are judged on wall time on a quiet machine; process CPU time is
printed beside each figure because the machine is shared (on a busy one, wall time
measures the neighbours). The judged figures:

* into SQLite: ``pilotgate ingest FILE`` end to end (``ingest_files``: read the JSONL,
  decode, validate, redact PII, insert in batches of 2,000, the CLI's default), the way a
  user imports logs; files over 12 MB are decoded by a worker process while the main one
  writes. The same import in one process, the store call alone
  (``Store.add_interactions`` of validated records) and the CPU cost of each stage are
  printed too.
* over HTTP: ``pilotgate serve`` in a subprocess (uvicorn, auth and redaction on) fed
  batches of 1,000 by two keep-alive client threads; the server's own CPU time is read
  from /proc.

The records are seeded and varied: SDK-style ids, sessions of ~4 calls, times spread over
two weeks, ~8 % chat inputs, some e-mail addresses, phone and card numbers to redact.

Realistic records too (``_ingest_realistic.py``): 1-3 KB chat prompts, 0.5-1.5 KB replies,
~5 % with personal data, half of them with a feedback record. Those are judged against the
minimal floor measured in the same run on the same file (``json.loads`` of each line and
``executemany`` of both kinds into SQLite): ``pilotgate ingest`` must reach at least half
the floor's rate. A busy machine slows both, so the ratio holds; the absolute budgets are
judged on the best of up to three runs. Exit status: 1 when any budget is missed, else 0.

    .venv/bin/python benchmarks/ingest.py [--quick] [--n N] [--seed 0]

``--quick`` (50k records, ~10 s) understates the default file import: its worker process
takes ~0.4 s to start, a fifth of such a run. Judge the budget on the full run (~30 s).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

STORE_BUDGET = 50_000
HTTP_BUDGET = 20_000
FLOOR_SHARE = 0.5  # realistic records: at least half the same-run floor's rate
TRIES = 3

INPUTS = [
    "How do I reset the PIN of my card?",
    "What are the fees for international transfers, and is there a limit per day?",
    "lost my card!!! what do i do",
    "Can you explain the interest rate on the 5-year fixed loan compared to the variable one?",
    "close account",
    "hola, necesito cambiar mi dirección",
    "I paid 1,250.00 EUR on 2026-04-28 but it is not showing up",
    "why was my transfer of 300 to my landlord declined?",
]
PII = [
    "please mail the statement to ann.lee@example.co.uk",
    "call me back on +44 20 7946 0958 after 5pm",
    "my card 4111 1111 1111 1111 was charged twice",
]
OUTPUTS = [
    "Open Settings > Security > Reset PIN and follow the steps.",
    "International transfers cost 0.5 % (min 2 EUR); the daily limit is 10,000 EUR.",
    "Block the card in the app under Cards > Block, then order a new one.",
    "You can update your address under Profile > Address.",
]


def make_records(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` interaction records in the DESIGN.md ingest format, the same for a seed."""
    rng = random.Random(seed)
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    prefixes = [f"{rng.getrandbits(48):012x}-" for _ in range(8)]
    out = []
    session = ""
    for i in range(n):
        if i % 4 == 0:
            session = f"{rng.getrandbits(64):016x}"
        r = rng.random()
        text = rng.choice(PII) if r < 0.06 else rng.choice(INPUTS)
        inp: Any = [{"role": "user", "content": text}] if 0.9 < r < 0.98 else text
        ts = t0 + timedelta(seconds=i * 14 * 86400 / n, microseconds=rng.randrange(1000))
        out.append(
            {
                "kind": "interaction",
                "id": prefixes[i % 8] + format(i // 8 + 1, "x"),
                "ts": ts.isoformat().replace("+00:00", "Z"),
                "feature": "support-router",
                "version": "v3" if rng.random() < 0.5 else "v4",
                "session_id": session,
                "user_id": f"u{rng.randrange(5000)}",
                "input": inp,
                "output": rng.choice(OUTPUTS),
                "latency_ms": round(rng.lognormvariate(6.5, 0.4), 1),
                "ttft_ms": round(rng.uniform(150, 400), 1),
                "tokens_in": rng.randrange(20, 400),
                "tokens_out": rng.randrange(10, 200),
                "error": "Timeout" if rng.random() < 0.02 else None,
                "metadata": {"route": rng.choice(["faq", "cards", "loans"])},
            }
        )
    return out


# ----------------------------------------------------------------- measuring


def load1() -> float:
    return os.getloadavg()[0]


@dataclass
class Figure:
    """One measurement: records, wall seconds, CPU seconds, load average before it."""

    n: int
    wall: float
    cpu: float
    load: float

    @property
    def rate(self) -> float:
        return self.n / self.wall

    @property
    def cpu_rate(self) -> float:
        return self.n / self.cpu if self.cpu > 0 else float("inf")


@contextmanager
def timed(n: int, cpu: Callable[[], float] = time.process_time) -> Iterator[list[Figure]]:
    box: list[Figure] = []
    load = load1()
    c0, t0 = cpu(), time.perf_counter()
    yield box
    box.append(Figure(n, time.perf_counter() - t0, cpu() - c0, load))


def stage_costs(records: list[dict[str, Any]], tmp: Path) -> dict[str, float]:
    """CPU µs per record of each stage of the file import, one after another.

    With the cyclic GC paused, as ``ingest_files`` and the collector run.
    """
    from pilotgate._gc import gc_paused
    from pilotgate._json import loads_line
    from pilotgate.ingest import store_records, validate_record
    from pilotgate.redact import Redactor
    from pilotgate.store import Store

    lines = [(json.dumps(r) + "\n").encode() for r in records]
    redactor = Redactor()
    cost = dict.fromkeys(("decode", "validate", "redact", "store"), 0.0)
    clock = time.process_time
    with Store(f"sqlite:///{tmp}/stages.db") as store, gc_paused():
        for s in range(0, len(lines), 2000):
            a = clock()
            objs = [loads_line(x) for x in lines[s : s + 2000]]
            b = clock()
            recs = [validate_record(o) for o in objs]
            c = clock()
            for rec in recs:
                redactor.record(rec)
            d = clock()
            store_records(store, recs)
            e = clock()
            cost["decode"] += b - a
            cost["validate"] += c - b
            cost["redact"] += d - c
            cost["store"] += e - d
    return {k: v / len(lines) * 1e6 for k, v in cost.items()}


def bench_store_call(records: list[dict[str, Any]], tmp: Path, batch: int) -> Figure:
    """``Store.add_interactions`` of validated, redacted records (the SQLite write alone)."""
    from pilotgate.ingest import validate_record
    from pilotgate.redact import Redactor
    from pilotgate.store import Store

    redactor = Redactor()
    recs = [validate_record(dict(r)) for r in records]
    for rec in recs:
        redactor.record(rec)
    with Store(f"sqlite:///{tmp}/store.db") as store:
        with timed(len(recs)) as fig:
            for s in range(0, len(recs), batch):
                store.add_interactions(recs[s : s + batch])
        assert store.count() == len(recs)
    return fig[0]


def _with_children() -> float:
    """CPU seconds of this process and of its waited-for children (the import worker)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def bench_file(
    records: list[dict[str, Any]], tmp: Path, parallel: bool | None, batch: int
) -> tuple[Figure, dict[str, Any]]:
    """``ingest_files`` on a JSONL file: what ``pilotgate ingest FILE`` does.

    ``parallel=None`` is the default (a worker process decodes files over ~12 MB when
    there is a second core); the CPU figure then counts the worker too.
    """
    from pilotgate.ingest import ingest_files
    from pilotgate.redact import Redactor
    from pilotgate.store import Store

    path = tmp / "import.jsonl"
    if not path.exists():
        with path.open("w", encoding="utf-8") as fh:
            for r in records:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    with Store(f"sqlite:///{tmp}/file-{parallel}-{batch}.db") as store:
        with timed(len(records), _with_children) as fig:
            report = ingest_files([path], store, redactor=Redactor(), parallel=parallel,
                                  batch_size=batch)  # fmt: skip
        assert report.n_bad == 0 and store.count() == len(records), report.to_json()
    return fig[0], report.redactions


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _proc_cpu(pid: int) -> float:
    """utime + stime of a process, in seconds (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_http(
    records: list[dict[str, Any]], tmp: Path, batch: int, clients: int
) -> tuple[Figure, Figure]:
    """Batches POSTed to ``pilotgate serve``; returns (client-side figure, server figure)."""
    from pilotgate.collector import create_key
    from pilotgate.store import Store

    url = f"sqlite:///{tmp}/http.db"
    with Store(url) as store:
        key, _ = create_key(store, "bench")
    port = _free_port()
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
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    n = len(records)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("collector did not start") from None
                time.sleep(0.1)
        bodies = [
            json.dumps({"records": records[s : s + batch]}).encode() for s in range(0, n, batch)
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
        with ThreadPoolExecutor(clients) as pool:
            with timed(n) as server, timed(n) as client:
                server_cpu0 = _proc_cpu(proc.pid)
                total = sum(pool.map(send, parts))
                server_cpu = _proc_cpu(proc.pid) - server_cpu0
        assert total == n
    finally:
        proc.terminate()
        proc.wait(10)
    with Store(url) as store:
        assert store.count() == n, "every acknowledged record is stored"
    srv = server[0]
    return client[0], Figure(n, srv.wall, server_cpu, srv.load)


# ----------------------------------------------------------------- reporting


def verdict(fig: Figure, budget: int) -> str:
    return "OK" if fig.rate >= budget else "MISS"


def line(label: str, fig: Figure, budget: int | None = None) -> str:
    out = (
        f"{label:<58} {fig.rate:>9,.0f}/s wall  {fig.cpu_rate:>9,.0f}/CPU-s  (load {fig.load:.2f})"
    )
    if budget is not None:
        out += f"  budget >= {budget:,}/s  {verdict(fig, budget)}"
    return out


def best_of(run: Callable[[], Figure], budget: int) -> Figure:
    """Run up to TRIES times until the budget is met; the fastest run counts."""
    best = run()
    for _ in range(TRIES - 1):
        if best.rate >= budget:
            break
        print(f"{'':<58} {best.rate:,.0f}/s is under budget: measuring again")
        again = run()
        best = again if again.rate > best.rate else best
    return best


def realistic(n: int, seed: int, tmp: Path) -> bool:
    """``pilotgate ingest`` of kilobyte-sized records against the same-run floor."""
    from _ingest_realistic import floor_import, make_realistic, sizes
    from pilotgate.ingest import ingest_files
    from pilotgate.redact import Redactor
    from pilotgate.store import Store

    records = make_realistic(n, seed)
    path = tmp / "realistic.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    sz = sizes(records)
    mb = path.stat().st_size / 1e6
    print(
        f"\nrealistic records: {n:,} interactions + {len(records) - n:,} feedback "
        f"({mb:.0f} MB; prompts {sz['prompt_b']:,.0f} B, replies {sz['reply_b']:,.0f} B on "
        "average, ~5 % with personal data)"
    )
    ratios = []
    for k in range(2):  # interleaved pairs: a load spike hits both sides
        floor_s = floor_import(path, tmp / f"floor-{k}.db")
        with Store(f"sqlite:///{tmp}/realistic-{k}.db") as store:
            t0 = time.perf_counter()
            report = ingest_files([path], store, redactor=Redactor(), batch_size=2000)
            ours_s = time.perf_counter() - t0
            assert report.n_bad == 0, report.to_json()
        floor_rate, ours_rate = len(records) / floor_s, len(records) / ours_s
        ratios.append(ours_rate / floor_rate)
        print(
            f"   floor (json.loads + executemany): {floor_rate:>9,.0f} records/s; "
            f"pilotgate ingest: {ours_rate:>9,.0f} records/s = {ours_rate / floor_rate:.2f} "
            f"of the floor (load {load1():.2f})"
        )
    best = max(ratios)
    ok = best >= FLOOR_SHARE
    verdict_word = "OK" if ok else "MISS"
    print(f"   best ratio {best:.2f} (budget >= {FLOOR_SHARE:g} of the floor)  {verdict_word}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="50k records instead of 200k")
    ap.add_argument("--n", type=int, help="records per measurement")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-http", action="store_true", help="skip the collector measurement")
    ap.add_argument("--realistic-n", type=int, help="realistic interactions (default n / 10)")
    args = ap.parse_args()
    n = args.n or (50_000 if args.quick else 200_000)
    records = make_records(n, args.seed)

    from pilotgate._json import HAVE_ORJSON

    print(
        f"ingest benchmark: {n:,} interactions, seed {args.seed}, Python "
        f"{sys.version.split()[0]}, orjson {'on' if HAVE_ORJSON else 'off (stdlib json)'}, "
        f"{os.cpu_count()} CPUs"
    )
    avg_in = sum(len(json.dumps(r["input"])) for r in records) / n
    avg_out = sum(len(r["output"]) for r in records) / n
    print(
        f"short records: inputs {avg_in:.0f} B, outputs {avg_out:.0f} B on average "
        "(log-line sized; the realistic section below uses kilobyte chat records)"
    )
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        costs = stage_costs(records[: min(n, 50_000)], tmp)
        total = sum(costs.values())
        print(
            "CPU per record, by stage: "
            + ", ".join(f"{k} {v:.1f} µs" for k, v in costs.items())
            + f"; sum {total:.1f} µs = {1e6 / total:,.0f}/CPU-s"
        )
        store_fig = bench_store_call(records, tmp, 2000)
        print(line("Store.add_interactions (validated records, batches of 2,000)", store_fig))
        one, _ = bench_file(records, tmp, parallel=False, batch=2000)
        print(line("ingest_files, one process (batches of 2,000)", one))
        redactions: dict[str, Any] = {}

        def file_run() -> Figure:
            fig, red = bench_file(records, tmp, parallel=None, batch=2000)
            redactions.update(red)
            return fig

        file_fig = best_of(file_run, STORE_BUDGET)
        print(
            line("pilotgate ingest FILE (decode+validate+redact+insert)", file_fig, STORE_BUDGET)
            + f"\n{'':<58} (default: batches of 2,000, a worker process decodes"
            " files over 12 MB; /CPU-s counts both processes; best of up to 3)"
        )
        met = {"file": verdict(file_fig, STORE_BUDGET) == "OK"}
        if not args.no_http:

            def http_run() -> Figure:
                client, server = bench_http(records[: n // 2], tmp, 1000, clients=2)
                print(f"{'':<58} client process: {client.cpu_rate:,.0f}/CPU-s")
                return server

            server = best_of(http_run, HTTP_BUDGET)
            print(
                line("collector over HTTP (batches of 1,000, auth+redaction)", server, HTTP_BUDGET)
                + f"\n{'':<58} the /CPU-s figure is the server's; best of up to 3"
            )
            met["http"] = verdict(server, HTTP_BUDGET) == "OK"
        met["realistic"] = realistic(args.realistic_n or max(2_000, n // 10), args.seed, tmp)
    print(f"PII redacted in the file import: {redactions}")
    print(f"load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    missed = [k for k, ok in met.items() if not ok]
    print("result: " + ("budgets met" if not missed else "MISSED: " + ", ".join(missed)))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
