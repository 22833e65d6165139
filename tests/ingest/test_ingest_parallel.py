"""A parallel JSONL import reports and stores exactly what a sequential one does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from pilotgate._interaction_rows import CheckedInteraction, sqlite_interaction_row
from pilotgate.ingest import InvalidRecord, ingest_files, read_records, validate_record
from pilotgate.ingest._parallel import (
    WorkerPool,
    accept,
    blocks,
    parallel_blocks,
    prepare_block,
)
from pilotgate.ingest._readers import SKIPPED
from pilotgate.records import BadLine
from pilotgate.redact import Redactor
from pilotgate.store import Store

TS = "2026-05-01T12:00:00Z"
OTLP_LINE = {
    "resourceSpans": [
        {
            "scopeSpans": [
                {
                    "spans": [
                        {"traceId": "ab" * 16, "spanId": "cd" * 8, "name": "plain work"},
                    ]
                }
            ]
        }
    ]
}


def write_log(path: Path, n: int) -> None:
    lines = []
    for i in range(n):
        rec: dict[str, Any] = {"id": f"i{i}", "ts": TS, "feature": "bank", "input": f"q {i}"}
        if i % 7 == 0:
            rec["input"] = f"mail me at user{i}@example.com"
        lines.append(json.dumps(rec))
        if i % 50 == 3:
            lines.append("{broken")
        if i % 50 == 4:
            lines.append(json.dumps({**rec, "id": f"bad{i}", "latency_ms": -1}))
        if i % 50 == 5:
            lines.append("")
            lines.append(json.dumps(OTLP_LINE))
            lines.append(json.dumps({"kind": "feedback", "interaction_id": f"i{i}", "ts": TS}))
        if i % 50 == 6:
            lines.append(json.dumps({"kind": "step", "session_id": "s", "ts": TS, "name": "x"}))
            lines.append(b"\xff\xfe".decode("latin-1"))  # not UTF-8 once encoded below
    data = "\n".join(lines).encode("utf-8").replace("ÿþ".encode(), b"\xff\xfe")
    path.write_bytes(data)  # no newline at the end: the last block is a tail


def sequential(
    path: Path, redactor: Redactor
) -> tuple[list[Any], list[BadLine], int, dict[str, int]]:
    recs: list[Any] = []
    bad: list[BadLine] = []
    skipped = 0
    counts: dict[str, int] = {}
    for lineno, obj, _ in read_records(path, "jsonl"):
        if obj is SKIPPED:
            skipped += 1
            continue
        rec = accept(lineno, obj, str(path), bad, redactor, counts)
        if rec is not None:
            recs.append(rec)
    return recs, bad, skipped, counts


def test_blocks_keep_line_numbers_and_offsets(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    write_log(path, 300)
    data = path.read_bytes()
    got = list(blocks(path, size=997))
    assert len(got) > 5
    assert b"".join(b for b, _, _ in got) == data
    for block, first_line, pos in got:
        assert data[pos : pos + len(block)] == block
        assert first_line == data[:pos].count(b"\n") + 1
        assert block.endswith(b"\n") or pos + len(block) == len(data)


def test_worker_blocks_equal_the_sequential_reader(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    write_log(path, 300)
    redactor = Redactor()
    want = sequential(path, redactor)
    pool = WorkerPool(redactor)
    try:
        prepared = list(parallel_blocks(pool, path, size=1500))
        assert not pool.failed
    finally:
        pool.close()
    local = [prepare_block(b, str(path), line, pos, redactor) for b, line, pos in blocks(path, 700)]
    for parts in (prepared, local):
        recs = [r for p in parts for r in p.records]
        bad = [b for p in parts for b in p.bad]
        counts: dict[str, int] = {}
        for p in parts:
            for k, v in p.redactions.items():
                counts[k] = counts.get(k, 0) + v
        assert (recs, bad, sum(p.skipped for p in parts), counts) == want
    assert [b.line for b in want[1]][:3] == [5, 7, 14]


def test_parallel_import_report_and_store_equal_sequential(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    write_log(path, 400)
    docs = []
    rows = []
    for parallel in (False, True):
        with Store(f"sqlite:///{tmp_path}/{parallel}.db") as store:
            seen: list[int] = []

            def note(_path: Path, pos: int, seen: list[int] = seen) -> None:
                seen.append(pos)

            rep = ingest_files(
                [path],
                store,
                redactor=Redactor(),
                batch_size=64,
                parallel=parallel,
                progress=note,
            )
            docs.append(rep.to_json())
            rows.append(
                (
                    [(r["id"], r["input"], r["metadata"]) for r in store.interactions()],
                    store.count("feedback"),
                    store.count("steps"),
                )
            )
            assert seen[-1] == path.stat().st_size
    assert docs[0] == docs[1]
    assert rows[0] == rows[1]
    assert docs[0]["n_bad"] > 20 and docs[0]["redactions"]["email"] > 50


def test_rows_for_sqlite_and_a_dead_worker_is_replaced_locally(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    write_log(path, 300)
    redactor = Redactor()
    recs, bad, _, _ = sequential(path, redactor)
    want = [sqlite_interaction_row(r) if type(r) is CheckedInteraction else r for r in recs]
    pool = WorkerPool(redactor, sqlite_rows=True)
    got: list[Any] = []
    try:
        for i, part in enumerate(parallel_blocks(pool, path, size=900)):
            got.extend(part.records)
            if i == 1:
                assert pool._proc is not None
                pool._proc.kill()  # the rest must still come back, prepared here
    finally:
        pool.close()
    assert pool.failed
    assert got == want and any(type(r) is tuple for r in got)


def test_strings_are_scanned_only_when_a_block_can_hold_nul_or_surrogates() -> None:
    """``needs_cleaning`` finds every JSON escape that decodes to a NUL or a surrogate; a
    block without one is validated with ``clean=False`` and gives the same records and
    refusals as the full scan (lengths, non-finite numbers deep in metadata, big ints)."""
    from pilotgate.ingest._sanitise import needs_cleaning

    for hostile in (b'"\\u0000"', b'"\\ud800"', b'"\\uDFFF"', b'"\\uD83D\\uDE00"'):
        assert needs_cleaning(b'{"input": ' + hostile + b"}")
    assert not needs_cleaning(b'{"input": "caf\\u00e9 \\u2028 \\n plain"}')
    base = {"kind": "interaction", "ts": "2026-05-01T12:00:00Z", "feature": "f", "input": "q"}
    objs = [
        {**base, "id": "ok", "input": "caf\u00e9", "metadata": {"k": [1.5, {"x": "y"}]}},
        {**base, "id": "long", "user_id": "u" * 201},
        {**base, "id": "deep", "metadata": {"k": [{"x": float("inf")}]}},
        {**base, "id": "big", "tokens_in": 2**40},
        {**base, "id": "err", "error": "E" * 300},
        {"kind": "feedback", "interaction_id": "ok", "ts": base["ts"], "comment": "\t"},
    ]
    data = "".join(json.dumps(o) + "\n" for o in objs).encode()
    assert not needs_cleaning(data)
    fast = prepare_block(data, "f.jsonl", 1, 0, None)
    outcomes: list[Any] = []
    for o in objs:
        try:
            outcomes.append(validate_record(json.loads(json.dumps(o)), clean=True))
        except InvalidRecord as exc:
            outcomes.append(str(exc))
    assert fast.records == [r for r in outcomes if not isinstance(r, str)]
    assert [b.error for b in fast.bad] == [r for r in outcomes if isinstance(r, str)]
    assert [b.line for b in fast.bad] == [2, 3, 4]


def test_the_worker_process_starts_without_the_store() -> None:
    """The worker only decodes, validates and redacts: importing what it runs must not load
    SQLAlchemy and the store (~0.4 s of CPU at the start of every parallel import)."""
    code = (
        "import sys, pilotgate.ingest._worker, pilotgate.ingest._parallel; "
        "print(sorted(m for m in ('sqlalchemy', 'pilotgate.store') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
