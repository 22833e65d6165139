"""Where a PostgreSQL import's CPU goes: ``ingest_files`` in this process on a fresh schema.

A helper for comparing variants of the PostgreSQL ingest path on a shared machine, where the
wall clock mostly measures the other processes: it prints the wall time and the CPU seconds of
this process (main thread + writer threads), the decoding worker process and the database's
backends (from ``/proc``; use a database of your own, ``createdb NAME``), and the rate per
CPU-second. Records are ``benchmarks/scale.py``'s (written once to ``/tmp``). Run variants
interleaved, several times, and compare the CPU figures; no budget (``scale.py`` has it).

    .venv/bin/python benchmarks/_pg_ingest_cpu.py --pg postgresql://postgres@127.0.0.1:5432/NAME
        [-n 200000] [--writers 2] [--batch-size N] [--drop-index IX ...]

``--drop-index``: drop these indexes of the fresh schema before the import (to price them).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import scale  # the records of the scale benchmark (imported from this folder)


def backend_cpu(dbname: str) -> float:
    """CPU seconds of every PostgreSQL backend connected to ``dbname`` (local server)."""
    tick = os.sysconf("SC_CLK_TCK")
    tag = f" {dbname} ".encode()
    total = 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            if not title.startswith(b"postgres:") or tag not in title:
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pg", required=True, help="a PostgreSQL database of your own")
    ap.add_argument("-n", type=int, default=200_000)
    ap.add_argument("--writers", type=int, default=None, help="default: the import's own")
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--drop-index", nargs="*", default=[])
    args = ap.parse_args()
    import pilotgate.ingest._run as run
    from pilotgate.store import Store

    data = Path(f"/tmp/pilotgate-scale-records-{args.n}.jsonl")
    if not data.exists():
        scale.write_file(data, args.n, 0)
    url, drop = scale.new_store_url("postgresql", Path("/tmp"), args.pg)
    dbname = args.pg.rsplit("/", 1)[-1].split("?", 1)[0]
    if args.writers is not None:
        run.WRITERS = args.writers
    try:
        with Store(url) as store:
            with store.engine.begin() as conn:
                for ix in args.drop_index:
                    conn.exec_driver_sql(f"DROP INDEX {ix}")
            store.engine.dispose()
            b0, t0, c0 = backend_cpu(dbname), time.perf_counter(), time.process_time()
            k0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            rep = run.ingest_files([data], store, redactor=None, batch_size=args.batch_size)
            wall = time.perf_counter() - t0
            main_cpu = time.process_time() - c0
            k1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            worker = k1.ru_utime + k1.ru_stime - k0.ru_utime - k0.ru_stime
            backend = backend_cpu(dbname) - b0
    finally:
        drop()
    total = main_cpu + worker + backend
    print(
        f"n={args.n:,} wall {wall:.2f} s ({args.n / wall:,.0f}/s); CPU s: main {main_cpu:.2f}, "
        f"worker {worker:.2f}, backends {backend:.2f}, total {total:.2f} "
        f"({args.n / total:,.0f} per CPU-s); load {os.getloadavg()[0]:.1f}; "
        f"stored {rep.stored_new}, bad {rep.n_bad}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
