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

On PostgreSQL (issue "Team scale on PostgreSQL"), ``--store URL`` with the URL of a database
of your own (``createdb NAME``: the backends' CPU is read from /proc by database name, so
anyone else's work in that database would be counted): each measurement runs in a fresh
schema of that database, dropped afterwards; the SQLite figures are not measured then.

* the floor: a bare ``COPY`` (psycopg 3 ``cursor.copy``) of the same interaction rows, built
  in memory beforehand, into an empty copy of the interactions table (``scale.floor_rate``);
* ``pilotgate ingest FILE --store URL`` end to end (``ingest_files`` with redaction, the
  store's default batches of 8,000), measured right after its floor; its CPU is this
  process, the decoding worker and the database's backends;
* the collector: ``pilotgate serve --store URL --workers 1``, then ``--workers 2``
  (interleaved over ``--rounds``), fed n/2 records in batches of 1,000 by ``--clients``
  keep-alive threads. The workers share one listening socket and race to accept, so two
  connections opened together land on one worker about half the time; the client opens a
  connection again until each worker holds its share, and prints where they landed.
  Beside each rate: the CPU of every serving process (by worker) and of the backends. After
  each run the table's rows and distinct ids are counted against the acknowledged records,
  and one batch is sent again: nothing new may be stored.

PostgreSQL budgets: the import >= 25,000 interactions/s (the issue's figure, which
``scale.py`` judges at 1M; here on n, best of up to three pairs), >= 0.25 of the same-run
floor (the best pair's ratio), and 2 workers at least as fast as 1 worker minus 10 % (best
run of each). On 2 cores a second worker has little room (one worker and its backend
already keep about one and a half cores busy), so the budget is that it does not lose; the
CPU beside it says what it costs. Judge on a quiet machine: on a shared one, runs a minute
apart differ by up to 2x (the load average is printed beside every figure). ``--json FILE``
writes the figures.

    .venv/bin/python benchmarks/ingest.py --store postgresql://postgres@127.0.0.1:5432/NAME
        [--n 200000] [--clients 2] [--rounds 3] [--no-http] [--json FILE]
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
PG_IMPORT_BUDGET = 25_000  # issue 17's figure (benchmarks/scale.py judges it at 1M)
PG_FLOOR_SHARE = 0.25  # the PostgreSQL import: at least a quarter of a bare COPY's rate
PG_WORKERS_SHARE = 0.9  # the collector with 2 workers: at least 1 worker's rate minus 10 %

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
    records: list[dict[str, Any]],
    tmp: Path,
    parallel: bool | None,
    batch: int | None,
    url: str | None = None,
    cpu: Callable[[], float] = _with_children,
) -> tuple[Figure, dict[str, Any]]:
    """``ingest_files`` on a JSONL file: what ``pilotgate ingest FILE`` does.

    ``parallel=None`` is the default (a worker process decodes files over ~12 MB when
    there is a second core); the CPU figure then counts the worker too. ``url``: another
    store than a fresh SQLite file (an empty PostgreSQL schema); ``batch=None``: the
    store's default batch size, as the CLI's; ``cpu``: the clock of the CPU figure.
    """
    from pilotgate.ingest import ingest_files
    from pilotgate.redact import Redactor
    from pilotgate.store import Store

    path = tmp / "import.jsonl"
    if not path.exists():
        with path.open("w", encoding="utf-8") as fh:
            for r in records:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    with Store(url or f"sqlite:///{tmp}/file-{parallel}-{batch}.db") as store:
        with timed(len(records), cpu) as fig:
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


def _tree(pid: int) -> list[int]:
    """``pid`` and its child processes (``serve --workers N``: the uvicorn workers)."""
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            kids += [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
    return [pid, *kids]


def _workers(pid: int) -> list[int]:
    """The uvicorn worker processes (spawned children) of ``pid``."""
    out = []
    for kid in _tree(pid)[1:]:
        try:
            if b"spawn_main" in Path(f"/proc/{kid}/cmdline").read_bytes():
                out.append(kid)
        except OSError:
            continue
    return out


def _tree_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of ``pid`` and of each of its children, by process id."""
    out = {}
    for p in _tree(pid):
        try:
            out[p] = _proc_cpu(p)
        except OSError:  # gone meanwhile
            continue
    return out


@contextmanager
def serving(url: str, tmp: Path, workers: int = 1) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``pilotgate serve --store URL --workers N`` in a subprocess on 127.0.0.1, ready
    (every worker started and idle); yields (process, port)."""
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
            "--workers",
            str(workers),
        ],
        env={k: v for k, v in os.environ.items() if k != "PILOTGATE_PLAN"}
        | {"PYTHONUNBUFFERED": "1"},
        cwd=tmp,  # no ./pilotgate.toml picked up
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            try:
                c.request("GET", "/health")
                spawned = workers if workers > 1 else 0  # one worker: serve itself
                if c.getresponse().status == 200 and len(_workers(proc.pid)) == spawned:
                    break
            except OSError:
                pass
            finally:
                c.close()
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("collector did not start")
            time.sleep(0.1)
        # every worker done building its app (a worker still starting takes no connection:
        # the client's keep-alive connections would all go to the first one)
        before = sum(_tree_cpu(proc.pid).values())
        while time.monotonic() < deadline:
            time.sleep(0.4)
            now = sum(_tree_cpu(proc.pid).values())
            if now - before < 0.02:
                break
            before = now
        yield proc, port
    finally:
        proc.terminate()
        proc.wait(30)


def _post(
    port: int,
    key: str,
    bodies: list[bytes],
    clients: int,
    conns: list[http.client.HTTPConnection] | None = None,
) -> tuple[int, int]:
    """POST the bodies to ``/v1/ingest`` from ``clients`` keep-alive connections (threads;
    ``conns``: these, already open); returns (records accepted, records new)."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}

    def send(k: int) -> tuple[int, int]:
        conn = conns[k] if conns else http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        accepted = new = 0
        for body in bodies[k::clients]:
            conn.request("POST", "/v1/ingest", body=body, headers=headers)
            resp = conn.getresponse()
            data = json.loads(resp.read())
            assert resp.status == 200, data
            accepted += data["accepted"]
            new += data["stored_new"]
        conn.close()
        return accepted, new

    with ThreadPoolExecutor(clients) as pool:
        done = list(pool.map(send, range(clients)))
    return sum(a for a, _ in done), sum(b for _, b in done)


def _owner(conn: http.client.HTTPConnection, port: int, pids: list[int]) -> int | None:
    """Which of ``pids`` holds the server's end of ``conn`` (an answered connection to
    ``port`` on 127.0.0.1), from ``/proc/net/tcp`` and the processes' descriptors."""
    assert conn.sock is not None
    ends = (f"0100007F:{port:04X}", f"0100007F:{conn.sock.getsockname()[1]:04X}")
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    inodes = {f[9] for f in map(str.split, rows) if (f[1], f[2]) == ends}
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                link = os.readlink(fd)
            except OSError:
                continue
            if link.startswith("socket:[") and link[8:-1] in inodes:
                return pid
    return None


def spread_connections(
    port: int, pids: list[int], clients: int, tries: int = 30
) -> tuple[list[http.client.HTTPConnection], list[int]]:
    """``clients`` keep-alive connections spread evenly over the serving processes ``pids``.

    The workers share one listening socket and race to accept: two connections opened
    together land on the same worker about half the time, and then a second worker
    serves nothing. A connection that lands on a worker that has its share already is
    opened again (many clients' connections spread out the same way). Returns the
    connections and how many each process holds."""
    share = -(-clients // len(pids))
    held = dict.fromkeys(pids, 0)
    conns = []
    for _ in range(clients):
        for attempt in range(tries):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.request("GET", "/health")
            conn.getresponse().read()
            owner = _owner(conn, port, pids)
            if owner is not None and (held[owner] < share or attempt == tries - 1):
                held[owner] += 1
                conns.append(conn)
                break
            conn.close()
    return conns, [held[p] for p in pids]


def _bodies(records: list[dict[str, Any]], batch: int) -> list[bytes]:
    return [
        json.dumps({"records": records[s : s + batch]}).encode()
        for s in range(0, len(records), batch)
    ]


def bench_http(
    records: list[dict[str, Any]], tmp: Path, batch: int, clients: int
) -> tuple[Figure, Figure]:
    """Batches POSTed to ``pilotgate serve``; returns (client-side figure, server figure)."""
    from pilotgate.collector import create_key
    from pilotgate.store import Store

    url = f"sqlite:///{tmp}/http.db"
    with Store(url) as store:
        key, _ = create_key(store, "bench")
    n = len(records)
    with serving(url, tmp) as (proc, port):
        bodies = _bodies(records, batch)
        with timed(n) as server, timed(n) as client:
            server_cpu0 = _proc_cpu(proc.pid)
            total, _new = _post(port, key, bodies, clients)
            server_cpu = _proc_cpu(proc.pid) - server_cpu0
        assert total == n
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


# ----------------------------------------------------------------- PostgreSQL (--store)


@contextmanager
def pg_schema(base: str) -> Iterator[str]:
    """A store URL in a fresh schema of the database ``base``, dropped afterwards."""
    from scale import new_store_url

    url, drop = new_store_url("postgresql", Path(tempfile.gettempdir()), base)
    try:
        yield url
    finally:
        drop()


def _db_name(url: str) -> str:
    return url.rsplit("/", 1)[-1].split("?", 1)[0]


def pg_import(
    records: list[dict[str, Any]], tmp: Path, base: str
) -> tuple[Figure, float, dict[str, float]]:
    """The floor (a bare ``COPY`` of the same interaction rows, built in memory, into an empty
    copy of the interactions table) and ``pilotgate ingest FILE`` end to end, each in a fresh
    schema; returns (the import's figure, the floor's rows/s, the import's CPU by part)."""
    from _pg_ingest_cpu import backend_cpu
    from scale import floor_rate

    db = _db_name(base)
    with pg_schema(base) as url:
        floor = floor_rate(url, len(records), 0, records)
    marks: list[tuple[float, float]] = []

    def clock() -> float:  # this process + the decoding worker + the database's backends
        marks.append((_with_children(), backend_cpu(db)))
        return sum(marks[-1])

    with pg_schema(base) as url:
        fig, _red = bench_file(records, tmp, parallel=None, batch=None, url=url, cpu=clock)
    split = {"client": marks[1][0] - marks[0][0], "backends": marks[1][1] - marks[0][1]}
    return fig, floor, split


@dataclass
class Collected:
    """One collector run: the server processes' figure (CPU: every serving process), the
    backends' CPU seconds, each worker's CPU seconds and client connections, and the
    exactly-once check."""

    server: Figure
    backends: float
    workers: list[float]
    connections: list[int]
    check: dict[str, Any]

    @property
    def total_cpu_rate(self) -> float:
        return self.server.n / (self.server.cpu + self.backends)


def pg_collector(
    records: list[dict[str, Any]], tmp: Path, base: str, workers: int, clients: int, batch: int
) -> Collected:
    """``pilotgate serve --store URL --workers N`` on a fresh schema, fed batches of ``batch``
    by ``clients`` keep-alive threads; then every acknowledged record is counted in the
    table (rows and distinct ids) and one batch is sent again (nothing new may be stored)."""
    from _pg_ingest_cpu import backend_cpu
    from pilotgate.collector import create_key
    from pilotgate.store import Store

    db, n = _db_name(base), len(records)
    bodies = _bodies(records, batch)
    with pg_schema(base) as url:
        with Store(url) as store:
            key, _ = create_key(store, "bench")
        with serving(url, tmp, workers) as (proc, port):
            spawned = _workers(proc.pid)
            conns, spread = spread_connections(port, spawned or [proc.pid], clients)
            b0, cpu0 = backend_cpu(db), _tree_cpu(proc.pid)
            with timed(n) as fig:
                acked, new = _post(port, key, bodies, clients, conns)
            cpu1, backends = _tree_cpu(proc.pid), backend_cpu(db) - b0
            assert acked == n == new, (acked, new, n)
            per = {p: cpu1[p] - cpu0.get(p, 0.0) for p in cpu1}
            with Store(url) as store, store.engine.connect() as conn:
                count = "SELECT count(*), count(DISTINCT id) FROM interactions"
                rows, distinct = conn.exec_driver_sql(count).one()
                again, again_new = _post(port, key, bodies[:1], 1)
                rows_after, _ = conn.exec_driver_sql(count).one()
    check = {"acknowledged": acked, "rows": rows, "distinct_ids": distinct, "resent": again,
             "resent_stored_new": again_new, "rows_after_resend": rows_after}  # fmt: skip
    check["exactly_once"] = rows == distinct == acked and again_new == 0 and rows_after == rows
    assert check["exactly_once"], check
    kids = [per[p] for p in spawned]  # in the order of `spread`
    server = Figure(n, fig[0].wall, sum(per.values()), fig[0].load)
    return Collected(server, backends, kids or [per[proc.pid]], spread, check)


def main_pg(args: argparse.Namespace, n: int, records: list[dict[str, Any]]) -> int:
    """The PostgreSQL figures (``--store URL``), judged against their budgets."""
    import psycopg

    from pilotgate._json import HAVE_ORJSON

    base = args.store
    with psycopg.connect(base) as conn:
        version = conn.execute("SHOW server_version").fetchone()
    print(
        f"ingest benchmark on PostgreSQL {version[0] if version else '?'} (database "
        f"{_db_name(base)}, a fresh schema per measurement): {n:,} interactions, seed "
        f"{args.seed}, Python {sys.version.split()[0]}, orjson "
        f"{'on' if HAVE_ORJSON else 'off'}, {os.cpu_count()} CPUs; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    doc: dict[str, Any] = {"store": "postgresql", "n": n, "seed": args.seed,
                           "cpus": os.cpu_count(),
                           "load_before": list(os.getloadavg())}  # fmt: skip
    met: dict[str, bool] = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        best: tuple[Figure, float, dict[str, float]] | None = None
        best_ratio = 0.0
        pairs = []
        for k in range(TRIES):  # pairs: a load spike hits the floor and the import alike
            fig, floor, split = pg_import(records, tmp, base)
            ratio = fig.rate / floor
            best_ratio = max(best_ratio, ratio)
            pairs.append({"floor_per_s": floor, "import_per_s": fig.rate, "load": fig.load})
            if best is None or fig.rate > best[0].rate:
                best = (fig, floor, split)
            print(
                f"  floor (bare COPY of the same rows, built in memory): {floor:>9,.0f} rows/s\n"
                + line("  pilotgate ingest FILE --store URL (redaction on)", fig)
                + f"\n{'':<58} = {ratio:.2f} of the floor; CPU {fig.cpu:.2f} s = this process "
                f"and its decoding worker {split['client']:.2f} + backends "
                f"{split['backends']:.2f}"
            )
            if best[0].rate >= PG_IMPORT_BUDGET and best_ratio >= PG_FLOOR_SHARE:
                break
            if k < TRIES - 1:
                print(f"{'':<58} under budget: measuring again")
        assert best is not None
        fig, floor, split = best
        met["pg_import"] = fig.rate >= PG_IMPORT_BUDGET
        met["pg_import_vs_floor"] = best_ratio >= PG_FLOOR_SHARE
        print(
            f"pilotgate ingest (best of {k + 1}): {fig.rate:,.0f}/s, budget >= "
            f"{PG_IMPORT_BUDGET:,}/s {'OK' if met['pg_import'] else 'MISS'}; best ratio to "
            f"the floor {best_ratio:.2f}, budget >= {PG_FLOOR_SHARE:g} "
            f"{'OK' if met['pg_import_vs_floor'] else 'MISS'}"
        )
        doc["floor"] = {"rows_per_s": floor}
        doc["import"] = {"rows_per_s": fig.rate, "wall_s": fig.wall, "cpu_s": fig.cpu,
                         "cpu_split_s": split, "load": fig.load, "ratio_to_floor": best_ratio,
                         "tries": k + 1, "pairs": pairs}  # fmt: skip
        if not args.no_http:
            doc["collector"] = pg_workers(records[: n // 2], tmp, base, args, met)
    doc["budgets"] = {
        "import_per_s": PG_IMPORT_BUDGET,
        "import_vs_floor": PG_FLOOR_SHARE,
        "workers_2_vs_1": PG_WORKERS_SHARE,
    }
    doc["met"] = met
    doc["load_after"] = list(os.getloadavg())
    missed = [k for k, ok in met.items() if not ok]
    doc["result"] = "budgets met" if not missed else "MISSED: " + ", ".join(missed)
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=2), encoding="utf-8")
    print(f"load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("result: " + doc["result"])
    return 1 if missed else 0


def pg_workers(
    records: list[dict[str, Any]],
    tmp: Path,
    base: str,
    args: argparse.Namespace,
    met: dict[str, bool],
) -> dict[str, Any]:
    """The collector with 1 and with 2 workers, interleaved over ``--rounds``; the best
    of each is judged (two workers at least ``PG_WORKERS_SHARE`` of one worker's rate)."""
    runs: dict[int, list[Collected]] = {1: [], 2: []}
    n = len(records)
    print(
        f"collector over HTTP: {n:,} interactions in batches of 1,000 from {args.clients} "
        "keep-alive client threads (auth + redaction on), a fresh schema per run"
    )
    for _round in range(args.rounds):
        for workers in (1, 2):
            got = pg_collector(records, tmp, base, workers, args.clients, 1000)
            runs[workers].append(got)
            print(
                line(f"  pilotgate serve --workers {workers}", got.server)
                + f"\n{'':<58} server CPU {got.server.cpu:.2f} s (by worker: "
                + " + ".join(f"{c:.2f}" for c in got.workers)
                + f"; connections {'/'.join(map(str, got.connections))}), backends "
                f"{got.backends:.2f} s = {got.total_cpu_rate:,.0f}/CPU-s;\n{'':<58} "
                f"stored once: {got.check['rows']:,} rows, {got.check['distinct_ids']:,} ids, "
                "a batch sent again stored nothing new"
            )
    best = {w: max(r, key=lambda c: c.server.rate) for w, r in runs.items()}
    ratio = best[2].server.rate / best[1].server.rate
    met["pg_workers"] = ratio >= PG_WORKERS_SHARE
    print(
        f"2 workers / 1 worker (best of {args.rounds} each): {ratio:.2f}, budget >= "
        f"{PG_WORKERS_SHARE:g} {'OK' if met['pg_workers'] else 'MISS'} (on {os.cpu_count()} "
        "cores a second worker has little to add; it must not lose)"
    )
    return {
        "records": n,
        "clients": args.clients,
        "batch": 1000,
        "rounds": args.rounds,
        "ratio_2_to_1": ratio,
        "workers": {
            str(w): {
                "rows_per_s": c.server.rate,
                "runs_per_s": [x.server.rate for x in runs[w]],
                "server_cpu_s": c.server.cpu,
                "worker_cpu_s": c.workers,
                "connections_by_worker": c.connections,
                "backend_cpu_s": c.backends,
                "load": c.server.load,
                "exactly_once": c.check,
            }
            for w, c in best.items()
        },
        "exactly_once_checked": all(x.check["exactly_once"] for r in runs.values() for x in r),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="50k records instead of 200k")
    ap.add_argument("--n", type=int, help="records per measurement")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-http", action="store_true", help="skip the collector measurement")
    ap.add_argument("--realistic-n", type=int, help="realistic interactions (default n / 10)")
    ap.add_argument("--store", metavar="URL",
                    help="a PostgreSQL database (postgresql://...): its figures instead of "
                    "SQLite's, each in a fresh schema")  # fmt: skip
    ap.add_argument("--clients", type=int, default=2, help="HTTP client threads (--store)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="collector runs per worker count, interleaved (--store)")  # fmt: skip
    ap.add_argument("--json", metavar="FILE", help="the figures as JSON (--store)")
    args = ap.parse_args()
    if args.store and not args.store.startswith(("postgresql://", "postgres://")):
        ap.error("--store takes a PostgreSQL URL (without it: SQLite in a temporary folder)")
    if args.clients < 1 or args.rounds < 1:
        ap.error("--clients and --rounds are at least 1")
    n = args.n or (50_000 if args.quick else 200_000)
    records = make_records(n, args.seed)
    if args.store:
        return main_pg(args, n, records)

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
